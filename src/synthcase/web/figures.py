"""What the compare view shows of a run's evaluation, as plain text and shares.

:func:`evaluation_figures` turns the library's evaluation into
:class:`Figures`: headline scores, bars of shares, small tables and the
summary sentences. The compare page draws them as they are, so what the
steward reads is exactly what the library computed.

A flat run shows the k-marginal score of its synthetic records and the
share of each length's true counts they keep. A linked run shows the same
for its synthetic persons (one row per person, as in ``aggregates.tsv``),
plus the number of links per person (true, protected and synthetic), the
distances between the true and the synthetic marginals by kind (person
columns, link columns and person x link pairs) and, per person, the risk of
being singled out by the values of all their rows.

Every figure is computed from the sensitive records: the whole of it stays
with the steward.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synthcase.evaluate import Evaluation, LinkedEvaluation, SensitiveRisk

__all__ = ["Figures", "Score", "Shares", "Table", "evaluation_figures"]


@dataclass(frozen=True)
class Score:
    """A headline figure and how the page writes it.

    Attributes:
        name: What the figure is, in words.
        text: The figure as shown, ``"n/a"`` when the library has none.
    """

    name: str
    text: str


@dataclass(frozen=True)
class Shares:
    """Shares drawn as bars, one per row.

    Attributes:
        title: What the shares are.
        rows: ``(label, share)`` pairs, each share in ``[0, 1]``.
    """

    title: str
    rows: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Table:
    """A small table of figures, written as text.

    Attributes:
        title: What the table shows.
        header: Column headings.
        rows: One tuple of texts per row, as long as ``header``.
    """

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figures:
    """Everything the compare view shows of one evaluation."""

    scores: tuple[Score, ...]
    shares: tuple[Shares, ...]
    tables: tuple[Table, ...]
    summary: tuple[str, ...]


def evaluation_figures(evaluation: Any) -> Figures:
    """The figures of a flat or a linked evaluation, ready to draw."""
    if hasattr(evaluation, "links_per_subject"):
        return _linked(evaluation)
    return _flat(evaluation)


def _flat(evaluation: Evaluation) -> Figures:
    return Figures(
        scores=(Score("k-marginal score", _score(evaluation.k_marginal)),),
        shares=(
            Shares(
                "Share of each length's true counts kept by the synthetic records",
                _kept(evaluation),
            ),
        ),
        tables=(),
        summary=tuple(evaluation.summary),
    )


def _linked(evaluation: LinkedEvaluation) -> Figures:
    unit = evaluation.unit
    subjects = evaluation.subjects
    links = evaluation.links_per_subject
    own = subjects.sensitive_risk
    risk = evaluation.link_risk
    scores = [
        Score(
            f"k-marginal score of the synthetic {unit}s", _score(subjects.k_marginal)
        ),
        Score(
            f"Mean links per {unit}",
            f"true {_number(links.sensitive_mean)} · synthetic "
            f"{_number(links.synthetic_mean)}",
        ),
        Score(
            f"Distance of the links per {unit} (bins)",
            _number(links.binned_distance),
        ),
        Score(f"{unit.capitalize()}s at risk on their own values", _risk(own)),
    ]
    shares = [
        Shares(
            f"Share of each length's true {unit} counts kept by the synthetic {unit}s",
            _kept(subjects),
        )
    ]
    if risk is not None:
        scores.append(
            Score(f"{unit.capitalize()}s at risk with their links' values", _risk(risk))
        )
        shares.append(
            Shares(
                f"{unit.capitalize()}s with a rare combination of values of all "
                "their rows",
                tuple(
                    (_up_to(row.length), row.rare_share or 0.0)
                    for row in risk.by_length
                ),
            )
        )
    tables = (
        Table(
            f"Links per {unit}",
            ("links", f"true {unit}s", "protected", f"synthetic {unit}s"),
            tuple(
                (
                    row.label,
                    f"{row.sensitive_subjects:,}",
                    "—"
                    if row.protected_subjects is None
                    else f"{row.protected_subjects:,}",
                    f"{row.synthetic_subjects:,}",
                )
                for row in links.bins
            ),
        ),
        Table(
            "Distance between true and synthetic marginals (total variation)",
            ("marginals", "how many", "mean", "worst", "worst columns"),
            tuple(
                (
                    row.kind.replace("subject", unit),
                    str(row.marginals),
                    _number(row.mean_distance),
                    _number(row.worst_distance),
                    " x ".join(row.worst_columns),
                )
                for row in evaluation.by_kind
            ),
        ),
    )
    return Figures(tuple(scores), tuple(shares), tables, tuple(evaluation.summary))


def _kept(evaluation: Evaluation) -> tuple[tuple[str, float], ...]:
    """Each length's mean share of the true counts kept (0 when none)."""
    return tuple(
        (f"length {row.length}", row.mean_preservation or 0.0)
        for row in evaluation.synthetic_fidelity.by_length
    )


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} of 1000"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f} %"


def _risk(risk: SensitiveRisk) -> str:
    """The shares of units unique and rare on up to ``R`` values."""
    return f"unique {_percent(risk.unique_share)} · rare {_percent(risk.rare_share)}"


def _up_to(length: int) -> str:
    return f"up to {length} value{'s' if length > 1 else ''}"
