"""Fixtures shared by the whole suite: a headless Chromium for browser tests."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium_page() -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium, 1280 pixels wide.

    The browser is the system one (``SYNTHCASE_CHROMIUM`` or
    ``/usr/bin/chromium``); the test is skipped only when that binary is
    missing.
    """
    binary = pathlib.Path(os.environ.get("SYNTHCASE_CHROMIUM", "/usr/bin/chromium"))
    if not binary.is_file():
        pytest.skip(
            f"no Chromium at {binary}: install it (apt-get install chromium) or "
            "point SYNTHCASE_CHROMIUM at a Chromium binary"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(binary), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            page = context.new_page()
            yield page
            context.close()
        finally:
            browser.close()
