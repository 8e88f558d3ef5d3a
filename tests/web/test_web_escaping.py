"""Pages show data only through text elements, never as HTML."""

from __future__ import annotations

import pathlib
import re

import synthcase.web

PAGES = pathlib.Path(synthcase.web.__file__).parent
HTML_SINKS = re.compile(
    r"ui\.(html|markdown|mermaid|add_head_html|add_body_html)\(|v-html"
)


def test_no_page_builds_html_from_text() -> None:
    sources = sorted(PAGES.rglob("*.py"))
    assert len(sources) >= 10
    offenders = [
        f"{path.name}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if HTML_SINKS.search(line)
    ]
    assert offenders == []
