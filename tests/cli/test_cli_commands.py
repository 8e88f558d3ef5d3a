"""The command line: commands, exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import synthcase as sc
from synthcase.cli import app

SAMPLE = Path(sc.__file__).parent / "data" / "ma2019.csv"
runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def test_run_writes_a_release_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(
        "run", SAMPLE, "-o", out, "--epsilon", "4", "--reporting-length", "3",
        "--null", "N", "--columns", "AGEP,SEX,MSP,EDU",
        "--bin", "AGEP=0,18,30,45,65,120", "--seed", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Release written to" in result.output
    synthetic = pd.read_csv(out / "synthetic.csv", dtype=str)
    assert list(synthetic.columns) == ["AGEP", "SEX", "MSP", "EDU"]
    meta = json.loads((out / "release.json").read_text())
    assert meta["input"]["bins"] == ["AGEP=0,18,30,45,65,120"]
    assert meta["privacy"]["epsilon"] <= 4


def test_existing_release_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", SAMPLE, "-o", out, "--epsilon", "4", "-r", "2", "--null", "N",
            "--columns", "SEX,MSP"]  # fmt: skip
    assert invoke(*args).exit_code == 0
    before = (out / "aggregates.tsv").read_text()
    refused = invoke(*args)
    assert refused.exit_code == 2
    assert "--force" in refused.output
    assert (out / "aggregates.tsv").read_text() == before  # nothing lost
    assert invoke(*args, "--force").exit_code == 0


def test_a_folder_with_other_files_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = invoke("run", SAMPLE, "-o", out, "--epsilon", "1", "--null", "N",
                    "--columns", "SEX", "-r", "1", "--force")  # fmt: skip
    assert result.exit_code == 2
    assert "not part of a release" in result.output
    assert (out / "notes.txt").read_text() == "keep me"


def test_output_folder_may_not_hold_the_input(tmp_path: Path) -> None:
    data = tmp_path / "cases.csv"
    data.write_text("a,b\nx,y\nx,z\n")
    result = invoke("run", data, "-o", tmp_path, "--epsilon", "1", "--force")
    assert result.exit_code == 2
    assert "contains the input" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--epsilon", "0"], "epsilon is 0.0; it must be in (0, inf)"),
        ([], "no privacy budget given; pass --epsilon"),
        (["--epsilon", "1", "--columns", "NOPE"], "NOPE"),
        (["--epsilon", "1", "--columns", "PINCP"], "--bin PINCP="),
        (["--epsilon", "1", "-r", "0"], "reporting_length"),
        (["--epsilon", "1", "--fabrication-mode", "wild"], "fabrication mode 'wild'"),
        (["--epsilon", "1", "--bin", "AGEP=5"], "AGEP"),
        (["--epsilon", "1", "--thresholds", "2=0.5"], "LENGTH:VALUE"),
    ],
)
def test_bad_input_exits_2_with_a_short_message(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    result = invoke("run", SAMPLE, "-o", tmp_path / "o", "--null", "N", *args)
    assert result.exit_code == 2, result.output
    assert fragment in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = invoke("run", tmp_path / "absent.csv", "-o", tmp_path / "o",
                    "--epsilon", "1")  # fmt: skip
    assert result.exit_code == 2
    assert "absent.csv" in result.output


def test_debug_shows_the_exception(tmp_path: Path) -> None:
    result = invoke("--debug", "run", SAMPLE, "-o", tmp_path / "o", "--epsilon", "0")
    assert result.exit_code != 0
    assert isinstance(result.exception, sc.ParameterError)


def test_aggregate_then_generate(tmp_path: Path) -> None:
    agg = tmp_path / "agg"
    result = invoke("aggregate", SAMPLE, "-o", agg, "--epsilon", "4", "-r", "2",
                    "--null", "N", "--columns", "SEX,MSP,EDU")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not (agg / "synthetic.csv").exists()
    gen = tmp_path / "gen"
    result = invoke("generate", agg / "aggregates.tsv", "-o", gen, "--records", "120",
                    "--seed", "9")  # fmt: skip
    assert result.exit_code == 0, result.output
    synthetic = pd.read_csv(gen / "synthetic.csv", dtype=str)
    assert len(synthetic) == 120
    assert list(synthetic.columns) == ["SEX", "MSP", "EDU"]
    meta_a = json.loads((agg / "release.json").read_text())
    meta_g = json.loads((gen / "release.json").read_text())
    assert meta_g["privacy"] == meta_a["privacy"]
    assert meta_g["synthetic_records"] == 120


def test_config_file_and_flags(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[read]\ncolumns = ["SEX", "EDU"]\nnull_tokens = ["N"]\n'
        "[dp]\nepsilon = 3\nreporting_length = 2\n"
    )
    out = tmp_path / "o"
    result = invoke("run", SAMPLE, "-o", out, "--config", config, "--epsilon", "2")
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "release.json").read_text())
    assert meta["parameters"]["dp"]["epsilon"] == 2  # the flag wins
    assert meta["columns"] == ["SEX", "EDU"]


def test_unknown_config_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[dp]\nepsilon = 3\nepsilom = 4\n")
    result = invoke("run", SAMPLE, "-o", tmp_path / "o", "--config", config)
    assert result.exit_code == 2
    assert "epsilom" in result.output


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.startswith("synthcase ")


@pytest.mark.slow
def test_demo_releases_the_bundled_sample(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = invoke("demo", "-o", out, "--seed", "1")
    assert result.exit_code == 0, result.output
    synthetic = pd.read_csv(out / "synthetic.csv", dtype=str)
    assert synthetic.shape[1] == 24
    meta = json.loads((out / "release.json").read_text())
    assert meta["privacy"]["epsilon"] <= 4
    assert "AGEP=0,5,10,15,18" in meta["input"]["bins"][0]
    # The sample's 7,634 records, give or take the count's noise.
    assert abs(meta["protected_record_count"] - 7634) < 600


def test_run_writes_the_evaluation_beside_the_release(tmp_path: Path) -> None:
    out = tmp_path / "rel"
    result = invoke("run", SAMPLE, "-o", out, "--epsilon", "4", "-r", "2",
                    "--null", "N", "--columns", "PUMA,SEX,EDU")  # fmt: skip
    assert result.exit_code == 0, result.output
    evaluation = tmp_path / "rel.sensitive_evaluation"
    assert (evaluation / "report.html").is_file()
    figures = json.loads((evaluation / "evaluation.json").read_text())
    assert 0 < figures["scores"]["k_marginal"] <= 1000
    # Nothing computed against the sensitive data is in the release folder.
    assert sorted(p.name for p in out.iterdir()) == [
        "PRIVACY.md", "aggregates.tsv", "release.json", "showcase.html",
        "synthetic.csv",
    ]  # fmt: skip
    again = invoke("evaluate", SAMPLE, out)
    assert again.exit_code == 2
    assert "already holds an evaluation" in again.output
    other = tmp_path / "elsewhere"
    result = invoke("evaluate", SAMPLE, out, "-o", other)
    assert result.exit_code == 0, result.output
    assert (other / "report.html").is_file()


def test_no_evaluate_writes_only_the_release(tmp_path: Path) -> None:
    out = tmp_path / "rel"
    result = invoke("run", SAMPLE, "-o", out, "--epsilon", "4", "-r", "1",
                    "--null", "N", "--columns", "SEX", "--no-evaluate")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "rel.sensitive_evaluation").exists()


def test_evaluate_needs_a_release_folder(tmp_path: Path) -> None:
    result = invoke("evaluate", SAMPLE, tmp_path)
    assert result.exit_code == 2
    assert "no release.json" in result.output


def test_serve_refuses_a_remote_address_without_the_flag() -> None:
    result = invoke("serve", "--host", "0.0.0.0", "--port", "18999")
    assert result.exit_code == 2
    assert "--allow-remote" in " ".join(result.output.split())


@pytest.mark.parametrize(
    "mode", ["row-seeded", "unseeded", "value-seeded", "aggregate-seeded"]
)
def test_k_anonymity_modes_write_a_release(tmp_path: Path, mode: str) -> None:
    out = tmp_path / mode
    result = invoke("run", SAMPLE, "-o", out, "--mode", mode, "--resolution", "10",
                    "-r", "2", "--null", "N", "--columns", "PUMA,SEX,EDU",
                    "--seed", "4", "--no-evaluate")  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "release.json").read_text())
    assert meta["mode"] == f"k-anonymity-{mode}"
    assert meta["privacy"]["resolution"] == 10
    assert meta["protected_record_count"] % 10 == 0
    counts = [
        int(line.rsplit("\t", 1)[1])
        for line in (out / "aggregates.tsv").read_text().splitlines()[1:]
    ]
    assert all(c >= 10 and c % 10 == 0 for c in counts)
    assert "k = 10" in (out / "PRIVACY.md").read_text()
    assert (out / "showcase.html").is_file()


def test_unknown_mode_is_named(tmp_path: Path) -> None:
    result = invoke("run", SAMPLE, "-o", tmp_path / "o", "--mode", "magic",
                    "--epsilon", "1")  # fmt: skip
    assert result.exit_code == 2
    assert "mode 'magic' is unknown" in result.output


def test_default_dp_mode_fits_a_model_within_one_budget(tmp_path: Path) -> None:
    out = tmp_path / "m"
    result = invoke("run", SAMPLE, "-o", out, "--epsilon", "2", "-r", "2",
                    "--null", "N", "--columns", "PUMA,SEX,MSP,EDU",
                    "--seed", "3", "--no-evaluate")  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "release.json").read_text())
    assert meta["mode"] == "dp-model"
    assert meta["parameters"]["dp"]["model_share"] == 0.5
    assert meta["privacy"]["epsilon"] <= 2
    mechanisms = [s["mechanism"] for s in meta["privacy"]["spends"]]
    assert any("model" in m for m in mechanisms), mechanisms
    assert meta["model_structure"], "the chosen cliques are listed"
    synthetic = pd.read_csv(out / "synthetic.csv", dtype=str)
    assert len(synthetic) == meta["protected_record_count"]


def test_model_share_is_refused_in_the_aggregate_seeded_mode(tmp_path: Path) -> None:
    result = invoke("run", SAMPLE, "-o", tmp_path / "o", "--epsilon", "1",
                    "--mode", "dp-aggregate-seeded",
                    "--model-share", "0.3")  # fmt: skip
    assert result.exit_code == 2
    assert "--mode dp-model" in result.output


LINKED = Path(__file__).resolve().parents[3] / "shared" / "data" / "ctdc-shaped"


@pytest.mark.slow
@pytest.mark.skipif(
    not (LINKED / "linked_cases.csv").is_file(), reason="shared data not beside repo"
)
def test_linked_file_protects_each_victim(tmp_path: Path) -> None:
    out = tmp_path / "linked"
    result = invoke("run", LINKED / "linked_cases.csv", "-o", out,
                    "--subject-id", "victim_id", "--epsilon", "1",
                    "--seed", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    synthetic = pd.read_csv(out / "synthetic.csv", dtype=str)
    header = (LINKED / "linked_cases.csv").read_text().splitlines()[0].split(",")
    assert list(synthetic.columns) == header
    assert synthetic["victim_id"].str.fullmatch(r"S\d+").all()
    meta = json.loads((out / "release.json").read_text())
    assert meta["privacy"]["unit"] == "victim"
    assert meta["privacy"]["epsilon"] <= 1
    assert (out / "link_aggregates.tsv").is_file()
    assert "each **victim**" in (out / "PRIVACY.md").read_text()


def test_declared_values_reach_the_release_and_its_evaluation(tmp_path: Path) -> None:
    out = tmp_path / "v"
    result = invoke("run", SAMPLE, "-o", out, "--epsilon", "2", "-r", "2",
                    "--null", "N", "--columns", "SEX,DEYE,EDU",
                    "--values", "SEX=1,2,3", "--values", "DEYE=1,2",
                    "--seed", "3")  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "release.json").read_text())
    assert meta["input"]["values"] == {"SEX": ["1", "2", "3"], "DEYE": ["1", "2"]}
    assert "declared: SEX, DEYE" in (out / "PRIVACY.md").read_text()
    # The evaluation re-reads the sensitive file with the release's options.
    assert (tmp_path / "v.sensitive_evaluation" / "report.html").is_file()


def test_an_undeclared_value_stops_the_run_with_the_fix(tmp_path: Path) -> None:
    result = invoke("run", SAMPLE, "-o", tmp_path / "x", "--epsilon", "2",
                    "--columns", "SEX,EDU", "--values", "EDU=1,2,3")  # fmt: skip
    assert result.exit_code == 2
    assert "not among its 3 declared values" in result.output
    assert not (tmp_path / "x").exists()


def test_evaluate_rereads_a_headerless_file_with_its_names(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE, dtype=str)[["SEX", "DEYE", "DEAR"]]
    data = tmp_path / "noheader.csv"
    frame.to_csv(data, index=False, header=False)
    out = tmp_path / "h"
    result = invoke("run", data, "-o", out, "--epsilon", "2", "-r", "2",
                    "--names", "SEX,DEYE,DEAR", "--no-evaluate")  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "release.json").read_text())
    assert meta["input"]["names"] == ["SEX", "DEYE", "DEAR"]
    result = invoke("evaluate", data, out)
    assert result.exit_code == 0, result.output
    report = json.loads(
        (tmp_path / "h.sensitive_evaluation" / "evaluation.json").read_text()
    )
    # Every line of a headerless file is a record: none was taken as a header.
    synthetic = len(pd.read_csv(out / "synthetic.csv"))
    assert round(synthetic / report["records"]["record_expansion"]) == len(frame)


def test_the_bundled_config_serves_a_column_subset(tmp_path: Path) -> None:
    config = SAMPLE.parent / "ma2019.toml"
    out = tmp_path / "s"
    result = invoke("run", SAMPLE, "-o", out, "--config", config, "--epsilon", "2",
                    "--columns", "SEX,DENSITY,MSP", "--no-evaluate")  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "release.json").read_text())
    assert meta["input"]["bins"] == []
    assert set(meta["input"]["values"]) == {"SEX", "MSP"}


def test_evaluate_with_the_wrong_file_says_so(tmp_path: Path) -> None:
    out = tmp_path / "w"
    result = invoke("run", SAMPLE, "-o", out, "--epsilon", "2", "-r", "2",
                    "--null", "N", "--columns", "SEX,EDU", "--no-evaluate")  # fmt: skip
    assert result.exit_code == 0, result.output
    other = tmp_path / "other.csv"
    pd.DataFrame({"A": ["1", "2"]}).to_csv(other, index=False)
    result = invoke("evaluate", other, out)
    assert result.exit_code == 2
    assert "Pass the sensitive file this release was made from" in result.output
    assert "'SEX'" in result.output
