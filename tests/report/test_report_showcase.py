"""The showcase page: embedded data, escaping, no network, atomic writing.

The hand-made release here is also used by the browser test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from typing import Any

import pandas as pd
import pytest

from synthcase.errors import DataError, OutputError
from synthcase.report.showcase import build_showcase, render_showcase

# Column names and values that need escaping in aggregates.tsv, in CSV and in
# HTML, next to plain ones.
COLUMNS = ["sex", "age group", "area:code"]
RECORDS = [
    ("F", "18-64", "north;east"),
    ("M", "18-64", "north;east"),
    ("F", "0-17", "south"),
    ("F", "18-64", "south"),
    ("M", "65+", "north;east"),
    ("F", "18-64", None),
    ("M", "0-17", "south"),
    ("F", "65+", "west\\1"),
    (None, "18-64", "south"),
    ("M", "18-64", "south"),
    ("F", "0-17", "north;east"),
    ("M", "18-64", "south"),
]
# Protected counts of a made-up release: near the synthetic counts, with some
# combinations missing (suppressed) and one value ("X") that only the
# aggregates know.
COMBINATIONS: list[tuple[list[tuple[str, str]], int]] = [
    ([("sex", "F")], 7),
    ([("sex", "M")], 5),
    ([("sex", "X")], 2),
    ([("age group", "18-64")], 6),
    ([("age group", "0-17")], 3),
    ([("age group", "65+")], 2),
    ([("area:code", "north;east")], 4),
    ([("area:code", "south")], 5),
    ([("sex", "F"), ("age group", "18-64")], 3),
    ([("sex", "F"), ("age group", "0-17")], 2),
    ([("sex", "M"), ("age group", "18-64")], 3),
    ([("sex", "F"), ("area:code", "south")], 2),
    ([("sex", "M"), ("area:code", "north;east")], 2),
    ([("age group", "18-64"), ("area:code", "south")], 3),
]
RECORD_COUNT = 13
RELEASE: dict[str, Any] = {
    "columns": COLUMNS,
    "reporting_length": 2,
    "mode": "dp-aggregate-seeded",
    "privacy": {"epsilon": 4.0, "delta": 1e-6, "unit": "record"},
    "seed": 7,
    "tool": {"name": "synthcase", "version": "0.1.0"},
}
PRIVACY = """# What this release protects

The aggregates are **differentially private** with `epsilon = 4`.

- One record changes each count by at most one.
- Rare combinations are suppressed.
"""


def escape_part(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(":", "\\:")


def aggregates_text(
    combinations: Sequence[tuple[Sequence[tuple[str, str]], int]], record_count: int
) -> str:
    lines = ["selections\tprotected_count", f"record_count\t{record_count}"]
    for pairs, count in combinations:
        selections = ";".join(f"{escape_part(c)}:{escape_part(v)}" for c, v in pairs)
        lines.append(f"{selections}\t{count}")
    return "\n".join(lines) + "\n"


def synthetic_frame(
    columns: Sequence[str] = COLUMNS, records: Sequence[Sequence[Any]] = RECORDS
) -> pd.DataFrame:
    return pd.DataFrame(list(records), columns=list(columns), dtype=object)


def write_release(
    folder: pathlib.Path,
    synthetic: pd.DataFrame,
    aggregates: str,
    release: Mapping[str, Any],
    privacy: str,
) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    synthetic.to_csv(folder / "synthetic.csv", index=False)
    (folder / "aggregates.tsv").write_text(aggregates, encoding="utf-8")
    (folder / "release.json").write_text(json.dumps(release), encoding="utf-8")
    (folder / "PRIVACY.md").write_text(privacy, encoding="utf-8")
    return folder


@pytest.fixture
def release_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    """A small hand-made release folder."""
    return write_release(
        tmp_path / "release",
        synthetic_frame(),
        aggregates_text(COMBINATIONS, RECORD_COUNT),
        RELEASE,
        PRIVACY,
    )


HOSTILE = "</script><script>alert(1)</script>"


class _Page(HTMLParser):
    """Collects every start tag with its attributes and the script texts."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._script: dict[str, str | None] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        else:
            self.text.append(data)

    def data(self) -> dict[str, Any]:
        (attrs, text), _ = self.scripts
        assert attrs == {"type": "application/json", "id": "showcase-data"}
        loaded: dict[str, Any] = json.loads(text)
        return loaded

    def meta_policy(self) -> str:
        for tag, attrs in self.tags:
            if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy":
                return attrs["content"] or ""
        raise AssertionError("no Content-Security-Policy")


