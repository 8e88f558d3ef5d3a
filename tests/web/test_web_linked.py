"""Linked runs of the web app: a person identifier and multi-value columns."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time

import pandas as pd
import pytest

from synthcase.errors import ParameterError
from synthcase.k_anonymity import KAnonymitySettings
from synthcase.measure import DPSettings
from synthcase.synthesize import SynthesisSettings
from synthcase.web.evaluation import evaluate_run
from synthcase.web.state import LINKED_MODE, Run, Workspace

MAKER = pathlib.Path("/work/shared/data/ctdc-shaped/make_linked_cases.py")
pytestmark = pytest.mark.skipif(
    not MAKER.is_file(), reason="the linked-file generator is not on this machine"
)
COLUMNS = ["gender", "majorityStatus", "IP_Gender", "IP_Relation", "forms"]


def wait(run: Run) -> Run:
    deadline = time.monotonic() + 120
    while run.active and time.monotonic() < deadline:
        time.sleep(0.05)
    return run


@pytest.fixture
def workspace(tmp_path: pathlib.Path) -> Workspace:
    """A linked file of 800 victims with a multi-value column ``forms``."""
    made = tmp_path / "linked.csv"
    subprocess.run(
        [
            sys.executable,
            str(MAKER),
            "--victims",
            "800",
            "--seed",
            "3",
            "-o",
            str(made),
        ],
        check=True,
        capture_output=True,
    )
    frame = pd.read_csv(made, dtype=str)
    forms = frame["isForcedLabour"].map({"1": "labour", "0": ""}) + ";"
    forms += frame["isSexualExploit"].map({"1": "sexual", "0": ""})
    frame["forms"] = forms.str.strip(";")
    frame = frame[["victim_id", *COLUMNS]]
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    space = Workspace(private, 10_000_000)
    space.load("linked.csv", frame.to_csv(index=False).encode())
    space.preparation.subject_id = "victim_id"
    space.prepare(profile=False)
    yield space
    space.close()


def dp_run(space: Workspace) -> Run:
    return wait(
        space.start_run(
            DPSettings(epsilon=2.0, reporting_length=2, model_share=0.5),
            SynthesisSettings(seed=5),
        )
    )


def test_subject_id_runs_a_linked_release(
    workspace: Workspace, tmp_path: pathlib.Path
) -> None:
    assert workspace.table_error is None
    assert workspace.selection.columns == COLUMNS
    run = dp_run(workspace)
    assert run.status == "done", run.error
    assert run.mode == LINKED_MODE == "dp-linked"
    assert run.method == "DP, linked records"
    summary = run.summary()
    assert summary["person identifier"] == "victim_id"
    assert summary["multi-value columns"] == 0 and "model share" not in summary
    assert run.release is not None
    folder = tmp_path / "release"
    run.release.save(folder)
    assert (folder / "link_aggregates.tsv").is_file()
    synthetic = pd.read_csv(folder / "synthetic.csv", dtype=str)
    assert list(synthetic.columns) == ["victim_id", *COLUMNS]
    assert synthetic["victim_id"].str.match(r"^S\d{6}$").all()
    metadata = json.loads((folder / "release.json").read_text())
    assert metadata["mode"] == "dp-linked"
    assert metadata["subject_id"] == "victim_id"
    assert metadata["privacy"]["unit"] == "victim"
    assert metadata["multi_value"] == []
    # The steward's evaluation is the linked one, with the victim as unit.
    evaluation = evaluate_run(run)
    assert evaluation.unit == "victim" and evaluation.subject_id == "victim_id"
    assert evaluation.links_per_subject.sensitive_subjects == 800


def test_multi_value_column_is_accepted(
    workspace: Workspace, tmp_path: pathlib.Path
) -> None:
    workspace.selection.multi_value = ["forms"]
    run = dp_run(workspace)
    assert run.status == "done", run.error
    assert run.linked is not None
    assert [(m.column, m.delimiter) for m in run.linked.multi_value] == [("forms", ";")]
    assert run.release is not None
    folder = tmp_path / "release"
    run.release.save(folder)
    metadata = json.loads((folder / "release.json").read_text())
    (declared,) = metadata["multi_value"]
    assert declared["column"] == "forms" and declared["delimiter"] == ";"
    assert set(declared["released_values"]) == {"labour", "sexual"}
    synthetic = pd.read_csv(folder / "synthetic.csv", dtype=str)
    cells = set(synthetic["forms"].dropna())
    assert cells <= {"labour", "sexual", "labour;sexual"}
    assert {v for cell in cells for v in cell.split(";")} == {"labour", "sexual"}


def test_multi_value_needs_a_subject_id(workspace: Workspace) -> None:
    workspace.preparation.subject_id = None
    workspace.prepare(profile=False)
    workspace.selection.multi_value = ["forms"]
    with pytest.raises(ParameterError, match="person identifier"):
        workspace.start_run(DPSettings(epsilon=1.0), SynthesisSettings())
    assert workspace.runs == []


def test_blank_delimiter_is_refused(workspace: Workspace) -> None:
    workspace.selection.multi_value = ["forms"]
    workspace.selection.delimiter = " "
    with pytest.raises(ParameterError, match="delimiter"):
        workspace.start_run(DPSettings(epsilon=1.0), SynthesisSettings())


def test_k_anonymity_still_refuses_a_subject_id(workspace: Workspace) -> None:
    with pytest.raises(ParameterError):
        workspace.start_k_run("row-seeded", KAnonymitySettings(resolution=5))
    assert workspace.runs == []
