"""Re-identification risk: in the sensitive records, and leaked into the release.

*Sensitive risk* says how exposed the sensitive records are before any
protection: the share of units (records, or subjects) that hold a
combination of up to ``R`` values that no other unit holds (unique), or that
fewer than ``resolution`` units hold (rare), and which columns and values
take part in the most rare combinations (the most linkable ones, those an
attacker who knows a few facts about a person would use).

*Leakage* says how much of that rare structure the synthetic records carry:
the rare sensitive combinations that are also rare, but present, in the
synthetic records. A rare combination reappearing as rare is what lets a
reader who knows it point at a person; a rare one suppressed or inflated to
a common count does not.

Everything here is computed from the sensitive records and names their rare
values: it is sensitive and stays with the steward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from synthcase.evaluate.counting import KeyCounts, units_at_risk
from synthcase.measure.combinations import CombinationSpace, IntArray
from synthcase.prepare.table import EncodedTable

__all__ = [
    "LengthLeakage",
    "LengthRisk",
    "Linkable",
    "SensitiveRisk",
    "assess_sensitive_risk",
    "rare_leakage",
]


@dataclass(frozen=True)
class LengthRisk:
    """Units exposed by combinations of up to one length.

    Attributes:
        length: Combinations of length ``1..length`` are considered.
        unique_share: Share of units holding a combination no other unit
            holds.
        rare_share: Share of units holding a combination fewer than
            ``resolution`` units hold.
    """

    length: int
    unique_share: float | None
    rare_share: float | None


@dataclass(frozen=True)
class Linkable:
    """A column, or a column's value, ranked by the rare combinations it is in.

    Attributes:
        column: Column name.
        value: The value's label; ``None`` for the column as a whole.
        rare_combinations: Rare sensitive combinations (every length) that
            use the column or value.
        share: ``rare_combinations`` over all rare sensitive combinations.
    """

    column: str
    value: str | None
    rare_combinations: int
    share: float | None


@dataclass(frozen=True)
class SensitiveRisk:
    """How exposed the sensitive records are, before any protection.

    Attributes:
        unit: ``"record"`` or ``"subject"``: what a share is a share of.
        resolution: Combinations held by fewer units than this are rare.
        by_length: One entry per length ``1..R``, cumulative.
        columns: Columns by rare combinations, most linkable first.
        values: Values by rare combinations, most linkable first.
    """

    unit: str
    resolution: int
    by_length: tuple[LengthRisk, ...]
    columns: tuple[Linkable, ...]
    values: tuple[Linkable, ...]

    @property
    def unique_share(self) -> float | None:
        """Share of units with a unique combination of up to ``R`` values."""
        return self.by_length[-1].unique_share if self.by_length else None

    @property
    def rare_share(self) -> float | None:
        """Share of units with a rare combination of up to ``R`` values."""
        return self.by_length[-1].rare_share if self.by_length else None


@dataclass(frozen=True)
class LengthLeakage:
    """Rare sensitive combinations that stay rare in the synthetic records.

    Attributes:
        length: Combination length ``k``.
        sensitive_rare: Combinations held by ``1..resolution-1`` sensitive
            units.
        synthetic_rare: Combinations held by ``1..resolution-1`` synthetic
            records.
        leaked: Combinations rare in both.
        share_of_sensitive_rare: ``leaked`` over ``sensitive_rare``.
        share_of_synthetic_rare: ``leaked`` over ``synthetic_rare``.
    """

    length: int
    sensitive_rare: int
    synthetic_rare: int
    leaked: int
    share_of_sensitive_rare: float | None
    share_of_synthetic_rare: float | None


def assess_sensitive_risk(
    table: EncodedTable,
    spaces: Sequence[CombinationSpace],
    counts: Sequence[KeyCounts],
    resolution: int,
    *,
    top: int = 10,
) -> SensitiveRisk:
    """Measure the exposure of the sensitive units, lengths ``1..R``.

    Args:
        table: The sensitive records.
        spaces: Key layouts of lengths ``1..R``.
        counts: Unit counts of each length (subjects when the table has
            subject ids, else records).
        resolution: Combinations held by fewer units are rare.
        top: Most linkable columns and values to keep.

    Returns:
        The exposure (sensitive).
    """
    by_subject = table.subject_ids is not None
    n_units = counts[0].units if counts else table.n_records
    unique = np.zeros(n_units, dtype=bool)
    rare = np.zeros(n_units, dtype=bool)
    by_length = []
    index = spaces[0].index if spaces else None
    per_value = np.zeros(index.n_values if index else 0, dtype=np.int64)
    for space, held in zip(spaces, counts, strict=True):
        u, r = units_at_risk(table, held, resolution, by_subject=by_subject)
        unique |= u
        rare |= r
        by_length.append(
            LengthRisk(
                length=space.length,
                unique_share=_share(int(unique.sum()), n_units),
                rare_share=_share(int(rare.sum()), n_units),
            )
        )
        rare_ids = space.ids_from_keys(held.keys[held.counts < resolution])
        per_value += np.bincount(rare_ids.ravel(), minlength=per_value.size)

    total_rare = sum(int((c.counts < resolution).sum()) for c in counts)
    values: list[Linkable] = []
    columns: list[Linkable] = []
    if index is not None:
        value_column = index.value_column
        code = np.arange(index.n_values) - index.offsets[value_column]
        for v in _top(per_value, top):
            j = int(value_column[v])
            values.append(
                Linkable(
                    column=table.columns[j],
                    value=table.categories[j][int(code[v])],
                    rare_combinations=int(per_value[v]),
                    share=_share(int(per_value[v]), total_rare),
                )
            )
        # A combination uses each of its columns once, so a column's number
        # of rare combinations is the sum over its values.
        per_column = np.bincount(
            value_column, weights=per_value, minlength=len(table.columns)
        ).astype(np.int64)
        for j in _top(per_column, top):
            columns.append(
                Linkable(
                    column=table.columns[j],
                    value=None,
                    rare_combinations=int(per_column[j]),
                    share=_share(int(per_column[j]), total_rare),
                )
            )
    return SensitiveRisk(
        unit="subject" if by_subject else "record",
        resolution=resolution,
        by_length=tuple(by_length),
        columns=tuple(columns),
        values=tuple(values),
    )


def rare_leakage(
    length: int, sensitive: KeyCounts, synthetic: KeyCounts, resolution: int
) -> LengthLeakage:
    """Count the rare sensitive combinations that are rare in the synthetic records.

    Args:
        length: Combination length, kept in the result.
        sensitive: Sensitive unit counts of the length.
        synthetic: Synthetic record counts of the length, same key layout.
        resolution: Combinations held by fewer than this are rare.

    Returns:
        The leakage (sensitive).
    """
    sensitive_rare = sensitive.keys[sensitive.counts < resolution]
    synthetic_rare = synthetic.keys[synthetic.counts < resolution]
    leaked = int(_in_sorted(sensitive_rare, synthetic_rare).sum())
    return LengthLeakage(
        length=length,
        sensitive_rare=int(sensitive_rare.size),
        synthetic_rare=int(synthetic_rare.size),
        leaked=leaked,
        share_of_sensitive_rare=_share(leaked, sensitive_rare.size),
        share_of_synthetic_rare=_share(leaked, synthetic_rare.size),
    )


def _in_sorted(values: IntArray, keys: IntArray) -> npt.NDArray[np.bool_]:
    """Which ``values`` are among the sorted ``keys``."""
    if keys.size == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(keys, values), keys.size - 1)
    return np.asarray(keys[pos] == values)


def _top(weights: IntArray, top: int) -> list[int]:
    """Indices of the ``top`` largest positive weights; ties by index."""
    order = np.lexsort((np.arange(weights.size), -weights))
    return [int(i) for i in order[:top] if weights[i] > 0]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
