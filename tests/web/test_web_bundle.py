"""The workspace behind the pages, runs, and what each download holds."""

from __future__ import annotations

import io
import pathlib
import time
import zipfile
from importlib import resources

import pytest

from synthcase.errors import DataError, ParameterError
from synthcase.evaluate import evaluate_release
from synthcase.k_anonymity import KAnonymitySettings
from synthcase.measure import DPSettings
from synthcase.prepare import BinSpec
from synthcase.synthesize import SynthesisSettings
from synthcase.web.bundle import (
    RELEASABLE,
    evaluation_zip,
    releasable_zip,
    sensitive_csv,
    showcase_available,
)
from synthcase.web.evaluation import evaluate_run, evaluation_available
from synthcase.web.state import Run, Workspace

# The first 800 records keep these tests fast.
MA2019 = b"\n".join(
    (resources.files("synthcase") / "data" / "ma2019.csv")
    .read_bytes()
    .split(b"\n")[:801]
)


def wait(run: Run) -> Run:
    deadline = time.monotonic() + 60
    while run.active and time.monotonic() < deadline:
        time.sleep(0.05)
    return run


@pytest.fixture
def workspace(tmp_path: pathlib.Path) -> Workspace:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    space = Workspace(private, 10_000_000)
    space.load("ma2019.csv", MA2019)
    space.preparation.null_tokens = ["N"]
    space.preparation.bins["AGEP"] = BinSpec.parse("AGEP=0,18,30,45,65,100")
    space.prepare()
    space.selection.columns = ["AGEP", "SEX", "MSP"]
    space.selection.k = 5
    yield space
    space.close()


def test_columns_with_many_values_start_dropped(workspace: Workspace) -> None:
    assert workspace.table_error is None
    many = {p.name for p in workspace.profiles if p.distinct > 100}
    assert "PINCP" in many
    assert workspace.preparation.dropped == many
    assert workspace.table is not None and "AGEP" in workspace.table.columns
    agep = workspace.table.categories[workspace.table.columns.index("AGEP")]
    assert agep == ("[0,18)", "[18,30)", "[30,45)", "[45,65)", "[65,100]")


def test_library_error_is_kept_for_the_page(workspace: Workspace) -> None:
    workspace.preparation.bins["AGEP"] = BinSpec.parse("AGEP=20,30")
    workspace.prepare()
    assert workspace.table is None
    assert "outside the declared range [20, 30]" in (workspace.table_error or "")


def test_bad_upload_keeps_the_previous_file(workspace: Workspace) -> None:
    with pytest.raises(DataError, match="cannot be read as an Excel workbook"):
        workspace.load("broken.xlsx", b"PK\x03\x04 broken")
    assert workspace.source_name == "ma2019.csv"


def test_recode_merges_values(workspace: Workspace) -> None:
    workspace.preparation.recodes["MSP"] = {"2": "1", "3": "1"}
    workspace.prepare()
    assert workspace.table is not None
    msp = workspace.table.categories[workspace.table.columns.index("MSP")]
    assert "2" not in msp and "3" not in msp and "1" in msp


def test_releasable_zip_holds_only_releasable_files(
    workspace: Workspace, tmp_path: pathlib.Path
) -> None:
    run = wait(
        workspace.start_run(
            DPSettings(epsilon=4, reporting_length=2), SynthesisSettings(seed=3)
        )
    )
    assert run.status == "done", run.error
    assert run.release is not None and run.duration is not None
    data = releasable_zip(run.release, workspace.folder, "release-1")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        contents = {name: archive.read(name) for name in names}
    # link_aggregates.tsv is written by linked releases only.
    expected = [f"release-1/{f}" for f in RELEASABLE if f != "link_aggregates.tsv"]
    if not showcase_available():
        expected.remove("release-1/showcase.html")
    assert sorted(names) == sorted(expected)
    header = contents["release-1/synthetic.csv"].decode().splitlines()[0]
    assert header == "AGEP,SEX,MSP"
    assert workspace.table is not None
    sensitive = sensitive_csv(workspace.table)
    assert sensitive not in contents.values()
    assert list(workspace.folder.iterdir()) == []


def test_sensitive_downloads_are_separate(workspace: Workspace) -> None:
    assert workspace.table is not None
    lines = sensitive_csv(workspace.table).decode().splitlines()
    assert lines[0].split(",")[:3] == ["PUMA", "AGEP", "SEX"]
    assert len(lines) == 1 + 800
    run = wait(
        workspace.start_run(
            DPSettings(epsilon=4, reporting_length=2), SynthesisSettings(seed=3)
        )
    )
    data = evaluation_zip(run, workspace.folder, "NOT-FOR-SHARING-evaluation-1")
    if not evaluation_available():
        assert data is None
        return
    assert data is not None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    assert "NOT-FOR-SHARING-evaluation-1/report.html" in names
    assert not any(name.endswith(RELEASABLE) for name in names)