def _render(
    synthetic: pd.DataFrame | None = None,
    combinations: list[tuple[list[tuple[str, str]], int]] | None = None,
    release: dict[str, Any] | None = None,
    privacy: str = PRIVACY,
    title: str | None = None,
) -> str:
    return render_showcase(
        synthetic if synthetic is not None else synthetic_frame(),
        aggregates_text(
            combinations if combinations is not None else COMBINATIONS, RECORD_COUNT
        ),
        release if release is not None else RELEASE,
        privacy,
        title=title,
    )


def _markup_tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    """Tags that only injected markup could add (the skip link is ours)."""
    return [
        (tag, attrs)
        for tag, attrs in _Page(page).tags
        if tag in ("a", "b", "i", "img", "iframe", "object")
        and attrs != {"class": "skip-link", "href": "#charts"}
    ]


def _decoded_records(data: dict[str, Any]) -> pd.DataFrame:
    columns = {
        name: [labels[code] if code >= 0 else None for code in codes]
        for name, labels, codes in zip(
            data["columns"], data["labels"], data["codes"], strict=True
        )
    }
    return pd.DataFrame(columns, columns=data["columns"], dtype=object)


def test_embedded_data_equals_the_release_files(release_dir: pathlib.Path) -> None:
    page = build_showcase(release_dir).read_text(encoding="utf-8")
    data = _Page(page).data()

    expected = pd.read_csv(
        release_dir / "synthetic.csv",
        dtype=str,
        keep_default_na=False,
        na_values=[""],
    ).astype(object)
    expected = expected.where(expected.notna(), None)
    pd.testing.assert_frame_equal(_decoded_records(data), expected)
    assert data["aggregates"] == (release_dir / "aggregates.tsv").read_text("utf-8")
    assert data["columns"] == COLUMNS
    assert data["records"] == 12
    assert data["reporting_length"] == 2


def test_labels_are_ordered_by_count_and_include_published_only_values() -> None:
    data = _Page(_render()).data()

    assert data["labels"] == [
        ["F", "M", "X"],
        ["18-64", "0-17", "65+"],
        ["south", "north;east", "west\\1"],
    ]


def test_every_label_in_the_page_comes_from_the_release_files() -> None:
    data = _Page(_render()).data()

    for name, labels in zip(data["columns"], data["labels"], strict=True):
        synthetic = set(synthetic_frame()[name].dropna())
        published = {v for pairs, _ in COMBINATIONS for c, v in pairs if c == name}
        assert set(labels) <= synthetic | published, name


def test_header_shows_counts_mode_and_privacy_parameters() -> None:
    privacy = {"unit": "record", "rho": 0.36327397, "epsilon": 3.99999999, "x": 1}
    page = _render(title="Cases 2019", release={**RELEASE, "privacy": privacy})
    header = page.split('<header class="masthead">', 1)[1].split("</header>")[0]
    text = " ".join(" ".join(_Page(header).text).split())

    assert text == (
        "Synthetic data showcase Cases 2019 Synthetic records 12 Protected record "
        "count 13 Mode dp-aggregate-seeded Reporting length 2 \u03b5 (epsilon) 4 "
        "\u03c1 (rho) 0.364 Privacy unit record Download synthetic.csv Download "
        "aggregates.tsv"
    )
    assert '<div class="stat" title="3.99999999"><dt>\u03b5 (epsilon)</dt>' in header


def test_parameters_list_every_release_entry() -> None:
    privacy = {
        "epsilon": 4.0,
        "spends": [{"mechanism": "count", "rho": 0.5}, {"rho": 0.25, "delta": 0}],
        "unit": "record",
    }
    page = _render(release={**RELEASE, "privacy": privacy})
    parameters = page.split('<div class="panel parameters">', 1)[1]
    text = " ".join(" ".join(_Page(parameters).text).split())

    assert text.startswith(
        "Release parameters columns sex, age group, area:code reporting_length 2 "
        "mode dp-aggregate-seeded seed 7 privacy epsilon 4.0 unit record spends (2) "
        "mechanism rho delta count 0.5 0.25 0 tool name synthcase version 0.1.0"
    )
    assert (
        "<tbody><tr><td>count</td><td>0.5</td><td></td></tr>"
        "<tr><td></td><td>0.25</td><td>0</td></tr></tbody>"
    ) in parameters


