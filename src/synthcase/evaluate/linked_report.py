"""The steward's report of a linked release: page, JSON and CSV files.

:func:`write_linked_evaluation` writes the same files as the flat report
(:mod:`.report`), with the same do-not-share banner, strict
Content-Security-Policy and escaping: ``report.html``, ``evaluation.json``
and one CSV file per table of :meth:`LinkedEvaluation.tables`. The page
shows the subjects first, with the charts of the flat report, then the
links: links per subject, the distances of the marginals by kind, and the
subjects exposed by the values of their links. Everything is sensitive.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from synthcase.evaluate.charts import bar_chart
from synthcase.evaluate.linked import LinkedEvaluation
from synthcase.evaluate.report import (
    evaluation_sections,
    figures,
    page,
    summary_list,
    write_files,
)
from synthcase.evaluate.summary import percent

__all__ = ["render_linked_report", "write_linked_evaluation"]


def write_linked_evaluation(
    evaluation: LinkedEvaluation, folder: str | os.PathLike[str]
) -> Path:
    """Write the steward's report of a linked release, its JSON and CSV files.

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
        folder,
        evaluation.tables(),
        evaluation.to_dict(),
        render_linked_report(evaluation),
    )


def render_linked_report(evaluation: LinkedEvaluation) -> str:
    """Return the linked report page as one self-contained HTML text."""
    ev = evaluation
    subjects = ev.subjects
    unit = ev.unit
    noun = unit[:1].upper() + unit[1:] + "s"
    meta = (
        f'<p class="meta">One row per {_e(unit)} ({_e(unit)} columns and the '
        f"binned number of links): {_e(', '.join(subjects.columns))}. Link "
        f"columns: {_e(', '.join(ev.link_columns) or 'none')}. Combinations of "
        f"length 1 to {subjects.reporting_length}; rare means fewer than "
        f"{subjects.resolution} {_e(unit)}s.</p>"
    )
    return page(
        "Linked release evaluation",
        [
            meta,
            *summary_list(ev.summary),
            *evaluation_sections(subjects, prefix=f"{noun}: "),
            "<h2>Links</h2>",
            _links_note(ev),
            '<div class="charts">',
            *_link_charts(ev),
            "</div>",
            *figures(ev.tables()),
        ],
    )


def _link_charts(ev: LinkedEvaluation) -> list[str]:
    links = ev.links_per_subject
    labels = [row.label for row in links.bins]
    protected = [row.protected_subjects for row in links.bins]
    total = sum(max(0, p) for p in protected if p is not None)
    series: list[tuple[str, list[float | None]]] = [
        ("sensitive", [row.sensitive_share for row in links.bins]),
        ("synthetic", [row.synthetic_share for row in links.bins]),
    ]
    if total and all(p is not None for p in protected):
        # Negative noisy counts show as empty bins, as synthesis reads them.
        series.insert(1, ("protected", [max(0, p or 0) / total for p in protected]))
    kinds = ev.by_kind
    charts = [
        bar_chart(
            f"{ev.unit.capitalize()}s by number of links",
            labels,
            series,
            percent=True,
            axis_label=f"links per {ev.unit}",
        ),
        bar_chart(
            "Total variation distance of the marginals, by kind",
            [row.kind for row in kinds],
            [
                ("mean", [row.mean_distance for row in kinds]),
                ("worst", [row.worst_distance for row in kinds]),
            ],
            axis_label="columns joined",
        ),
    ]
    risk = ev.link_risk
    if risk is not None:
        charts += [
            bar_chart(
                f"Sensitive {ev.unit}s holding a unique or rare combination of "
                "their and their links' values",
                [f"up to {row.length}" for row in risk.by_length],
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
                "Rare combinations with link values that are rare among the "
                "synthetic links",
                [str(row.length) for row in ev.link_leakage],
                [
                    (
                        "leaked",
                        [row.share_of_sensitive_rare for row in ev.link_leakage],
                    )
                ],
                percent=True,
                axis_label="combination length",
            ),
        ]
    return charts


def _links_note(ev: LinkedEvaluation) -> str:
    links = ev.links_per_subject
    return (
        f"<p>Mean links per {_e(ev.unit)}: sensitive "
        f"{_e(_number(links.sensitive_mean))}, synthetic "
        f"{_e(_number(links.synthetic_mean))}. With a single link: sensitive "
        f"{_e(percent(links.sensitive_single_share))}, synthetic "
        f"{_e(percent(links.synthetic_single_share))}. Subject columns are "
        f"compared on one row per {_e(ev.unit)}, link columns on one row per "
        "link.</p>"
    )


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
