"""The whole app in headless Chromium, as a data steward uses it.

Set ``SYNTHCASE_WEB_SCREENSHOTS`` to a folder (e.g. ``docs/img``) to keep the
page screenshots there as ``web-<page>.png``.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import zipfile
from importlib import resources
from typing import Any

import pandas as pd
import pytest

from conftest import Server
from synthcase.measure.aggregates import parse_combination

pytestmark = pytest.mark.browser

MA2019 = pathlib.Path(str(resources.files("synthcase") / "data" / "ma2019.csv"))
COLUMNS = ["AGEP", "SEX", "MSP", "EDU"]
ALL_DONE = """(n) => {
  const badges = [...document.querySelectorAll('[data-role=run-status]')];
  return badges.length === n && badges.every((b) => b.textContent.trim() === 'done');
}"""


def shoot(page: Any, name: str, tmp_path: pathlib.Path) -> None:
    # Notifications come and go; the screenshots show the page itself.
    page.evaluate(
        "document.querySelectorAll('.q-notification').forEach((n) => n.remove())"
    )
    page.wait_for_timeout(300)
    page.screenshot(path=str(tmp_path / f"web-{name}.png"), full_page=True)
    target = os.environ.get("SYNTHCASE_WEB_SCREENSHOTS")
    if target:
        page.screenshot(
            path=str(pathlib.Path(target) / f"web-{name}.png"), full_page=True
        )


def test_steward_flow(
    server: Server, chromium_page: Any, tmp_path: pathlib.Path
) -> None:
    page = chromium_page
    page.goto(server.url)
    page.wait_for_selector("text=Case file")
    assert "token" not in page.url

    # A malformed file gives a readable error and the app carries on.
    page.set_input_files(
        "input[type=file]",
        files=[
            {"name": "broken.xlsx", "mimeType": "application/zip", "buffer": b"PK!"}
        ],
    )
    page.wait_for_selector("text=This file could not be loaded")
    assert "Traceback" not in page.content()

    # Prepare: upload, declare N absent, bin AGEP with explicit edges.
    page.set_input_files("input[type=file]", str(MA2019))
    page.wait_for_selector("[data-role=prepared]")
    assert "ma2019.csv: 24 columns" in page.inner_text("[data-role=loaded]")
    page.get_by_label("Texts that mean 'absent'").fill("N")
    page.wait_for_selector("[data-null-tokens=N]")
    page.click("[data-bin=AGEP]")
    edges = page.get_by_label("Edges, in increasing order")
    assert edges.input_value() == ""  # never prefilled from the data
    edges.fill("0,18,30,45,65,100")
    page.wait_for_selector("text=[65,100]")
    page.click("[data-role=bin-apply]")
    page.wait_for_selector("text=0,18,30,45,65,100")
    # A value list from the dictionary: empty at first, a missing value is
    # named, then the full list (with a code no record holds) is accepted.
    page.click("[data-values=SEX]")
    listing = page.get_by_label("Values, separated by commas")
    assert listing.input_value() == ""  # never prefilled from the data
    listing.fill("1")
    page.click("[data-role=values-apply]")
    page.wait_for_selector("text=not among its 1 declared values")
    page.click("[data-values=SEX]")
    page.get_by_label("Values, separated by commas").fill("1,2,9")
    page.click("[data-role=values-apply]")
    page.wait_for_selector("text=values 1, 2, 9")
    page.wait_for_selector("[data-role=prepared]")
    shoot(page, "prepare", tmp_path)

    # Select: four columns, R = 2; the risk follows every change.
    page.goto(f"{server.base}/select")
    page.wait_for_selector("[data-role=risk-share]")
    page.get_by_role("button", name="None", exact=True).click()
    page.wait_for_selector("text=Select at least one column.")
    for column in COLUMNS:
        page.click("[data-role=columns]")
        page.get_by_role("option", name=column, exact=True).click()
        page.keyboard.press("Escape")
    page.get_by_label("Longest combination (R)").fill("2")
    page.wait_for_selector("text=of up to 2 values")
    share = page.inner_text("[data-role=risk-share]")
    assert share.endswith("%") and 0 <= float(share.rstrip(" %")) <= 100
    shoot(page, "select", tmp_path)

    # Synthesize: the default DP model at epsilon 4, then k-anonymity
    # (row-seeded, k = 10 from the select page); compare them.
    page.goto(f"{server.base}/synthesize")
    page.get_by_label("Privacy loss ε").fill("4")
    page.get_by_label("Seed", exact=True).fill("7")
    page.click("[data-role=run]")
    page.wait_for_function(ALL_DONE, arg=1, timeout=60_000)
    page.get_by_role("radio", name="k-anonymity, row-seeded").click()
    page.wait_for_selector("[data-role=k-shown]:has-text('k = 10')")
    assert not page.get_by_label("Privacy loss ε").is_visible()
    page.click("[data-role=run]")
    page.wait_for_function(ALL_DONE, arg=2, timeout=60_000)
    methods = {
        n: (
            page.inner_text(f"[data-role=run-method][data-run='{n}']"),
            page.inner_text(f"[data-role=run-guarantee][data-run='{n}']"),
        )
        for n in (1, 2)
    }
    assert methods[1][0] == "DP, model"
    assert methods[1][1].startswith("ε 4 · δ ") and "automatic" not in methods[1][1]
    assert methods[2] == ("k-anonymity, row-seeded", "k = 10")
    page.wait_for_selector("[data-role=compare-title]:has-text('Run #2')")
    page.wait_for_selector("[data-role=compare-value]:has-text('k = 10')")
    page.wait_for_function(
        "() => !document.body.innerText.includes('Evaluating against')", timeout=60_000
    )
    page.get_by_role("radio", name="Differential privacy — complete records").click()
    page.get_by_text("Advanced settings", exact=True).click()
    page.wait_for_selector("text=Share of the budget for the model")
    assert page.get_by_label("Share of the budget for the model").input_value() == "0.5"
    shoot(page, "synthesize", tmp_path)

    # Export: the k-anonymity run's bundle holds exactly the releasable files.
    page.goto(f"{server.base}/export")
    with page.expect_download() as download:
        page.click("[data-role=download-release][data-run='2']")
    bundle = zipfile.ZipFile(
        io.BytesIO(pathlib.Path(download.value.path()).read_bytes())
    )
    names = sorted(n.split("/", 1)[1] for n in bundle.namelist())
    assert names == sorted(
        [
            "PRIVACY.md",
            "aggregates.tsv",
            "release.json",
            "showcase.html",
            "synthetic.csv",
        ]
    )
    metadata = json.loads(bundle.read("synthcase-release-2/release.json"))
    assert metadata["mode"] == "k-anonymity-row-seeded"
    assert metadata["privacy"]["resolution"] == 10
    assert metadata["input"]["values"] == {"SEX": ["1", "2", "9"]}
    shoot(page, "export", tmp_path)
    synthetic = pd.read_csv(
        bundle.open("synthcase-release-2/synthetic.csv"),
        dtype=str,
        keep_default_na=False,
    )
    published = {
        frozenset(parse_combination(selections)): int(count)
        for selections, count in (
            line.rsplit("\t", 1)
            for line in bundle.read("synthcase-release-2/aggregates.tsv")
            .decode()
            .splitlines()[2:]
        )
    }

    # Explore run 2: select SEX = 1, then MSP = 1; the numbers match the files.
    page.goto(f"{server.base}/navigate?run=2")
    page.click("[data-column=SEX][data-value='1']")
    page.click("[data-column=MSP][data-value='1']")
    page.wait_for_selector("[data-role=selection]:has-text('MSP = 1')")
    matching = synthetic[(synthetic["SEX"] == "1") & (synthetic["MSP"] == "1")]
    shown = page.inner_text("[data-role=selection-synthetic]").replace(",", "")
    assert int(shown) == len(matching)
    protected = published.get(frozenset({("SEX", "1"), ("MSP", "1")}))
    expected = "not published" if protected is None else f"{protected:,}"
    assert page.inner_text("[data-role=selection-protected]") == expected
    # k-anonymous counts are multiples of k.
    assert protected is not None and protected % 10 == 0
    edu = str(matching["EDU"][matching["EDU"] != ""].mode()[0])
    row = f"[data-column=EDU][data-value='{edu}'] [data-role=synthetic-count]"
    assert int(page.inner_text(row).replace(",", "")) == int(
        (matching["EDU"] == edu).sum()
    )
    shoot(page, "navigate", tmp_path)


def test_browser_without_token_is_refused(server: Server, chromium_page: Any) -> None:
    response = chromium_page.goto(f"{server.base}/export")
    assert response.status == 401
    assert "access link" in chromium_page.inner_text("body")