def test_privacy_statement_is_converted_and_escaped() -> None:
    privacy = (
        "# Guarantee <b>\n\nThe **counts** use `rho < 1` and *noise*.\n\n"
        "- one\n- two <img src=x>\n\n1. first\n\nSee [the docs](docs/privacy.md).\n"
    )
    page = _render(privacy=privacy)

    assert "<h3>Guarantee &lt;b&gt;</h3>" in page
    assert (
        "<p>The <strong>counts</strong> use <code>rho &lt; 1</code> and "
        "<em>noise</em>.</p>"
    ) in page
    assert "<ul><li>one</li><li>two &lt;img src=x&gt;</li></ul>" in page
    assert "<ol><li>first</li></ol>" in page
    assert "<p>See the docs (docs/privacy.md).</p>" in page
    assert _markup_tags(page) == []


def test_hostile_values_stay_data() -> None:
    columns = [HOSTILE, "<!--", "x\u2028y"]
    records = [
        (HOSTILE, "a&b", "<\u2029>"),
        ("<!--<script>", "\"'", "</SCRIPT >"),
    ]
    combinations = [
        ([(HOSTILE, HOSTILE)], 1),
        ([("<!--", "a&b"), ("x\u2028y", "</SCRIPT >")], 1),
    ]
    release = {
        **RELEASE,
        "columns": columns,
        "mode": HOSTILE,
        HOSTILE: {"<i>": HOSTILE},
        "privacy": {"epsilon": 1.0, "unit": HOSTILE},
    }
    page = _render(
        synthetic_frame(columns, records),
        combinations,
        release,
        privacy=HOSTILE,
        title=HOSTILE,
    )
    parsed = _Page(page)

    assert [tag for tag, _ in parsed.tags].count("script") == 2
    assert _markup_tags(page) == []
    assert page.lower().count("<script") == 2
    assert page.lower().count("</script") == 2
    assert "<!--" not in page
    assert not re.search("[\u2028\u2029<>&]", parsed.scripts[0][1])
    data = parsed.data()
    assert data["columns"] == columns
    pd.testing.assert_frame_equal(
        _decoded_records(data), synthetic_frame(columns, records)
    )
    assert data["aggregates"] == aggregates_text(combinations, RECORD_COUNT)
    assert " ".join(parsed.text).count(HOSTILE) >= 4


def test_page_refers_to_no_external_address() -> None:
    page = _render()
    parsed = _Page(page)

    assert "http://" not in page and "https://" not in page
    addresses = [
        (tag, name, value)
        for tag, attrs in parsed.tags
        for name, value in attrs.items()
        if name in ("src", "href", "action", "srcset", "data")
    ]
    assert addresses == [("link", "href", "data:,"), ("a", "href", "#charts")]
    assert not re.search(r"url\(|@import|fetch\(|XMLHttpRequest|WebSocket", page)
    assert parsed.meta_policy().startswith("default-src 'none';")


def test_policy_allows_exactly_the_inline_script_and_style() -> None:
    page = _render()
    parsed = _Page(page)
    policy = parsed.meta_policy()
    script = parsed.scripts[1][1]
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]

    for kind, text in (("script-src", script), ("style-src", style)):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"{kind} 'sha256-{digest}';" in policy


def test_build_reads_every_label_as_a_string(tmp_path: pathlib.Path) -> None:
    columns = ["code", "flag"]
    records = [("01", "NA"), ("1", "N"), ("null", None)]
    folder = write_release(
        tmp_path / "release",
        synthetic_frame(columns, records),
        aggregates_text([([("code", "01")], 1)], 3),
        {**RELEASE, "columns": columns},
        PRIVACY,
    )

    data = _Page(build_showcase(folder).read_text("utf-8")).data()

    assert data["labels"] == [["01", "1", "null"], ["N", "NA"]]
    assert data["codes"] == [[0, 1, 2], [1, 0, -1]]


