"""``synthcase generate`` on a linked release folder: linked records again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import synthcase as sc
from synthcase.cli import app

SAMPLE = Path(sc.__file__).parent / "data" / "ma2019.csv"
COLUMNS = ["victim_id", "gender", "age", "relation", "paid", "region"]
runner = CliRunner()


def invoke(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def cases() -> pd.DataFrame:
    """300 invented victims with 1 to 7 links each (``region`` is the victim's)."""
    rng = np.random.default_rng(11)
    rows = []
    for victim in range(300):
        gender = rng.choice(["Woman", "Man"], p=[0.6, 0.4])
        age = rng.choice(["Minor", "Adult"], p=[0.3, 0.7])
        region = rng.choice(["Africa", "Asia", "Europe"])
        for _ in range(int(rng.choice([1, 1, 1, 2, 2, 3, 4, 7]))):
            relation = rng.choice(["Family", "Employer", "Stranger"])
            paid = rng.choice(["1", ""])
            rows.append((f"V{victim:04d}", gender, age, relation, paid, region))
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A linked release at epsilon 2, levels declared."""
    folder = tmp_path_factory.mktemp("linked")
    source = folder / "cases.csv"
    cases().to_csv(source, index=False)
    out = folder / "release"
    result = invoke(
        "run", source, "-o", out, "--subject-id", "victim_id", "--epsilon", "2",
        "--seed", "1", "--subject-columns", "gender,age,region", "--no-evaluate",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def links_per_subject(folder: Path) -> pd.Series:
    frame = pd.read_csv(folder / "synthetic.csv", dtype=str)
    return frame.groupby("victim_id").size()


def test_generate_writes_linked_records_in_the_input_layout(
    release: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    result = invoke("generate", release, "-o", out, "--seed", "4")
    assert result.exit_code == 0, result.output

    assert {p.name for p in out.iterdir()} == {
        "PRIVACY.md",
        "aggregates.tsv",
        "link_aggregates.tsv",
        "release.json",
        "showcase.html",
        "synthetic.csv",
    }
    synthetic = pd.read_csv(out / "synthetic.csv", dtype=str)
    assert list(synthetic.columns) == COLUMNS
    assert synthetic["victim_id"].str.fullmatch(r"S\d{6}").all()
    links = synthetic.groupby("victim_id").size()
    assert (links > 1).sum() > 50, links.value_counts()
    # Subject-level values are the same on every link of a subject.
    assert (synthetic.groupby("victim_id")["gender"].nunique(dropna=False) == 1).all()
    assert set(synthetic["relation"].dropna()) == {"Family", "Employer", "Stranger"}

    # Both draws follow the same protected links histogram.
    original = links_per_subject(release)
    assert links.mean() == pytest.approx(original.mean(), rel=0.2), (
        links.mean(),
        original.mean(),
    )
    before = json.loads((release / "release.json").read_text(encoding="utf-8"))
    after = json.loads((out / "release.json").read_text(encoding="utf-8"))
    assert after["synthetic_subjects"] == before["privacy"]["estimated_subject_count"]
    assert after["synthetic_subjects"] == links.size
    assert after["synthetic_records"] == len(synthetic)


def test_generate_keeps_the_accounting_and_says_it_is_a_resynthesis(
    release: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    assert invoke("generate", release, "-o", out, "--seed", "4").exit_code == 0
    before = json.loads((release / "release.json").read_text(encoding="utf-8"))
    after = json.loads((out / "release.json").read_text(encoding="utf-8"))
    assert after["privacy"] == before["privacy"]
    assert after["parameters"]["dp"] == before["parameters"]["dp"]
    assert after["mode"] == "dp-linked"
    assert after["resynthesis"]["release_created"] == before["created"]
    assert after["parameters"]["synthesis"]["seed"] == 4
    statement = (out / "PRIVACY.md").read_text(encoding="utf-8")
    assert "no new budget was spent" in statement
    assert f"{after['synthetic_subjects']:,} synthetic victims" in statement
    # The protected counts are carried over, not changed.
    for name in ("aggregates.tsv", "link_aggregates.tsv"):
        old = (release / name).read_text(encoding="utf-8").splitlines()
        new = (out / name).read_text(encoding="utf-8").splitlines()
        assert sorted(new) == sorted(old), name


def test_the_same_seed_gives_the_same_records(release: Path, tmp_path: Path) -> None:
    texts = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        result = invoke("generate", release, "-o", tmp_path / name, "--seed", seed)
        assert result.exit_code == 0, result.output
        texts.append((tmp_path / name / "synthetic.csv").read_text(encoding="utf-8"))
    assert texts[0] == texts[1]
    assert texts[0] != texts[2]


def test_records_sets_the_number_of_subjects(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "few"
    result = invoke("generate", release, "-o", out, "--records", "40", "--seed", "2")
    assert result.exit_code == 0, result.output
    links = links_per_subject(out)
    assert links.size == 40
    assert links.sum() > 40
    after = json.loads((out / "release.json").read_text(encoding="utf-8"))
    assert after["synthetic_subjects"] == 40
    assert after["parameters"]["synthesis"]["subjects"] == 40


def test_a_missing_link_aggregates_file_is_named_with_the_fix(
    release: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(release, broken)
    (broken / "link_aggregates.tsv").unlink()
    result = invoke("generate", broken, "-o", tmp_path / "out", "--seed", "1")
    assert result.exit_code == 2
    assert "link_aggregates.tsv" in result.output
    assert "is missing" in result.output
    assert "restore" in result.output
    assert not (tmp_path / "out").exists()


def test_link_aggregates_from_another_release_are_refused(
    release: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(release, broken)
    path = broken / "link_aggregates.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    count = next(i for i, line in enumerate(lines) if line.startswith("record_count"))
    name, value = lines[count].split("\t")
    lines[count] = f"{name}\t{int(value) + 5}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("generate", broken, "-o", tmp_path / "out", "--seed", "1")
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "link_aggregates.tsv" in output
    assert f"protected count {int(value) + 5}, release.json says {value}" in output
    assert "restore it" in output


def test_flat_only_flags_are_refused_for_a_linked_release(
    release: Path, tmp_path: Path
) -> None:
    result = invoke(
        "generate", release, "-o", tmp_path / "out", "--weight-percentile", "90"
    )
    assert result.exit_code == 2
    assert "--weight-percentile applies to flat releases only" in " ".join(
        result.output.split()
    )


def test_a_flat_release_still_generates_one_row_per_record(tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    result = invoke(
        "aggregate", SAMPLE, "-o", flat, "--epsilon", "4", "-r", "2",
        "--null", "N", "--columns", "SEX,MSP,EDU",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = tmp_path / "gen"
    result = invoke("generate", flat, "-o", out, "--records", "80", "--seed", "3")
    assert result.exit_code == 0, result.output
    synthetic = pd.read_csv(out / "synthetic.csv", dtype=str)
    assert list(synthetic.columns) == ["SEX", "MSP", "EDU"]
    assert len(synthetic) == 80
    assert not (out / "link_aggregates.tsv").exists()
    meta = json.loads((out / "release.json").read_text(encoding="utf-8"))
    assert meta["mode"] == "dp-aggregate-seeded"
    assert "resynthesis" not in meta


def test_a_linked_folder_is_replaced_with_force(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    assert invoke("generate", release, "-o", out, "--seed", "4").exit_code == 0
    first = (out / "synthetic.csv").read_bytes()
    refused = invoke("generate", release, "-o", out, "--seed", "5")
    assert refused.exit_code != 0
    assert (out / "synthetic.csv").read_bytes() == first
    replaced = invoke("generate", release, "-o", out, "--seed", "5", "--force")
    assert replaced.exit_code == 0, replaced.output
    assert (out / "link_aggregates.tsv").is_file()
    assert (out / "synthetic.csv").read_bytes() != first
