"""The evaluation of a linked release in five plain sentences.

One sentence each for the risk of the sensitive data, the utility of the
subject aggregates, the privacy and the utility of the synthetic subjects,
and the fidelity of the synthetic links, written for a data steward who
does not read tables, in the words of the flat summary (:mod:`.summary`).
The sentences quote sensitive figures, so they are as sensitive as the rest
of the evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

from synthcase.evaluate.distances import KindDistance
from synthcase.evaluate.evaluation import Evaluation
from synthcase.evaluate.links import LinksPerSubject
from synthcase.evaluate.risk import LengthLeakage, SensitiveRisk
from synthcase.evaluate.summary import fabricated_share, percent, suppressed_share

__all__ = ["summarize_linked"]

_SUBJECT_LINK = "subject x link"


def summarize_linked(
    *,
    unit: str,
    subjects: Evaluation,
    links: LinksPerSubject,
    by_kind: Sequence[KindDistance],
    link_risk: SensitiveRisk | None,
    link_leakage: Sequence[LengthLeakage],
) -> tuple[str, str, str, str, str]:
    """Write the five summary sentences.

    Args:
        unit: The privacy unit in words, for example ``"victim"``.
        subjects: The evaluation of the subject table.
        links: Links per subject, sensitive against synthetic.
        by_kind: The marginal distances summarised by kind.
        link_risk: Exposure by subject and link values together, or
            ``None`` without link columns.
        link_leakage: Rare combinations of subject and link values that the
            synthetic links carry, per length.

    Returns:
        Risk in the sensitive data, utility of the subject aggregates,
        privacy of the synthetic subjects and links, utility of the synthetic
        subjects, fidelity of the synthetic links.
    """
    risk = subjects.sensitive_risk
    length = subjects.reporting_length
    values = "value" if length == 1 else f"up to {length} values"
    with_links = (
        ""
        if link_risk is None
        else f"; counting the values of their links too, "
        f"{percent(link_risk.unique_share)} and {percent(link_risk.rare_share)}"
    )
    ranked = link_risk.columns if link_risk is not None else risk.columns
    linkable = (
        f"; the column in the most rare combinations is {ranked[0].column}"
        if ranked
        else ""
    )
    sentence_risk = (
        f"In the sensitive data, {percent(risk.unique_share)} of {unit}s hold a "
        f"combination of {values} of their own that no other {unit} holds and "
        f"{percent(risk.rare_share)} one that fewer than {risk.resolution} "
        f"{unit}s share{with_links}{linkable}."
    )

    aggregates = subjects.aggregates_fidelity
    if aggregates is None:
        sentence_aggregates = f"No {unit} aggregates were evaluated."
    else:
        sentence_aggregates = (
            f"The {unit} aggregates keep {percent(aggregates.mean_preservation)} "
            "of the sensitive counts on average (mean absolute error "
            f"{_number(aggregates.mean_absolute_error)} per combination), "
            f"suppress {percent(suppressed_share(aggregates))} of the "
            "sensitive combinations and fabricate "
            f"{percent(fabricated_share(aggregates))} of theirs."
        )

    rare = sum(row.sensitive_rare for row in subjects.synthetic_leakage)
    leaked = sum(row.leaked for row in subjects.synthetic_leakage)
    rare_links = sum(row.sensitive_rare for row in link_leakage)
    leaked_links = sum(row.leaked for row in link_leakage)
    of_links = (
        ""
        if link_risk is None
        else f"; of the {rare_links} that include a value of their links, "
        f"{percent(_ratio(leaked_links, rare_links))} ({leaked_links}) appear "
        "as rare among the synthetic links"
    )
    sentence_privacy = (
        f"Of the {rare} combinations of {values} that fewer than "
        f"{risk.resolution} sensitive {unit}s share, "
        f"{percent(_ratio(leaked, rare))} ({leaked}) appear as rare "
        f"combinations among the synthetic {unit}s too{of_links}."
    )

    synthetic = subjects.synthetic_fidelity
    sentence_utility = (
        f"The synthetic {unit}s score {_score(subjects.k_marginal)} of 1000 on "
        f"NIST's k-marginal measure and {_score(subjects.three_way)} on 3-way "
        f"marginals, keep {percent(synthetic.mean_preservation)} of the "
        f"sensitive counts on average and number "
        f"{_number(subjects.records.record_expansion, 2)} times the sensitive "
        f"{unit}s."
    )

    pairs = next((row for row in by_kind if row.kind == _SUBJECT_LINK), None)
    of_pairs = (
        ""
        if pairs is None
        else f"; pairs of a {unit} column and a link column are at a mean total "
        f"variation distance of {_number(pairs.mean_distance, 3)}, the farthest "
        f"being {' x '.join(pairs.worst_columns)} at "
        f"{_number(pairs.worst_distance, 3)}"
    )
    sentence_links = (
        f"The synthetic {unit}s have {_number(links.synthetic_mean, 2)} links on "
        f"average against {_number(links.sensitive_mean, 2)} for the sensitive "
        "ones (total variation distance over the declared bins "
        f"{_number(links.binned_distance, 3)}, over the exact numbers "
        f"{_number(links.exact_distance, 3)}){of_pairs}."
    )
    return (
        sentence_risk,
        sentence_aggregates,
        sentence_privacy,
        sentence_utility,
        sentence_links,
    )


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"
