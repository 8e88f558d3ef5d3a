"""Exact combination counts per privacy unit, and the units they expose.

The evaluation counts every combination of length ``1..R`` in the sensitive
and the synthetic records, then asks which units (records, or subjects when a
subject owns several records) hold a combination shared by few others. Both
read the blocks of :mod:`.cells`: numpy operations over many records and
column sets at once. Cells with an absent value are dropped when the counts
are turned into combination keys
(:class:`~synthcase.measure.combinations.CombinationSpace`).

A combination counts each unit holding it once: for records this is the
usual record count; for subjects, a subject with three records holding the
same combination counts once, which is what identifies a person. Counts are
held densely when the cell space is small, else as sorted cells. Everything
here is sensitive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from synthcase.evaluate import cells as cell_blocks
from synthcase.evaluate.cells import CellLayout, add_dense, blocks
from synthcase.measure.combinations import CombinationSpace, IntArray, merge_counts
from synthcase.prepare.table import EncodedTable

__all__ = ["KeyCounts", "count_units", "units_at_risk"]

BoolArray = npt.NDArray[np.bool_]

_NEVER_RARE = np.iinfo(np.int64).max
"""Count given to cells with an absent value: never unique nor rare."""


@dataclass(frozen=True, eq=False)
class KeyCounts:
    """How many units hold each combination of one length.

    Attributes:
        keys: Sorted keys of the combinations some unit holds.
        counts: Number of units holding each, aligned with ``keys``.
        units: Number of units counted.
        layout: The cell layout the counts were taken on.
        cell_table: Count of every cell (dense) or of ``cells``; cells with
            an absent value count as never rare.
        cells: Sorted cells of ``cell_table`` when sparse, else ``None``.
    """

    keys: IntArray
    counts: IntArray
    units: int
    layout: CellLayout
    cell_table: IntArray
    cells: IntArray | None

    def of_cells(self, cells: IntArray) -> IntArray:
        """Counts of cells; 0 for cells no unit holds."""
        if self.cells is None:
            return self.cell_table[cells]
        if self.cells.size == 0:
            return np.zeros(cells.shape, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.cells, cells), self.cells.size - 1)
        return np.where(self.cells[pos] == cells, self.cell_table[pos], 0)


def count_units(
    table: EncodedTable,
    space: CombinationSpace,
    *,
    by_subject: bool = False,
    dense_limit: int | None = None,
) -> KeyCounts:
    """Count the units holding each combination of one length.

    Args:
        table: The records.
        space: The key layout of the length.
        by_subject: Count distinct subjects (``table.subject_ids``) instead
            of records; ignored when the table has no subject ids.
        dense_limit: Largest cell space counted densely; by default
            :data:`~synthcase.evaluate.cells.DENSE_LIMIT`.

    Returns:
        The counts (sensitive when ``table`` is).

    Example:
        >>> from synthcase.measure.combinations import ValueIndex
        >>> t = EncodedTable(("A", "B"), (("a1", "a2"), ("b1",)),
        ...                  np.array([[0, 0], [1, 0], [0, -1]], dtype=np.int32))
        >>> space = CombinationSpace.build(
        ...     ValueIndex.from_cardinalities(t.cardinalities), 1)
        >>> count_units(t, space).counts.tolist()
        [2, 1, 2]
    """
    layout = CellLayout.build(space.column_sets, space.index.cardinalities)
    units, codes = _units(table, by_subject)
    n_units = int(units[-1]) + 1 if units.size else 0
    limit = cell_blocks.DENSE_LIMIT if dense_limit is None else dense_limit
    dense = layout.total <= limit
    total = np.zeros(layout.total if dense else 0, dtype=np.int64)
    parts: list[tuple[IntArray, IntArray]] = []
    repeated = by_subject and table.subject_ids is not None
    for block in blocks(layout, codes, units):
        flat = _distinct(block.units, block.cells) if repeated else block.cells.ravel()
        if dense:
            add_dense(total, layout, block, flat)
        else:
            parts.append(np.unique(flat, return_counts=True))

    if dense:
        keys = np.arange(int(space.starts[-1]), dtype=np.int64)
        held_cells = layout.of_keys(space, keys)
        counts = total[held_cells]
        # Lookups read the cell table; cells with an absent value never count.
        table_counts = np.full(layout.total, _NEVER_RARE, dtype=np.int64)
        table_counts[held_cells] = counts
        held = counts > 0
        return KeyCounts(keys[held], counts[held], n_units, layout, table_counts, None)
    cells, cell_totals = merge_counts([p[0] for p in parts], [p[1] for p in parts])
    keys, present = layout.to_keys(space, cells)
    table_counts = np.where(present, cell_totals, _NEVER_RARE)
    return KeyCounts(
        keys[present], cell_totals[present], n_units, layout, table_counts, cells
    )


def units_at_risk(
    table: EncodedTable, counts: KeyCounts, resolution: int, *, by_subject: bool
) -> tuple[BoolArray, BoolArray]:
    """Which units hold a unique, and which a rare, combination of one length.

    Args:
        table: The records ``counts`` were counted on.
        counts: The unit counts of the length.
        resolution: A combination held by fewer units than this is rare.
        by_subject: Units are subjects, as in :func:`count_units`.

    Returns:
        ``(unique, rare)``: one flag per unit (per record, or per distinct
        subject in the order of the sorted subject ids).
    """
    units, codes = _units(table, by_subject)
    unique = np.zeros(counts.units, dtype=bool)
    rare = np.zeros(counts.units, dtype=bool)
    for block in blocks(counts.layout, codes, units):
        held_by = counts.of_cells(block.cells)
        unique[block.units[(held_by == 1).any(axis=0)]] = True
        rare[block.units[(held_by < resolution).any(axis=0)]] = True
    return unique, rare


def _units(
    table: EncodedTable, by_subject: bool
) -> tuple[IntArray, npt.NDArray[np.int32]]:
    """Unit number of each record, and the codes in unit order."""
    if not by_subject or table.subject_ids is None:
        return np.arange(table.n_records, dtype=np.int64), table.codes
    order = np.argsort(table.subject_ids, kind="stable")
    _, units = np.unique(table.subject_ids[order], return_inverse=True)
    return units.astype(np.int64), table.codes[order]


def _distinct(units: IntArray, cells: IntArray) -> IntArray:
    """Cells of a block ``(sets, records)`` with each (unit, cell) pair once.

    ``units`` is sorted, so the records of a unit are adjacent and a pair can
    repeat only among them: a record's cell is dropped when a record of the
    same unit ``lag`` places earlier holds it. Comparing at each lag up to
    the largest unit's size costs far less than sorting the pairs, since
    most units have few records.
    """
    # Records as rows, so each comparison reads contiguous memory.
    by_record = np.ascontiguousarray(cells.T)
    repeated = np.zeros(by_record.shape, dtype=bool)
    for lag in range(1, units.size):
        later = np.flatnonzero(units[lag:] == units[:-lag]) + lag
        if later.size == 0:
            break
        repeated[later] |= by_record[later] == by_record[later - lag]
    return np.asarray(by_record[~repeated])
