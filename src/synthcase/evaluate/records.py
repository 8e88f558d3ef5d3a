"""The synthetic records against the sensitive records, as wholes.

How many synthetic records there are for each sensitive record, and how many
of each have every released column filled. Computed from the sensitive
records, these are sensitive like the rest of the evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthcase.prepare.table import ABSENT, EncodedTable

__all__ = ["RecordComparison", "compare_records"]


@dataclass(frozen=True)
class RecordComparison:
    """The synthetic records against the sensitive records, as wholes.

    Attributes:
        record_expansion: Synthetic records over sensitive records.
        sensitive_filled_share: Share of sensitive records with no absent
            cell among the released columns.
        synthetic_filled_share: The same share for the synthetic records.
    """

    record_expansion: float | None
    sensitive_filled_share: float | None
    synthetic_filled_share: float | None


def compare_records(
    sensitive: EncodedTable, synthetic: EncodedTable
) -> RecordComparison:
    """Compare the number and completeness of the records of two tables.

    Example:
        >>> import numpy as np
        >>> two = EncodedTable(("A",), (("x",),), np.array([[0], [-1]], np.int32))
        >>> one = EncodedTable(("A",), (("x",),), np.array([[0]], np.int32))
        >>> compare_records(two, one)
        RecordComparison(record_expansion=0.5, sensitive_filled_share=0.5, \
synthetic_filled_share=1.0)
    """

    def filled(table: EncodedTable) -> float | None:
        if table.n_records == 0:
            return None
        return float((table.codes != ABSENT).all(axis=1).mean())

    n_true, n_synthetic = sensitive.n_records, synthetic.n_records
    return RecordComparison(
        record_expansion=n_synthetic / n_true if n_true else None,
        sensitive_filled_share=filled(sensitive),
        synthetic_filled_share=filled(synthetic),
    )
