"""Privacy units: who a release protects, and how much one unit may weigh.

The privacy unit is the person the guarantee is about. In a plain case file
each row is a unit. In a linked file (one row per victim-perpetrator link)
the unit is the subject named by the subject id column, and one subject may
own many rows; a subject with 40 rows must not weigh 40 times more in the
released counts.

Before measuring, the rows are grouped by unit and each unit keeps at most
``link_bound`` rows (a uniformly random subset when it has more). Every
mechanism then bounds what one unit, with all its rows, can change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from synthcase.measure.combinations import (
    CombinationSpace,
    IntArray,
    record_combinations,
)
from synthcase.prepare.table import EncodedTable

__all__ = ["Units", "group_units", "truncate_units"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Units:
    """Rows grouped by privacy unit, each unit bounded to ``link_bound`` rows.

    Attributes:
        table: The rows, sorted by unit, units truncated to ``link_bound`` rows.
        unit_of_row: Unit number of each row of ``table`` (non-decreasing).
        n_units: Number of units (sensitive).
        link_bound: Most rows one unit keeps; 1 when each row is a unit.
        linked: Whether the units come from a subject id column.
    """

    table: EncodedTable
    unit_of_row: IntArray
    n_units: int
    link_bound: int
    linked: bool

    def combinations(
        self, space: CombinationSpace, block_pairs: int = 4_000_000
    ) -> Iterator[tuple[IntArray, IntArray]]:
        """Yield ``(unit_numbers, keys)`` for blocks that never split a unit.

        Each entry is one combination held by one row; a unit's entries are
        all in the same block, in increasing unit order.
        """
        n = self.table.n_records
        if n == 0:
            return
        per_block = max(1, block_pairs // max(1, space.n_sets))
        starts = np.flatnonzero(np.diff(self.unit_of_row, prepend=-1))
        first = 0
        while first < n:
            # End the block at the first unit start past the size limit.
            cut = int(np.searchsorted(starts, first + per_block, side="left"))
            stop = int(starts[cut]) if cut < starts.size else n
            part = EncodedTable(
                self.table.columns,
                self.table.categories,
                self.table.codes[first:stop],
            )
            for rows, keys in record_combinations(part, space, block_pairs=2**62):
                yield self.unit_of_row[rows + first], keys
            first = stop


def group_units(table: EncodedTable) -> tuple[EncodedTable, IntArray, int]:
    """Sort rows by unit; returns the sorted table, unit numbers and unit count.

    Without subject ids every row is its own unit.
    """
    if table.subject_ids is None:
        n = table.n_records
        return table, np.arange(n, dtype=np.int64), n
    _, unit_of_row = np.unique(table.subject_ids, return_inverse=True)
    order = np.argsort(unit_of_row, kind="stable")
    sorted_table = EncodedTable(
        table.columns,
        table.categories,
        np.ascontiguousarray(table.codes[order]),
        table.subject_ids[order],
    )
    units = unit_of_row[order].astype(np.int64)
    return sorted_table, units, int(units.max()) + 1 if units.size else 0


def truncate_units(
    table: EncodedTable,
    unit_of_row: IntArray,
    n_units: int,
    link_bound: int,
    rng: np.random.Generator,
    *,
    linked: bool,
) -> Units:
    """Keep at most ``link_bound`` rows of each unit, chosen uniformly at random.

    Bounding rows per unit is what lets every later mechanism assume one unit
    changes a bounded number of counts; which rows are kept does not matter
    for privacy, so the choice uses an ordinary generator.
    """
    order = np.lexsort((rng.random(unit_of_row.size), unit_of_row))
    ranked_units = unit_of_row[order]
    rank = np.arange(order.size) - np.searchsorted(ranked_units, ranked_units)
    keep = np.sort(order[rank < link_bound])
    kept = EncodedTable(
        table.columns,
        table.categories,
        np.ascontiguousarray(table.codes[keep]),
        None if table.subject_ids is None else table.subject_ids[keep],
    )
    return Units(kept, unit_of_row[keep], n_units, link_bound, linked)
