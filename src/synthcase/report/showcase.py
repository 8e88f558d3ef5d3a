r"""The recipients' showcase: one self-contained HTML page for a release.

The page shows a bar chart per attribute of the synthetic records. Clicking a
value selects it (one value per attribute); every chart then recounts the
synthetic records that match the whole selection and shows, next to each
count, the protected count of the matching combination when the release
published it. Two buttons save the embedded ``synthetic.csv`` and
``aggregates.tsv``; a section shows the privacy statement and the release
parameters.

Guarantee: the page is built from the releasable outputs of a release folder
(``synthetic.csv``, ``aggregates.tsv``, ``release.json``, ``PRIVACY.md``) and
nothing else. Everything it shows is one of their values or a count of
synthetic records, which any recipient of those files can compute, so it
reveals nothing beyond the files and keeps their guarantee, whatever it is.

Every label, column name and parameter is data. Text in the markup is escaped
for HTML; the records travel as JSON inside ``<script
type="application/json">`` with ``<``, ``>``, ``&``, U+2028 and U+2029
written as ``\u`` escapes, so no value can close the element. A
Content-Security-Policy lets only the page's own script and style run and
forbids every network request.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import math
import os
import pathlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from importlib import resources
from typing import Any

import pandas as pd

from synthcase.errors import DataError, OutputError
from synthcase.measure.aggregates import parse_combination
from synthcase.report.folder import atomic_write_text
from synthcase.report.markdown import markdown_html

__all__ = ["build_showcase", "render_showcase"]

logger = logging.getLogger(__name__)

_SHOWCASE_FILE = "showcase.html"
_DEFAULT_TITLE = "Synthetic data showcase"

_PLACEHOLDER = re.compile(r"\{\{([A-Z]+)\}\}")
_JSON_UNSAFE = re.compile("[<>&\u2028\u2029]")
_COUNT = re.compile(r"[0-9]+")
_HEADER = "selections\tprotected_count"
_RECORD_COUNT = "record_count"

# Headline privacy entries shown in the masthead, in this order.
_PRIVACY_NAMES = {
    "epsilon": "\u03b5 (epsilon)",
    "delta": "\u03b4 (delta)",
    "rho": "\u03c1 (rho)",
    "k": "k (k-anonymity)",
    "unit": "Privacy unit",
    "resolution": "Resolution",
}
_LOSSES = ("epsilon", "delta", "rho")


def build_showcase(
    release_dir: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    title: str | None = None,
) -> pathlib.Path:
    """Write the showcase page of a release folder.

    Reads ``synthetic.csv``, ``aggregates.tsv``, ``release.json`` and
    ``PRIVACY.md`` from ``release_dir`` and nothing else, so the page holds
    only releasable outputs. The page is written to a temporary file in the
    target folder and moved into place, so a reader never sees half a page
    and a failure leaves any earlier page untouched.

    Args:
        release_dir: The release folder.
        output: Where to write the page; ``release_dir/showcase.html`` when
            omitted.
        title: Page title; a generic title when omitted.

    Returns:
        The path of the written page.

    Raises:
        DataError: A release file is missing or malformed.
        OutputError: The page cannot be written.
    """
    folder = pathlib.Path(release_dir)
    synthetic = _read_synthetic(folder / "synthetic.csv")
    aggregates_tsv = _read_text(folder / "aggregates.tsv")
    release_text = _read_text(folder / "release.json")
    try:
        release = json.loads(release_text)
    except json.JSONDecodeError as error:
        raise DataError(
            f"release.json in {folder} is not valid JSON ({error}); rebuild the "
            "release or restore the file"
        ) from error
    if not isinstance(release, dict):
        raise DataError(
            f"release.json in {folder} holds a {type(release).__name__}; expected "
            "a JSON object; rebuild the release"
        )
    privacy_text = _read_text(folder / "PRIVACY.md")

    page = render_showcase(
        synthetic, aggregates_tsv, release, privacy_text, title=title
    )
    target = pathlib.Path(output) if output is not None else folder / _SHOWCASE_FILE
    try:
        atomic_write_text(target, page)
    except OSError as error:
        raise OutputError(
            f"cannot write the showcase to {target} ({error}); pass an output "
            "path in a writable folder"
        ) from error
    logger.info("wrote the showcase page %s (%d bytes)", target, len(page))
    return target


def render_showcase(
    synthetic: pd.DataFrame,
    aggregates_tsv: str,
    release: Mapping[str, Any],
    privacy_text: str,
    *,
    title: str | None = None,
) -> str:
    """Return the text of the showcase page.

    A pure function of its inputs: the page holds the synthetic records, the
    aggregates text exactly as given, the release parameters, the privacy
    statement and counts of synthetic records, and nothing else.

    Args:
        synthetic: The synthetic records, one column per name in
            ``release["columns"]``, in that order; every present cell a string
            label, absent cells missing or empty.
        aggregates_tsv: The text of ``aggregates.tsv``.
        release: The parsed ``release.json``; needs ``columns``,
            ``reporting_length``, ``mode`` and ``privacy``; other keys are shown
            as they are.
        privacy_text: The text of ``PRIVACY.md`` (markdown).
        title: Page title; a generic title when omitted.

    Returns:
        The page, as HTML text.

    Raises:
        DataError: An input is malformed or the inputs disagree.
    """
    columns, reporting_length = _release_settings(release)
    aggregates = _parse_aggregates(aggregates_tsv, columns, reporting_length)
    labels, codes = _encode_synthetic(synthetic, columns, aggregates)

    payload = {
        "columns": list(columns),
        "records": len(synthetic),
        "reporting_length": reporting_length,
        "labels": labels,
        "codes": codes,
        "aggregates": aggregates_tsv,
    }
    summary = _summary_html(release, len(synthetic), aggregates.record_count)
    style = _asset("showcase.css")
    script = _asset("showcase.js")
    policy = (
        "default-src 'none'; "
        f"script-src '{_sha256(script)}'; "
        f"style-src '{_sha256(style)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    parts = {
        "CSP": policy,
        "TITLE": html.escape(title if title is not None else _DEFAULT_TITLE),
        "STYLE": style,
        "SUMMARY": summary,
        "PRIVACY": markdown_html(privacy_text),
        "PARAMETERS": _parameters_html(release),
        "DATA": _script_json(payload),
        "SCRIPT": script,
    }
    # One pass, so a placeholder-like string inside the data stays as it is.
    return _PLACEHOLDER.sub(
        lambda match: parts[match.group(1)], _asset("showcase.html")
    )


# ---- reading the release -------------------------------------------------


def _read_text(path: pathlib.Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise DataError(
            f"{path.name} is missing from the release folder {path.parent}; "
            "build the showcase from a complete release folder"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(
            f"cannot read {path} as UTF-8 text ({error}); rebuild the release"
        ) from error


def _read_synthetic(path: pathlib.Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(
            f"synthetic.csv is missing from the release folder {path.parent}; "
            "build the showcase from a complete release folder"
        )
    # Labels stay strings exactly as written ("NA", "01" and "N" are labels);
    # only an empty cell is absent.
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
        )
    except (OSError, ValueError) as error:
        raise DataError(
            f"cannot read {path} as CSV ({error}); rebuild the release"
        ) from error


def _release_settings(release: Mapping[str, Any]) -> tuple[tuple[str, ...], int]:
    missing = [
        key
        for key in ("columns", "reporting_length", "mode", "privacy")
        if key not in release
    ]
    if missing:
        raise DataError(
            f"release.json lacks {', '.join(missing)}; it needs columns, "
            "reporting_length, mode and privacy: rebuild the release"
        )
    columns = release["columns"]
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise DataError(
            f"release.json columns is {columns!r}; expected a list of column "
            "names: rebuild the release"
        )
    if len(set(columns)) != len(columns):
        raise DataError(
            f"release.json columns {columns!r} name a column twice; expected "
            "distinct names: rebuild the release"
        )
    length = release["reporting_length"]
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise DataError(
            f"release.json reporting_length is {length!r}; expected an integer "
            ">= 1: rebuild the release"
        )
    if not isinstance(release["privacy"], Mapping):
        raise DataError(
            f"release.json privacy is {release['privacy']!r}; expected an object: "
            "rebuild the release"
        )
    return tuple(columns), length


@dataclass(frozen=True)
class _Aggregates:
    """What the page needs from ``aggregates.tsv`` besides its text.

    Attributes:
        record_count: The protected record count.
        labels: Per column, every value some published combination names.
        single_counts: The protected count of each published single value,
            keyed by ``(column, value)``.
    """

    record_count: int
    labels: dict[str, set[str]]
    single_counts: dict[tuple[str, str], int]


def _parse_aggregates(
    text: str, columns: Sequence[str], reporting_length: int
) -> _Aggregates:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.removesuffix("\r") for line in lines]
    if len(lines) < 2 or lines[0] != _HEADER:
        raise DataError(
            "aggregates.tsv must start with the lines 'selections<TAB>"
            "protected_count' and 'record_count<TAB><count>'; rebuild the release"
        )
    name, record_count = _split_row(lines[1], 2)
    if name != _RECORD_COUNT:
        raise DataError(
            f"aggregates.tsv line 2 starts with {name!r}; expected "
            f"{_RECORD_COUNT!r}: rebuild the release"
        )

    labels: dict[str, set[str]] = {column: set() for column in columns}
    single_counts: dict[tuple[str, str], int] = {}
    seen: set[frozenset[tuple[str, str]]] = set()
    for number, line in enumerate(lines[2:], start=3):
        if not line:
            continue
        selections, count = _split_row(line, number)
        pairs = _selection_pairs(selections, number)
        named = [column for column, _ in pairs]
        if not all(column and value for column, value in pairs):
            raise DataError(
                f"aggregates.tsv line {number} has the selections "
                f"{selections[:80]!r}; expected 'column:value' items with a "
                "non-empty column and value: rebuild the release"
            )
        unknown = [column for column in named if column not in labels]
        if unknown:
            raise DataError(
                f"aggregates.tsv line {number} names column {unknown[0]!r}, which "
                f"is not among the release columns {list(columns)!r}; rebuild the "
                "release"
            )
        if len(set(named)) != len(named) or len(named) > reporting_length:
            raise DataError(
                f"aggregates.tsv line {number} holds {len(named)} values from "
                f"{len(set(named))} columns; a combination takes 1 to "
                f"{reporting_length} values from distinct columns: rebuild the "
                "release"
            )
        key = frozenset(pairs)
        if key in seen:
            raise DataError(
                f"aggregates.tsv line {number} repeats an earlier combination; "
                "each combination appears once: rebuild the release"
            )
        seen.add(key)
        for column, value in pairs:
            labels[column].add(value)
        if len(pairs) == 1:
            single_counts[pairs[0]] = count
    return _Aggregates(record_count, labels, single_counts)


def _selection_pairs(selections: str, number: int) -> list[tuple[str, str]]:
    """Split ``col:value;col:value`` into ``(column, value)`` pairs."""
    if "\\" in selections:
        try:
            return parse_combination(selections)
        except DataError as error:
            raise DataError(
                f"aggregates.tsv line {number}: {error}; rebuild the release"
            ) from error
    # Without a backslash nothing is escaped: plain splitting reads the same
    # pairs as the general parser, many times faster.
    pairs = [part.partition(":") for part in selections.split(";")]
    if not all(colon for _, colon, _ in pairs):
        raise DataError(
            f"aggregates.tsv line {number} has the selections {selections[:80]!r}; "
            "expected 'column:value' items: rebuild the release"
        )
    return [(column, value) for column, _, value in pairs]


def _split_row(line: str, number: int) -> tuple[str, int]:
    selections, tab, count = line.rpartition("\t")
    if not tab or _COUNT.fullmatch(count) is None:
        raise DataError(
            f"aggregates.tsv line {number} is {line[:80]!r}; expected "
            "'<selections><TAB><count>' with a non-negative integer count: "
            "rebuild the release"
        )
    return selections, int(count)


# ---- encoding the records -----------------------------------------------


def _encode_synthetic(
    synthetic: pd.DataFrame, columns: Sequence[str], aggregates: _Aggregates
) -> tuple[list[list[str]], list[list[int]]]:
    """Return per-column label lists and per-column code lists (-1 absent).

    Labels come from the synthetic records and from the aggregates, so a
    published value with no synthetic record still gets a bar. They are
    ordered by synthetic count, then protected count, then label.
    """
    if list(synthetic.columns) != list(columns):
        raise DataError(
            f"synthetic.csv has the columns {list(synthetic.columns)!r}; "
            f"release.json lists {list(columns)!r}; both come from one release: "
            "rebuild the release"
        )
    labels: list[list[str]] = []
    codes: list[list[int]] = []
    for column in columns:
        series = synthetic[column]
        present = series[series.notna() & series.ne("")]
        if pd.api.types.infer_dtype(present, skipna=True) not in ("string", "empty"):
            strange = present[[not isinstance(value, str) for value in present]]
            raise DataError(
                f"synthetic column {column!r} holds {strange.iloc[0]!r} of type "
                f"{type(strange.iloc[0]).__name__}; every value must be a string "
                "label: read synthetic.csv with dtype=str"
            )
        synthetic_counts = Counter(present.tolist())
        published = aggregates.single_counts
        ordered = sorted(
            set(synthetic_counts) | aggregates.labels[column],
            key=lambda label: (
                -synthetic_counts[label],
                -published.get((column, label), 0),
                label,
            ),
        )
        index = {label: code for code, label in enumerate(ordered)}
        # Absent and empty cells are not in the index and map to -1.
        encoded = series.map(index).fillna(-1).astype("int64")
        labels.append(ordered)
        codes.append(encoded.tolist())
    return labels, codes


def _script_json(payload: Mapping[str, Any]) -> str:
    r"""Serialise for a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` only occur inside JSON strings, where their ``\u``
    escapes mean the same; escaping them means no value can end the element or
    open a comment. U+2028 and U+2029 are escaped so the text stays valid
    JavaScript too.
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


# ---- markup ---------------------------------------------------------------


def _asset(name: str) -> str:
    return (
        resources.files(__package__ or "synthcase.report")
        .joinpath("assets")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _display(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _summary_html(
    release: Mapping[str, Any], synthetic_records: int, protected_records: int
) -> str:
    """Return the masthead figures: counts, mode and headline privacy parameters.

    Privacy losses are shown rounded up to three significant digits, with
    the exact value as a tooltip: a rounded figure may overstate the loss,
    never understate it. Every entry, headline or not, is also listed in
    full by :func:`_parameters_html`.
    """
    stats: list[tuple[str, str, str | None, bool]] = [
        ("Synthetic records", str(synthetic_records), None, True),
        ("Protected record count", str(protected_records), None, True),
        ("Mode", _display(release["mode"]), None, False),
        ("Reporting length", _display(release["reporting_length"]), None, False),
    ]
    privacy = release["privacy"]
    for key, name in _PRIVACY_NAMES.items():
        if key not in privacy:
            continue
        value = privacy[key]
        if key in _LOSSES and isinstance(value, float) and math.isfinite(value):
            stats.append((name, _round_up(value), repr(value), False))
        else:
            stats.append((name, _display(value), None, False))
    items = []
    for name, shown, exact, primary in stats:
        css = "stat stat-primary" if primary else "stat"
        tooltip = f' title="{html.escape(exact)}"' if exact is not None else ""
        items.append(
            f'<div class="{css}"{tooltip}><dt>{html.escape(name)}</dt>'
            f"<dd>{html.escape(shown)}</dd></div>"
        )
    return f'<dl class="stats">{"".join(items)}</dl>'


def _round_up(value: float, digits: int = 3) -> str:
    """Show ``value`` with ``digits`` significant digits, rounded up.

    >>> _round_up(3.9999999977), _round_up(1.3434826e-05), _round_up(0.5)
    ('4', '1.35e-05', '0.5')
    """
    exact = Decimal(repr(value))
    if exact == 0:
        return "0"
    step = Decimal(1).scaleb(exact.adjusted() - digits + 1)
    return f"{float(exact.quantize(step, rounding=ROUND_CEILING)):.{digits}g}"


def _parameters_html(release: Mapping[str, Any]) -> str:
    """Return every entry of ``release.json`` as tables.

    Plain entries form a two-column table; an object becomes a titled group
    (folded away below the top level), and a list of objects becomes a
    folded table with one row per object.
    """
    return _entries_html(release, depth=0)


def _entries_html(entries: Mapping[str, Any], depth: int) -> str:
    rows: list[str] = []
    groups: list[str] = []
    for key, value in entries.items():
        name = html.escape(str(key))
        if isinstance(value, Mapping) and value:
            inner = _entries_html(value, depth + 1)
            groups.append(
                f'<section class="group"><h4>{name}</h4>{inner}</section>'
                if depth == 0
                else f"<details><summary>{name}</summary>{inner}</details>"
            )
        elif _is_records(value):
            groups.append(
                f"<details><summary>{name} ({len(value)})</summary>"
                f"{_records_html(value)}</details>"
            )
        else:
            rows.append(
                f'<tr><th scope="row">{name}</th>'
                f"<td>{html.escape(_display_entry(value))}</td></tr>"
            )
    table = f"<table><tbody>{''.join(rows)}</tbody></table>" if rows else ""
    return table + "".join(groups)


def _is_records(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, Mapping) for item in value)
    )


def _records_html(records: list[Mapping[str, Any]]) -> str:
    keys = list(dict.fromkeys(str(key) for record in records for key in record))
    head = "".join(f'<th scope="col">{html.escape(key)}</th>' for key in keys)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(_display_entry(record[key]))}</td>"
            if key in record
            else "<td></td>"
            for key in keys
        )
        + "</tr>"
        for record in ({str(k): v for k, v in r.items()} for r in records)
    )
    return (
        '<div class="records"><table><thead><tr>'
        f"{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _display_entry(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return _display(value)
