"""Linked runs of the web app: a person identifier and multi-value columns.

The browser test walks the linked flow in headless Chromium: a person
identifier, two linked runs with their evaluation, and the downloads.
"""

from __future__ import annotations

import io
import json
import pathlib
import subprocess
import sys
import time
import zipfile
from typing import Any

import pandas as pd
import pytest

from conftest import Server
from synthcase.errors import ParameterError
from synthcase.k_anonymity import KAnonymitySettings
from synthcase.measure import DPSettings
from synthcase.synthesize import SynthesisSettings
from synthcase.web.bundle import RELEASABLE
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


def linked_frame(tmp_path: pathlib.Path) -> pd.DataFrame:
    """A linked file of 800 victims with a multi-value column ``forms``."""
    made = tmp_path / "made.csv"
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
    return frame[["victim_id", *COLUMNS]]


@pytest.fixture
def workspace(tmp_path: pathlib.Path) -> Workspace:
    """The linked file loaded with ``victim_id`` as the person identifier."""
    frame = linked_frame(tmp_path)
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


ALL_DONE = """(n) => {
  const badges = [...document.querySelectorAll('[data-role=run-status]')];
  return badges.length === n && badges.every((b) => b.textContent.trim() === 'done');
}"""


@pytest.mark.browser
def test_linked_flow_in_the_browser(
    server: Server, chromium_page: Any, tmp_path: pathlib.Path
) -> None:
    frame = linked_frame(tmp_path)
    upload = tmp_path / "linked.csv"
    frame.to_csv(upload, index=False)
    links = frame.groupby("victim_id").size()
    page = chromium_page
    page.goto(server.url)
    page.set_input_files("input[type=file]", str(upload))
    page.wait_for_selector("[data-role=prepared]")

    # Select: victim_id names the person; the risk panel counts persons.
    page.goto(f"{server.base}/select")
    page.wait_for_selector("[data-role=risk-share]")
    page.click("[data-role=subject-id]")
    page.get_by_role("option", name="victim_id", exact=True).click()
    page.wait_for_selector("text=The risk panel below counts persons")
    page.get_by_label("Longest combination (R)").fill("2")
    page.wait_for_selector("text=of persons hold a combination of up to 2 values")

    # Synthesize: two linked DP runs, then compare them.
    page.goto(f"{server.base}/synthesize")
    page.get_by_label("Privacy loss ε").fill("2")
    for seed, runs in (("5", 1), ("6", 2)):
        page.get_by_label("Seed", exact=True).fill(seed)
        page.click("[data-role=run]")
        page.wait_for_function(ALL_DONE, arg=runs, timeout=120_000)
    assert page.inner_text("[data-role=run-method][data-run='1']") == (
        "DP, linked records"
    )
    for run in ("1", "2"):
        page.wait_for_selector(
            f"[data-role=evaluation][data-run='{run}']", timeout=120_000
        )
    assert "No evaluation" not in page.inner_text("body")
    shown = dict(
        zip(
            page.locator("[data-role=compare-value]").evaluate_all(
                "(els) => els.map((e) => e.dataset.name)"
            ),
            page.locator("[data-role=compare-value]").all_inner_texts(),
            strict=True,
        )
    )
    assert shown["Person identifier"] == "victim_id"
    assert shown["Columns"] == str(len(COLUMNS))
    assert "Published combinations of links by length" in page.inner_text("body")
    mean = page.inner_text(
        "[data-role=evaluation-score][data-run='1'][data-name='Mean links per victim']"
    )
    assert mean.startswith(f"true {links.mean():.3g} · synthetic ")
    true_victims = page.locator(
        "[data-role=evaluation-cell][data-run='1'][data-table='Links per victim']"
        "[data-column='true victims']"
    ).all_inner_texts()
    per_count = links.value_counts()
    assert true_victims[:3] == [f"{per_count.get(n, 0):,}" for n in (1, 2, 3)]
    kinds = page.locator(
        "[data-role=evaluation-cell][data-run='1'][data-column='marginals']"
    ).all_inner_texts()
    assert "victim x link" in kinds
    summary = page.locator("[data-role=evaluation-summary][data-run='1']")
    assert summary.count() == 5
    assert "victims" in summary.first.inner_text()

    # Export: the shareable zip holds the release only; the evaluation is a
    # separate download marked not for sharing.
    page.goto(f"{server.base}/export")
    with page.expect_download() as download:
        page.click("[data-role=download-release][data-run='1']")
    bundle = zipfile.ZipFile(
        io.BytesIO(pathlib.Path(download.value.path()).read_bytes())
    )
    names = sorted(n.split("/", 1)[1] for n in bundle.namelist())
    assert names == sorted(RELEASABLE)
    assert json.loads(bundle.read("synthcase-release-1/release.json"))["mode"] == (
        "dp-linked"
    )
    button = page.locator("[data-role=download-evaluation][data-run='1']")
    assert "not for sharing" in button.inner_text()
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == "NOT-FOR-SHARING-evaluation-1.zip"
    evaluation = zipfile.ZipFile(
        io.BytesIO(pathlib.Path(download.value.path()).read_bytes())
    )
    files = {n.split("/", 1)[1] for n in evaluation.namelist()}
    assert {"report.html", "evaluation.json", "links_per_subject.csv"} <= files
    assert not files & set(RELEASABLE)
    figures = json.loads(
        evaluation.read("NOT-FOR-SHARING-evaluation-1/evaluation.json")
    )
    assert figures["release"] == "linked" and figures["unit"] == "victim"
    assert figures["links"]["links_per_subject"]["sensitive_subjects"] == len(links)
