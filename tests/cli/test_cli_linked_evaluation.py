"""The steward's evaluation of linked releases on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthcase.cli import app
from synthcase.cli.evaluation import (
    link_bins_from_labels,
    linked_schema_from_release,
    read_options_from_release,
)
from synthcase.errors import DataError

runner = CliRunner()
RELEASE_FILES = {
    "PRIVACY.md",
    "aggregates.tsv",
    "link_aggregates.tsv",
    "release.json",
    "showcase.html",
    "synthetic.csv",
}


def invoke(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def cases() -> pd.DataFrame:
    """240 invented victims with 1 to 7 links each; unknown cells say 'unknown'."""
    rng = np.random.default_rng(4)
    rows = []
    for victim in range(240):
        gender = rng.choice(["Woman", "Man"], p=[0.6, 0.4])
        age = rng.choice(["Minor", "Adult"], p=[0.3, 0.7])
        for _ in range(int(rng.choice([1, 1, 1, 2, 2, 3, 4, 7]))):
            relation = rng.choice(["Family", "Employer", "Stranger", "unknown"])
            rows.append(
                (f"V{victim:04d}", gender, age, relation, rng.choice(["1", ""]))
            )
    return pd.DataFrame(
        rows, columns=["victim_id", "gender", "age", "relation", "paid"]
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    # A semicolon file read with --delimiter: evaluate must read it the same way.
    cases().to_csv(path, index=False, sep=";")
    return path


def linked_run(source: Path, out: Path, *extra: object):  # type: ignore[no-untyped-def]
    return invoke(
        "run", source, "-o", out, "--subject-id", "victim_id", "--epsilon", "4",
        "--seed", "1", "--subject-columns", "gender,age", "--delimiter", ";",
        "--null", "unknown", *extra,
    )  # fmt: skip


def test_a_linked_run_writes_its_evaluation_and_nothing_sensitive_in_the_release(
    source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "release"
    result = linked_run(source, out)
    assert result.exit_code == 0, result.output
    assert "Evaluation written to" in result.output

    evaluation = tmp_path / "release.sensitive_evaluation"
    assert (evaluation / "report.html").is_file()
    figures = json.loads((evaluation / "evaluation.json").read_text(encoding="utf-8"))
    assert figures["release"] == "linked"
    assert figures["unit"] == "victim"
    frame = cases()
    links = figures["links"]["links_per_subject"]
    assert links["sensitive_subjects"] == 240
    assert links["sensitive_links"] == len(frame)
    assert links["sensitive_mean"] == pytest.approx(len(frame) / 240)
    assert figures["links"]["columns"] == ["relation", "paid"]
    assert [row["kind"] for row in figures["links"]["distances_by_kind"]] == [
        "subject",
        "subject x subject",
        "link",
        "subject x link",
        "link x link",
    ]
    page = (evaluation / "report.html").read_text(encoding="utf-8")
    # 'unknown' was read as absent, as in the release.
    assert "Stranger" in page
    assert "unknown" not in page
    assert "Linked release evaluation" in page
    assert "Sensitive: do not share." in page

    # The release folder holds the release only: no evaluation file, and
    # none of the evaluation's exact figures, in the folder or on screen.
    assert {p.name for p in out.iterdir()} == RELEASE_FILES
    exact = [
        repr(links["sensitive_mean"]),
        repr(links["sensitive_single_share"]),
        repr(figures["subjects"]["sensitive_risk"]["rare_share"]),
        repr(figures["links"]["distances"][0]["distance"]),
    ]
    texts = [p.read_text(encoding="utf-8") for p in out.iterdir()]
    for figure in exact:
        assert not any(figure in text for text in texts), figure
        assert figure not in result.output
    assert not any("sensitive_links" in text for text in texts)


def test_evaluate_reads_the_linked_file_again_and_agrees_with_run(
    source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "release"
    assert linked_run(source, out).exit_code == 0
    first = tmp_path / "release.sensitive_evaluation" / "evaluation.json"

    refused = invoke("evaluate", source, out)
    assert refused.exit_code == 2
    assert "already holds an evaluation" in refused.output
    again = tmp_path / "again"
    result = invoke("evaluate", source, out, "-o", again)
    assert result.exit_code == 0, result.output
    assert json.loads((again / "evaluation.json").read_text()) == json.loads(
        first.read_text()
    )
    assert invoke("evaluate", source, out, "--force").exit_code == 0


def test_no_evaluate_skips_the_linked_evaluation(source: Path, tmp_path: Path) -> None:
    result = linked_run(source, tmp_path / "release", "--no-evaluate")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "release.sensitive_evaluation").exists()


def test_an_earlier_evaluation_stops_the_run_before_any_budget_is_spent(
    source: Path, tmp_path: Path
) -> None:
    earlier = tmp_path / "release.sensitive_evaluation"
    earlier.mkdir()
    (earlier / "evaluation.json").write_text("{}")
    result = linked_run(source, tmp_path / "release")
    assert result.exit_code == 2
    assert "already holds an evaluation" in result.output
    assert not (tmp_path / "release").exists()
    assert (earlier / "evaluation.json").read_text() == "{}"


def test_a_linked_release_json_gives_the_read_options_and_the_layout() -> None:
    metadata = {
        "mode": "dp-linked",
        "columns": ["gender", "forms[labour]", "links_per_subject"],
        "input_columns": ["victim_id", "gender", "relation", "forms"],
        "subject_id": "victim_id",
        "subject_columns": ["gender"],
        "link_columns": ["relation", "forms"],
        "multi_value": [
            {"column": "forms", "delimiter": "|", "released_values": ["labour"]}
        ],
        "reporting_length": 2,
        "privacy": {"unit": "victim", "link_bins": ["1", "2", "3-5", "6+"]},
        "input": {"null_tokens": ["N"], "delimiter": ";", "out_of_range": "clip"},
    }
    read = read_options_from_release(metadata)
    assert read.columns == ("gender", "relation", "forms")
    assert read.subject_id == "victim_id"
    assert (read.null_tokens, read.delimiter, read.out_of_range) == (
        ("N",),
        ";",
        "clip",
    )
    schema = linked_schema_from_release(metadata)
    assert schema.presence == (("forms[labour]", "forms", "labour"),)
    assert schema.delimiters == (("forms", "|"),)
    assert schema.links_column == "links_per_subject"
    assert schema.link_bins.labels() == ("1", "2", "3-5", "6+")
    assert schema.link_bins.bin_of(np.array([1, 5, 6, 99])).tolist() == [0, 2, 3, 3]

    del metadata["subject_columns"]
    with pytest.raises(DataError, match="lacks 'subject_columns'"):
        linked_schema_from_release(metadata)


def test_link_bins_come_back_from_their_labels() -> None:
    assert link_bins_from_labels(["1", "2-3", "4+"]).labels() == ("1", "2-3", "4+")
    with pytest.raises(DataError, match="'many' is not a bin label"):
        link_bins_from_labels(["1", "many"])


def test_the_link_risk_uses_the_reporting_length_asked_for(
    source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "release"
    result = invoke(
        "run", source, "-o", out, "--subject-id", "victim_id", "--epsilon", "4",
        "--seed", "1", "--subject-columns", "gender", "--delimiter", ";",
        "--null", "unknown", "-r", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "release.json").read_text())
    # Two person columns (gender and links per person) cut the person R to 2.
    assert meta["reporting_length"] == 2
    figures = json.loads(
        (tmp_path / "release.sensitive_evaluation" / "evaluation.json").read_text()
    )
    lengths = [row["length"] for row in figures["links"]["sensitive_risk"]["by_length"]]
    assert lengths == [1, 2, 3]
