"""The steward's report: the evaluation as a page, JSON and CSV files.

:func:`write_evaluation` writes into one folder:

* ``report.html``: a self-contained page (inline SVG charts drawn by
  :mod:`.charts`, inline CSS, no script, no network request, forbidden by
  its Content-Security-Policy) with a banner saying it compares against the
  sensitive data and must not be shared;
* ``evaluation.json``: every figure, from :meth:`Evaluation.to_dict`;
* one CSV file per table of :meth:`Evaluation.tables`.

Each file is written to a temporary file in the folder and moved into place,
so a reader never sees half a file. Every value shown on the page is
escaped for HTML. The files are sensitive, like the evaluation.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from synthcase.errors import OutputError
from synthcase.evaluate.charts import bar_chart, score_meter
from synthcase.evaluate.evaluation import SENSITIVE_NOTICE, Evaluation
from synthcase.evaluate.fidelity import Fidelity
from synthcase.evaluate.summary import percent

__all__ = [
    "JSON_FILE",
    "REPORT_FILE",
    "evaluation_sections",
    "figures",
    "page",
    "render_report",
    "summary_list",
    "write_evaluation",
    "write_files",
]

logger = logging.getLogger(__name__)

REPORT_FILE = "report.html"
JSON_FILE = "evaluation.json"

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:1000px;
padding:0 16px 40px;color:#222}
.banner{background:#a11;color:#fff;padding:12px 16px;margin:0 -16px 16px;
font-weight:600}
h1{font-size:24px}h2{font-size:19px;border-bottom:1px solid #ccc;margin-top:32px}
.meta{color:#555}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));
gap:8px 24px}
figure.chart{margin:12px 0}
figure.chart svg{width:100%;height:auto}
figcaption{font-size:14px;font-weight:600}
.grid{stroke:#ddd;stroke-width:1}
.tick,.value,.legend,.axis{font:11px system-ui,sans-serif;fill:#333}
.meter{display:flex;align-items:center;gap:12px;margin:6px 0}
.meter-label{width:260px}.meter-track{fill:#e6e6e6}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td.text{text-align:left}
"""


def write_evaluation(evaluation: Evaluation, folder: str | os.PathLike[str]) -> Path:
    """Write the steward's report, its JSON and its CSV files.

    Args:
        evaluation: The evaluation to write.
        folder: Where to write; created when missing. Existing files of the
            same names are replaced.

    Returns:
        The path of ``report.html``.

    Raises:
        OutputError: When the folder cannot be created or written.
    """
    return write_files(
        folder, evaluation.tables(), evaluation.to_dict(), render_report(evaluation)
    )


def write_files(
    folder: str | os.PathLike[str],
    tables: Mapping[str, pd.DataFrame],
    figures: Mapping[str, Any],
    page: str,
) -> Path:
    """Write the CSV tables, the figures as JSON and the page into ``folder``.

    Each file is written whole to a temporary file and moved into place.

    Returns:
        The path of ``report.html``.

    Raises:
        OutputError: When the folder cannot be created or written.
    """
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(
            f"cannot create the evaluation folder {str(target)!r} ({error}); "
            "choose a folder you can write to"
        ) from error
    for name, table in tables.items():
        _write(target / f"{name}.csv", table.to_csv(index=False, lineterminator="\n"))
    document = json.dumps(figures, indent=2, ensure_ascii=False)
    _write(target / JSON_FILE, document + "\n")
    report = target / REPORT_FILE
    _write(report, page)
    logger.info(
        "wrote the steward's evaluation (sensitive, not to be shared) to %s", target
    )
    return report


def render_report(evaluation: Evaluation) -> str:
    """Return the report page as one self-contained HTML text."""
    ev = evaluation
    return page(
        "Release evaluation",
        [
            f'<p class="meta">Columns: {_e(", ".join(ev.columns))}. Combinations '
            f"of length 1 to {ev.reporting_length}; rare means fewer than "
            f"{ev.resolution} {_e(ev.sensitive_risk.unit)}s.</p>",
            *summary_list(ev.summary),
            *evaluation_sections(ev),
            *figures(ev.tables()),
        ],
    )