def test_cancel_and_failure_release_nothing(workspace: Workspace) -> None:
    blocked = workspace.start_run(DPSettings(epsilon=4), SynthesisSettings())
    blocked.cancel.set()
    too_long = workspace.start_run(
        DPSettings(epsilon=4, reporting_length=5), SynthesisSettings()
    )
    assert wait(blocked).status == "cancelled"
    assert wait(too_long).status == "failed"
    assert "reporting_length 5" in (too_long.error or "")
    assert blocked.release is None and too_long.release is None
    assert workspace.finished_runs() == []


def test_nothing_to_run_without_columns(workspace: Workspace) -> None:
    workspace.selection.columns = []
    with pytest.raises(DataError, match="select at least one column"):
        workspace.start_run(DPSettings(epsilon=4), SynthesisSettings())


def test_person_identifier_links_rows(workspace: Workspace) -> None:
    workspace.preparation.subject_id = "PUMA"
    workspace.prepare(profile=False)
    assert workspace.table is not None, workspace.table_error
    assert "PUMA" not in workspace.table.columns
    assert workspace.table.subject_ids is not None
    assert len(set(workspace.table.subject_ids.tolist())) == 5
    # A DP run with a person identifier is a linked release: the person is
    # the privacy unit and the records keep the input's layout.
    run = wait(
        workspace.start_run(
            DPSettings(epsilon=4, reporting_length=2, delta=1e-6),
            SynthesisSettings(seed=3),
        )
    )
    assert run.read.subject_id == "PUMA"
    assert run.status == "done", run.error
    assert run.mode == "dp-linked" and run.release is not None
    assert run.release.metadata["privacy"]["unit"] == "puma"
    assert run.release.synthetic is not None
    assert list(run.release.synthetic.columns) == ["PUMA", "AGEP", "SEX", "MSP"]


def test_k_anonymous_run_releases_in_the_same_layout(
    workspace: Workspace,
) -> None:
    run = wait(
        workspace.start_k_run(
            "row-seeded", KAnonymitySettings(resolution=5, reporting_length=2, seed=3)
        )
    )
    assert run.status == "done", run.error
    assert run.mode == "k-anonymity-row-seeded" and run.dp is None
    assert (run.method, run.guarantee) == ("k-anonymity, row-seeded", "k = 5")
    assert run.reporting_length == 2 and run.seed == 3 and run.k == 5
    assert run.release is not None
    assert run.release.metadata["mode"] == "k-anonymity-row-seeded"
    assert run.release.metadata["privacy"]["resolution"] == 5
    data = releasable_zip(run.release, workspace.folder, "release-1")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        header = archive.read("release-1/synthetic.csv").decode().splitlines()[0]
    assert header == "AGEP,SEX,MSP"
    if evaluation_available():
        evaluation = evaluate_run(run)
        assert run.table is not None and run.release.synthetic is not None
        expected = evaluate_release(
            run.table,
            run.release.synthetic,
            run.release.aggregates,
            reporting_length=2,
            resolution=5,
        )
        assert evaluation.k_marginal == expected.k_marginal


def test_value_seeded_run_keeps_its_oversampling(workspace: Workspace) -> None:
    settings = KAnonymitySettings(
        resolution=5, reporting_length=2, seed=1, oversampling_ratio=0.1
    )
    run = wait(workspace.start_k_run("value-seeded", settings))
    assert run.status == "done", run.error
    assert run.summary() == {
        "reporting length": 2,
        "columns": 3,
        "oversampling ratio": 0.1,
        "oversampling tries": 10,
        "seed": 1,
    }


def test_k_anonymity_refuses_linked_records_before_queueing(
    workspace: Workspace,
) -> None:
    workspace.preparation.subject_id = "PUMA"
    workspace.prepare(profile=False)
    with pytest.raises(ParameterError, match="several rows may belong to one"):
        workspace.start_k_run(
            "row-seeded", KAnonymitySettings(resolution=5, reporting_length=2)
        )
    assert workspace.runs == []


def test_dp_run_with_a_model(workspace: Workspace) -> None:
    run = wait(
        workspace.start_run(
            DPSettings(epsilon=4, reporting_length=2, model_share=0.5),
            SynthesisSettings(seed=3),
            forbid_unlisted=True,
        )
    )
    assert run.status == "done", run.error
    assert run.mode == "dp-model" and run.method == "DP, model"
    assert run.release is not None and run.release.mode == "dp-model"
    assert run.release.metadata["parameters"]["model"]["forbid_unlisted"] is True
    privacy = run.release.metadata["privacy"]
    assert run.guarantee == f"ε {privacy['epsilon']:.4g} · δ {privacy['delta']:.4g}"
    assert run.summary()["model share"] == 0.5
    assert run.summary()["only listed combinations"] == "yes"
