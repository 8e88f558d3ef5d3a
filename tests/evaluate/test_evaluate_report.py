"""The steward's report: a self-contained page, its JSON and CSV files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from synthcase.errors import OutputError
from synthcase.evaluate import Evaluation, evaluate_release, write_evaluation
from synthcase.measure import Aggregates
from synthcase.prepare import EncodedTable

TABLES = (
    "fidelity_by_bucket",
    "fidelity_by_length",
    "leakage_by_length",
    "linkable_columns",
    "linkable_values",
    "scores",
    "sensitive_risk_by_length",
)


@pytest.fixture
def evaluation(
    sensitive: EncodedTable, synthetic: pd.DataFrame, aggregates: Aggregates
) -> Evaluation:
    return evaluate_release(
        sensitive, synthetic, aggregates, reporting_length=2, resolution=3
    )


def test_writes_the_page_json_and_one_csv_per_table(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    report = write_evaluation(evaluation, tmp_path / "evaluation")
    folder = tmp_path / "evaluation"
    assert report == folder / "report.html"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        ["evaluation.json", "report.html", *(f"{t}.csv" for t in TABLES)]
    )
    assert json.loads((folder / "evaluation.json").read_text()) == evaluation.to_dict()

    by_length = pd.read_csv(folder / "fidelity_by_length.csv")
    assert by_length["source"].tolist() == ["aggregates"] * 2 + ["synthetic"] * 2
    assert by_length["suppressed"].tolist() == [0, 2, 0, 0]
    assert by_length.loc[1, "mean_absolute_error"] == pytest.approx(0.75)
    values = pd.read_csv(folder / "linkable_values.csv", keep_default_na=False)
    assert values.iloc[0].tolist() == ["B", "b2", 3, 0.5]
    scores = pd.read_csv(folder / "scores.csv").set_index("measure")["value"]
    assert scores["k_marginal"] == pytest.approx(650.0)


def test_page_is_self_contained_and_marked_sensitive(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    page = write_evaluation(evaluation, tmp_path).read_text()
    assert "Sensitive: do not share." in page
    assert "compares the release with the sensitive data" in page
    assert "Content-Security-Policy" in page
    assert "default-src &#x27;none&#x27;" in page  # quotes escaped in the attribute
    for fetching in ("<script", "src=", "href=", "url(", "@import", "<link"):
        assert fetching not in page
    assert page.count("<svg") == 10  # 6 fidelity, 2 privacy, 2 meters
    # The four summary sentences and the scores are on the page.
    for sentence in evaluation.summary:
        assert sentence.replace("'", "&#x27;") in page
    assert "650 / 1000" in page


def test_every_value_is_escaped(tmp_path: Path) -> None:
    hostile = '"><img src=x onerror=alert(1)>'
    sensitive = pd.DataFrame({"<b>col</b>": ["a", "a", hostile], "B&": ["1", "2", "2"]})
    evaluation = evaluate_release(
        sensitive, sensitive.iloc[:2], None, reporting_length=2, resolution=2
    )
    page = write_evaluation(evaluation, tmp_path).read_text()
    assert hostile not in page and "<b>col</b>" not in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;col&lt;/b&gt;" in page and "B&amp;" in page
    assert not re.search(r"<img|<b>", page)


def test_rewrites_in_place_without_temporary_files(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    (tmp_path / "report.html").write_text("old")
    write_evaluation(evaluation, tmp_path)
    write_evaluation(evaluation, tmp_path)
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_unwritable_folder_is_an_output_error(
    evaluation: Evaluation, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot create the evaluation folder"):
        write_evaluation(evaluation, blocker / "evaluation")