def test_build_replaces_the_page_atomically(
    release_dir: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out" / "page.html"
    target.parent.mkdir()
    target.write_text("old page", encoding="utf-8")
    moves: list[tuple[pathlib.Path, pathlib.Path]] = []
    real_replace = os.replace

    def failing_replace(source: Any, destination: Any) -> None:
        moves.append((pathlib.Path(source), pathlib.Path(destination)))
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OutputError, match=r"cannot write the showcase to .*disk full"):
        build_showcase(release_dir, output=target)

    assert target.read_text(encoding="utf-8") == "old page"
    assert sorted(p.name for p in target.parent.iterdir()) == ["page.html"]
    ((source, destination),) = moves
    assert source.parent == target.parent and destination == target

    monkeypatch.setattr(os, "replace", real_replace)
    assert build_showcase(release_dir, output=target) == target
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in target.parent.iterdir()) == ["page.html"]
    assert build_showcase(release_dir) == release_dir / "showcase.html"


def test_build_fails_before_touching_the_page(release_dir: pathlib.Path) -> None:
    (release_dir / "showcase.html").write_text("old page", encoding="utf-8")
    (release_dir / "aggregates.tsv").write_text("broken\n", encoding="utf-8")

    with pytest.raises(DataError, match=r"aggregates\.tsv must start"):
        build_showcase(release_dir)

    assert (release_dir / "showcase.html").read_text(encoding="utf-8") == "old page"


@pytest.mark.parametrize("name", ["synthetic.csv", "aggregates.tsv", "PRIVACY.md"])
def test_build_names_a_missing_file(release_dir: pathlib.Path, name: str) -> None:
    (release_dir / name).unlink()

    with pytest.raises(DataError, match=f"{re.escape(name)} is missing from"):
        build_showcase(release_dir)


def _tsv(*lines: str) -> str:
    return "\n".join(["selections\tprotected_count", "record_count\t13", *lines])


@pytest.mark.parametrize(
    ("aggregates", "message"),
    [
        ("selections\tprotected_count\n", "must start with the lines"),
        (_tsv().replace("record_count", "records"), "expected 'record_count'"),
        (_tsv("sex:F\t-1"), "line 3 is 'sex:F\\\\t-1'; expected"),
        (_tsv("sex:F\t2.5"), "non-negative integer count"),
        (_tsv("sex:F"), "line 3 is 'sex:F'"),
        (_tsv("region:north\t2"), "names column 'region', which is not among"),
        (_tsv("sex:F;sex:M\t1"), "2 values from 1 columns"),
        (_tsv("sex:F;age group:0-17;area\\:code:south\t1"), "1 to 2 values"),
        (_tsv("sex:F\t1", "sex:F\t2"), "line 4 repeats an earlier combination"),
        (_tsv("sex\t1"), "line 3"),
        (_tsv("sex:\t1"), "non-empty column and value"),
    ],
)
def test_malformed_aggregates_are_refused(aggregates: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        render_showcase(synthetic_frame(), aggregates, RELEASE, PRIVACY)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": None}, "columns is None; expected a list"),
        ({"columns": ["sex", "sex"]}, "name a column twice"),
        ({"reporting_length": 0}, "reporting_length is 0; expected an integer"),
        ({"reporting_length": True}, "reporting_length is True"),
        ({"privacy": 1.0}, "privacy is 1.0; expected an object"),
        ({"columns": ["sex", "area:code", "age group"]}, "synthetic.csv has the"),
    ],
)
def test_inconsistent_release_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(DataError, match=re.escape(message)):
        _render(release={**RELEASE, **change})


def test_release_without_required_keys_is_refused() -> None:
    release = {key: value for key, value in RELEASE.items() if key != "mode"}

    with pytest.raises(DataError, match=r"release\.json lacks mode"):
        _render(release=release)


def test_non_string_values_are_refused() -> None:
    synthetic = synthetic_frame()
    synthetic.loc[0, "sex"] = 3

    with pytest.raises(DataError, match="holds 3 of type int; every value must"):
        _render(synthetic=synthetic)


def test_escaped_tab_and_newline_in_aggregates_are_accepted() -> None:
    synthetic = synthetic_frame(["a"], [("x\ty",), ("p\nq",)])
    tsv = "\n".join(
        [
            "selections\tprotected_count",
            "record_count\t2",
            "a:x\\ty\t1",
            "a:p\\nq\t1",
        ]
    )

    data = _Page(
        render_showcase(synthetic, tsv, {**RELEASE, "columns": ["a"]}, PRIVACY)
    ).data()

    assert data["labels"] == [["p\nq", "x\ty"]]