def page(heading: str, body: Sequence[str]) -> str:
    """A self-contained page: the do-not-share banner, a heading, the body."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">',
            '<meta name="robots" content="noindex">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(heading)} against the sensitive data (do not share)</title>",
            f"<style>{_STYLE}</style></head><body>",
            '<div class="banner" role="alert">Sensitive: do not share. '
            f"{_e(SENSITIVE_NOTICE)}</div>",
            f"<h1>{_e(heading)}</h1>",
            *body,
            "</body></html>\n",
        ]
    )


def summary_list(sentences: Sequence[str]) -> list[str]:
    """The summary sentences as a numbered list under a heading."""
    return [
        "<h2>Summary</h2><ol>",
        *(f"<li>{_e(sentence)}</li>" for sentence in sentences),
        "</ol>",
    ]


def evaluation_sections(ev: Evaluation, prefix: str = "") -> list[str]:
    """Scores, counts kept and privacy of one evaluation, headed by ``prefix``."""
    return [
        f"<h2>{_e(prefix)}Scores</h2>",
        score_meter("k-marginal (NIST)", ev.k_marginal),
        score_meter("3-way marginals", ev.three_way),
        f"<p>Synthetic records per sensitive record: "
        f"{_e(_number(ev.records.record_expansion))}. Records with every "
        f"column filled: sensitive {_e(percent(ev.records.sensitive_filled_share))}"
        f", synthetic {_e(percent(ev.records.synthetic_filled_share))}.</p>",
        f'<h2>{_e(prefix)}Counts kept</h2><div class="charts">',
        *_fidelity_charts(
            [p for p in (ev.aggregates_fidelity, ev.synthetic_fidelity) if p]
        ),
        f'</div><h2>{_e(prefix)}Privacy</h2><div class="charts">',
        *_privacy_charts(ev),
        "</div>",
    ]


def figures(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """Every table, under a heading."""
    parts = ["<h2>Figures</h2>"]
    for name, table in tables.items():
        parts.append(f"<h3>{_e(name.replace('_', ' '))}</h3>{_table(table)}")
    return parts


def _fidelity_charts(parts: Sequence[Fidelity]) -> list[str]:
    if not parts:
        return []
    widest = max(parts, key=lambda p: len(p.by_bucket))
    buckets = [b.bucket for b in widest.by_bucket]

    def by_bucket(p: Fidelity, field: str) -> list[float | None]:
        found = {b.bucket: getattr(b, field) for b in p.by_bucket}
        return [found.get(b) for b in buckets]

    lengths = [str(row.length) for row in parts[0].by_length]

    def by_length(p: Fidelity, field: str) -> list[float | None]:
        return [getattr(row, field) for row in p.by_length]

    return [
        bar_chart(
            "Preservation min(released / true, 1) by true count",
            buckets,
            [(p.source, by_bucket(p, "mean_preservation")) for p in parts],
            percent=True,
            maximum=1.0,
            axis_label="true count of the combination",
        ),
        bar_chart(
            "Mean proportional error |released - true| / true by true count",
            buckets,
            [(p.source, by_bucket(p, "mean_proportional_error")) for p in parts],
            percent=True,
            axis_label="true count of the combination",
        ),
        bar_chart(
            "Preservation by combination length",
            lengths,
            [(p.source, by_length(p, "mean_preservation")) for p in parts],
            percent=True,
            maximum=1.0,
            axis_label="combination length",
        ),
        bar_chart(
            "Mean absolute error by combination length",
            lengths,
            [(p.source, by_length(p, "mean_absolute_error")) for p in parts],
            axis_label="combination length",
        ),
        bar_chart(
            "Suppressed share of the sensitive combinations",
            lengths,
            [(p.source, by_length(p, "suppressed_share")) for p in parts],
            percent=True,
            axis_label="combination length",
        ),
        bar_chart(
            "Fabricated share of the released combinations",
            lengths,
            [(p.source, by_length(p, "fabricated_share")) for p in parts],
            percent=True,
            axis_label="combination length",
        ),
    ]


def _privacy_charts(ev: Evaluation) -> list[str]:
    risk = ev.sensitive_risk
    lengths = [str(row.length) for row in risk.by_length]
    return [
        bar_chart(
            f"Sensitive {risk.unit}s holding a unique or rare combination",
            [f"up to {n}" for n in lengths],
            [
                ("unique", [row.unique_share for row in risk.by_length]),
                (
                    f"rare (< {risk.resolution})",
                    [row.rare_share for row in risk.by_length],
                ),
            ],
            percent=True,
            axis_label="combination length",
        ),
        bar_chart(
            "Rare sensitive combinations that are rare in the synthetic data",
            [str(row.length) for row in ev.synthetic_leakage],
            [("leaked", [row.share_of_sensitive_rare for row in ev.synthetic_leakage])],
            percent=True,
            axis_label="combination length",
        ),
    ]


def _table(table: pd.DataFrame) -> str:
    if table.empty:
        return "<p>None.</p>"
    header = "".join(f"<th>{_e(column)}</th>" for column in table.columns)
    body = []
    for row in table.itertuples(index=False):
        cells = []
        for value in row:
            kind = ' class="text"' if isinstance(value, str) else ""
            cells.append(f"<td{kind}>{_e(_cell(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    rows = "".join(body)
    return f'<div class="scroll"><table><tr>{header}</tr>{rows}</table></div>'


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _write(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then move it there."""
    temp_name = None
    try:
        with tempfile.NamedTemporaryFile(
            "w",
            encoding="utf-8",
            newline="",
            dir=path.parent,
            prefix=f".{path.name}.",
            suffix=".tmp",
            delete=False,
        ) as handle:
            temp_name = handle.name
            handle.write(text)
        os.replace(temp_name, path)
    except OSError as error:
        if temp_name is not None and os.path.exists(temp_name):
            os.unlink(temp_name)
        raise OutputError(
            f"cannot write {str(path)!r} ({error}); check the folder's "
            "permissions and free space"
        ) from error
