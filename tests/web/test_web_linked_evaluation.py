"""The steward's evaluation of a linked run: what the pages show and hand out."""

from __future__ import annotations

import io
import json
import pathlib
import time
import zipfile
from collections.abc import Iterator

import pandas as pd
import pytest

from synthcase.evaluate import evaluate_linked_release
from synthcase.linked import LinkedRelease
from synthcase.measure import DPSettings
from synthcase.prepare import ReadOptions
from synthcase.prepare.linked import load_linked
from synthcase.synthesize import SynthesisSettings
from synthcase.web.bundle import RELEASABLE, evaluation_zip, releasable_zip
from synthcase.web.evaluation import evaluate_run, protected_links
from synthcase.web.figures import evaluation_figures
from synthcase.web.state import Run, Workspace

VICTIMS = 300
RESOLUTION = 5


def linked_frame() -> pd.DataFrame:
    """300 victims with 1, 2 or 3 links (100 each).

    Victims 4 and 10 (both M, two links) are the only elders: rare (2 < 5)
    but not unique on their own values. Victim 2 (three links) has the only
    employer among its links: unique once the links' values count.
    """
    rows = []
    for i in range(VICTIMS):
        age = "elder" if i in (4, 10) else ("adult" if i % 5 == 0 else "child")
        for j in range(1 + i % 3):
            relation = ("family", "friend", "stranger")[(i + j) % 3]
            if (i, j) == (2, 1):
                relation = "employer"
            rows.append(
                {
                    "victim_id": f"V{i:03d}",
                    "gender": "F" if i % 2 else "M",
                    "age": age,
                    "relation": relation,
                }
            )
    return pd.DataFrame(rows)


def wait(run: Run) -> Run:
    deadline = time.monotonic() + 60
    while run.active and time.monotonic() < deadline:
        time.sleep(0.05)
    return run


@pytest.fixture(scope="module")
def linked_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    private = tmp_path_factory.mktemp("private")
    private.chmod(0o700)
    space = Workspace(private, 10_000_000)
    space.load("linked.csv", linked_frame().to_csv(index=False).encode())
    space.preparation.subject_id = "victim_id"
    space.prepare(profile=False)
    space.selection.k = RESOLUTION
    run = wait(
        space.start_run(
            DPSettings(epsilon=8.0, reporting_length=2), SynthesisSettings(seed=5)
        )
    )
    assert run.status == "done", run.error
    yield run
    space.close()


def direct_evaluation(run: Run) -> object:
    """The library's evaluation of the run's release, called by hand."""
    release = run.release
    assert isinstance(release, LinkedRelease) and release.schema is not None
    sensitive = load_linked(
        linked_frame(),
        ReadOptions(columns=("gender", "age", "relation"), subject_id="victim_id"),
    )
    histogram = release.metadata["privacy"]["protected_links_per_subject"]
    return evaluate_linked_release(
        sensitive,
        release.synthetic,
        release.schema,
        release.aggregates,
        reporting_length=2,
        resolution=RESOLUTION,
        unit="victim",
        protected_links=[int(histogram[b]) for b in release.schema.link_bins.labels()],
    )


def test_a_linked_run_is_evaluated_as_the_library_does(linked_run: Run) -> None:
    evaluation = evaluate_run(linked_run)
    direct = direct_evaluation(linked_run)
    assert evaluation.to_dict() == direct.to_dict()
    assert evaluate_run(linked_run) is evaluation  # computed once, then kept
    assert evaluation_figures(evaluation) == evaluation_figures(direct)


def test_the_page_shows_the_linked_figures(linked_run: Run) -> None:
    evaluation = evaluate_run(linked_run)
    figures = evaluation_figures(evaluation)
    scores = {s.name: s.text for s in figures.scores}
    subjects, links = evaluation.subjects, evaluation.links_per_subject
    assert scores["k-marginal score of the synthetic victims"] == (
        f"{subjects.k_marginal:.0f} of 1000"
    )
    assert scores["Mean links per victim"] == (
        f"true 2 · synthetic {links.synthetic_mean:.3g}"
    )
    assert scores["Distance of the links per victim (bins)"] == (
        f"{links.binned_distance:.3g}"
    )
    # By hand: the two elders are rare on their own values (2 of 300 =
    # 0.7 %), never unique; the employer makes victim 2 unique with the
    # links' values (1 of 300), and rare with the elders (3 of 300).
    assert scores["Victims at risk on their own values"] == "unique 0.0 % · rare 0.7 %"
    assert scores["Victims at risk with their links' values"] == (
        "unique 0.3 % · rare 1.0 %"
    )
    kept, risk = figures.shares
    assert kept.rows == tuple(
        (f"length {row.length}", row.mean_preservation)
        for row in subjects.synthetic_fidelity.by_length
    )
    assert risk.rows == (
        ("up to 1 value", pytest.approx(3 / VICTIMS)),
        ("up to 2 values", pytest.approx(3 / VICTIMS)),
    )
    per_victim, distances = figures.tables
    assert per_victim.header == (
        "links",
        "true victims",
        "protected",
        "synthetic victims",
    )
    assert [row[:2] for row in per_victim.rows[:4]] == [
        ("1", "100"),
        ("2", "100"),
        ("3", "100"),
        ("4", "0"),
    ]
    assert [row[3] for row in per_victim.rows] == [
        f"{b.synthetic_subjects:,}" for b in links.bins
    ]
    histogram = linked_run.release.metadata["privacy"]["protected_links_per_subject"]
    assert [row[2] for row in per_victim.rows] == [f"{v:,}" for v in histogram.values()]
    kinds = [row[0] for row in distances.rows]
    assert kinds == ["victim", "victim x victim", "link", "victim x link"]
    assert [row[2] for row in distances.rows] == [
        f"{row.mean_distance:.3g}" for row in evaluation.by_kind
    ]
    assert figures.summary == evaluation.summary and len(figures.summary) == 5


def test_protected_links_need_exactly_the_bins() -> None:
    metadata = {"privacy": {"protected_links_per_subject": {"1": 4, "2+": -1}}}
    assert protected_links(metadata, ("1", "2+")) == [4, -1]
    assert protected_links(metadata, ("1", "2", "3+")) is None
    assert protected_links({}, ("1",)) is None


def test_the_evaluation_download_is_the_linked_one(
    linked_run: Run, tmp_path: pathlib.Path
) -> None:
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    data = evaluation_zip(linked_run, folder, "NOT-FOR-SHARING-evaluation-1")
    assert data is not None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = {n.split("/", 1)[1] for n in archive.namelist()}
        figures = json.loads(
            archive.read("NOT-FOR-SHARING-evaluation-1/evaluation.json")
        )
    assert {"report.html", "links_per_subject.csv", "link_risk_by_length.csv"} <= names
    assert not names & set(RELEASABLE)
    assert figures["release"] == "linked" and figures["unit"] == "victim"
    assert figures["links"]["sensitive_risk"]["rare_share"] == pytest.approx(
        3 / VICTIMS
    )
    assert list(folder.iterdir()) == []


def test_the_releasable_zip_holds_the_link_aggregates_and_no_evaluation(
    linked_run: Run, tmp_path: pathlib.Path
) -> None:
    assert linked_run.release is not None
    data = releasable_zip(linked_run.release, tmp_path, "release-1")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(n.split("/", 1)[1] for n in archive.namelist())
    assert names == sorted(RELEASABLE)
    assert "link_aggregates.tsv" in names and "evaluation.json" not in names
