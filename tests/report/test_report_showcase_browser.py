"""The showcase page in headless Chromium: every number against pandas."""

from __future__ import annotations

import itertools
import pathlib
from typing import Any

import pandas as pd
import pytest
from test_report_showcase import (
    COLUMNS,
    COMBINATIONS,
    HOSTILE,
    PRIVACY,
    RECORD_COUNT,
    RECORDS,
    RELEASE,
    aggregates_text,
    synthetic_frame,
    write_release,
)

from synthcase.report.showcase import build_showcase

# The hand-made release plus a column whose name and one value try to break
# out of the page.
BROWSER_COLUMNS = [*COLUMNS, HOSTILE]
BROWSER_RECORDS = [
    (*record, extra)
    for record, extra in zip(
        RECORDS, itertools.cycle(["plain", HOSTILE, "plain", None]), strict=False
    )
]
BROWSER_COMBINATIONS = [
    *COMBINATIONS,
    ([(HOSTILE, "plain")], 6),
    ([(HOSTILE, HOSTILE)], 3),
    ([("sex", "F"), (HOSTILE, "plain")], 4),
    ([("age group", "18-64"), (HOSTILE, HOSTILE)], 2),
]
PUBLISHED = {frozenset(pairs): count for pairs, count in BROWSER_COMBINATIONS}
REPORTING_LENGTH = 2

ROWS_SCRIPT = """() => [...document.querySelectorAll('[data-column][data-value]')]
  .map((row) => [
    row.dataset.column,
    row.dataset.value,
    row.querySelector('[data-role="synthetic-count"]').textContent,
    row.querySelector('[data-role="protected-count"]').textContent,
  ])"""
TOTALS_SCRIPT = """() => ['selection-synthetic', 'selection-protected',
  'selection-protected-note'].map(
    (role) => document.querySelector(`[data-role="${role}"]`).textContent)"""
FIND_SCRIPT = """([column, value]) => [...document.querySelectorAll('button.bar')]
  .find((row) => row.dataset.column === column && row.dataset.value === value)"""


def _protected(selection: dict[str, str]) -> str:
    if not selection:
        return str(RECORD_COUNT)
    if len(selection) > REPORTING_LENGTH:
        return ""
    count = PUBLISHED.get(frozenset(selection.items()))
    return "" if count is None else str(count)


def _expected_rows(
    frame: pd.DataFrame, selection: dict[str, str]
) -> list[tuple[str, str, str, str]]:
    matching = frame
    for column, value in selection.items():
        matching = matching[matching[column] == value]
    rows = []
    for column in BROWSER_COLUMNS:
        counts = matching[column].value_counts()
        labels = set(frame[column].dropna())
        labels |= {v for key in PUBLISHED for c, v in key if c == column}
        for label in labels:
            chosen = selection.get(column)
            if chosen is not None and chosen != label:
                protected = ""
            else:
                protected = _protected({**selection, column: label})
            rows.append((column, label, str(counts.get(label, 0)), protected))
    return sorted(rows)


def _check(page: Any, frame: pd.DataFrame, selection: dict[str, str]) -> None:
    shown = sorted(tuple(row) for row in page.evaluate(ROWS_SCRIPT))
    assert shown == _expected_rows(frame, selection), selection

    matching = frame
    for column, value in selection.items():
        matching = matching[matching[column] == value]
    synthetic, protected, note = page.evaluate(TOTALS_SCRIPT)
    assert (synthetic, protected) == (str(len(matching)), _protected(selection))
    if len(selection) > REPORTING_LENGTH:
        assert note.startswith("Not published: the selection has 3 values")
    elif protected == "":
        assert note == "Not published: this combination is not in the aggregates."
    else:
        assert note == ""
    chips = page.locator('[data-role="chip"]')
    assert chips.count() == len(selection)


def _click(page: Any, column: str, value: str) -> None:
    page.evaluate_handle(FIND_SCRIPT, [column, value]).as_element().click()


@pytest.mark.browser
def test_every_number_on_the_page_matches_pandas(
    chromium_page: Any, tmp_path: pathlib.Path
) -> None:
    page = chromium_page
    frame = synthetic_frame(BROWSER_COLUMNS, BROWSER_RECORDS)
    aggregates = aggregates_text(BROWSER_COMBINATIONS, RECORD_COUNT)
    release = {**RELEASE, "columns": BROWSER_COLUMNS}
    folder = write_release(tmp_path / "release", frame, aggregates, release, PRIVACY)
    path = build_showcase(folder)
    problems: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: problems.append(f"dialog {dialog.message}"))
    page.on("pageerror", lambda error: problems.append(f"error {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())

    # Unselected: each chart is a value count of its column.
    _check(page, frame, {})
    shown = {(c, v): int(n) for c, v, n, _ in page.evaluate(ROWS_SCRIPT)}
    for column in BROWSER_COLUMNS:
        for label, count in frame[column].value_counts().items():
            assert shown[(column, label)] == count

    # Select, extend, go past the reporting length, replace, deselect.
    selection: dict[str, str] = {}
    for column, value in [
        ("sex", "F"),
        ("age group", "18-64"),
        (HOSTILE, "plain"),
        ("age group", "0-17"),
        ("age group", "0-17"),
        (HOSTILE, HOSTILE),
    ]:
        _click(page, column, value)
        if selection.get(column) == value:
            del selection[column]
        else:
            selection[column] = value
        _check(page, frame, selection)

    # Keyboard: a bar is a button, Enter toggles it.
    page.evaluate_handle(FIND_SCRIPT, ["area:code", "south"]).as_element().focus()
    page.keyboard.press("Enter")
    selection["area:code"] = "south"
    _check(page, frame, selection)

    # A chip removes its value; Clear removes the rest.
    page.locator('[data-role="chip"]').first.click()
    del selection["sex"]
    _check(page, frame, selection)
    page.locator('[data-role="clear"]').click()
    _check(page, frame, {})

    # Downloads hand back the embedded files.
    with page.expect_download() as synthetic_download:
        page.locator('[data-role="download-synthetic"]').click()
    saved = pd.read_csv(
        synthetic_download.value.path(),
        dtype=str,
        keep_default_na=False,
        na_values=[""],
    ).astype(object)
    assert synthetic_download.value.suggested_filename == "synthetic.csv"
    pd.testing.assert_frame_equal(saved.where(saved.notna(), None), frame)
    with page.expect_download() as aggregates_download:
        page.locator('[data-role="download-aggregates"]').click()
    saved_aggregates = pathlib.Path(aggregates_download.value.path())
    assert saved_aggregates.read_text(encoding="utf-8") == aggregates

    # A narrow screen scrolls vertically only.
    page.set_viewport_size({"width": 380, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    assert problems == []
    assert all(url.startswith(("file://", "blob:", "data:")) for url in requests)
