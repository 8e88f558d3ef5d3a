"""The evaluation in four plain sentences.

One sentence each for the risk of the sensitive data, the utility of the
aggregates, the privacy of the synthetic data and the utility of the
synthetic data, written for a data steward who does not read tables. The
sentences quote sensitive figures, so they are as sensitive as the rest of
the evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

from synthcase.evaluate.fidelity import Fidelity
from synthcase.evaluate.records import RecordComparison
from synthcase.evaluate.risk import LengthLeakage, SensitiveRisk

__all__ = ["fabricated_share", "percent", "summarize", "suppressed_share"]


def percent(share: float | None) -> str:
    """Write a share as a percentage with one decimal.

    >>> percent(0.1234), percent(None), percent(1.0)
    ('12.3%', 'n/a', '100.0%')
    """
    return "n/a" if share is None else f"{100 * share:.1f}%"


def summarize(
    *,
    risk: SensitiveRisk,
    aggregates: Fidelity | None,
    synthetic: Fidelity,
    leakage: Sequence[LengthLeakage],
    records: RecordComparison,
    k_marginal: float | None,
    three_way: float | None,
    reporting_length: int,
) -> tuple[str, str, str, str]:
    """Write the four summary sentences.

    Returns:
        Risk in the sensitive data, utility of the aggregates, privacy of the
        synthetic data, utility of the synthetic data.
    """
    unit = risk.unit
    values = "value" if reporting_length == 1 else f"up to {reporting_length} values"
    linkable = (
        f"; the column in the most rare combinations is {risk.columns[0].column}"
        if risk.columns
        else ""
    )
    sentence_risk = (
        f"In the sensitive data, {percent(risk.unique_share)} of {unit}s hold a "
        f"combination of {values} that no other {unit} holds, and "
        f"{percent(risk.rare_share)} hold one that fewer than {risk.resolution} "
        f"{unit}s share{linkable}."
    )

    if aggregates is None:
        sentence_aggregates = "No aggregates were evaluated."
    else:
        sentence_aggregates = (
            f"The aggregates keep {percent(aggregates.mean_preservation)} of the "
            "sensitive counts on average (mean absolute error "
            f"{_number(aggregates.mean_absolute_error)} per combination), "
            f"suppress {percent(suppressed_share(aggregates))} of the sensitive "
            f"combinations and fabricate {percent(fabricated_share(aggregates))} of "
            "theirs."
        )

    rare = sum(row.sensitive_rare for row in leakage)
    leaked = sum(row.leaked for row in leakage)
    sentence_privacy = (
        f"Of the {rare} combinations of {values} that fewer than "
        f"{risk.resolution} sensitive {unit}s share, "
        f"{percent(leaked / rare if rare else None)} ({leaked}) appear as rare "
        "combinations in the synthetic data too, where "
        f"{percent(fabricated_share(synthetic))} of the combinations are fabricated."
    )

    sentence_utility = (
        "The synthetic data score "
        f"{_score(k_marginal)} of 1000 on NIST's k-marginal measure and "
        f"{_score(three_way)} on 3-way marginals, keep "
        f"{percent(synthetic.mean_preservation)} of the sensitive counts on "
        f"average and hold {_number(records.record_expansion, 2)} times as many "
        "records as the sensitive data."
    )
    return sentence_risk, sentence_aggregates, sentence_privacy, sentence_utility


def suppressed_share(fidelity: Fidelity) -> float | None:
    """Sensitive combinations the release lacks, over all lengths, as a share."""
    whole = sum(row.sensitive_combinations for row in fidelity.by_length)
    part = sum(row.suppressed for row in fidelity.by_length)
    return part / whole if whole else None


def fabricated_share(fidelity: Fidelity) -> float | None:
    """Released combinations no sensitive record holds, over all lengths."""
    whole = sum(row.released_combinations for row in fidelity.by_length)
    part = sum(row.fabricated for row in fidelity.by_length)
    return part / whole if whole else None


def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"
