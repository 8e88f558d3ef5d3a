"""Cells of the joint tables of column sets, enumerated a block at a time.

A :class:`CellLayout` numbers the cells of the joint table of every column
set of one length, an absent value being one more category of its column.
Every record then falls in exactly one cell of every column set, so a block
of records gives a plain ``(sets, records)`` array of cell numbers with no
masking. The counters of :mod:`.counting` (where absent cells are dropped)
and the marginal tables of :mod:`.kmarginal` (where absent is a value) both
read these blocks; no Python loop visits a record.

Blocks are bounded in size (about ``_BLOCK_CELLS`` cells) and computed in
cache-sized chunks, which keeps memory flat and the arithmetic in cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from synthcase.errors import ParameterError
from synthcase.measure.combinations import CombinationSpace, IntArray
from synthcase.prepare.table import ABSENT

__all__ = ["DENSE_LIMIT", "Block", "CellLayout", "add_dense", "blocks", "cell_counts"]

BoolArray = npt.NDArray[np.bool_]

DENSE_LIMIT = 20_000_000
"""Largest cell space counted densely (int64 arrays of about 160 MB)."""

_BLOCK_CELLS = 2_000_000
"""(set, record) cells enumerated per block; bounds a block's memory."""

_CHUNK_CELLS = 262_144
"""Cells computed per step inside a block, small enough to stay in cache."""


@dataclass(frozen=True, eq=False)
class CellLayout:
    """Numbers the cells of the joint tables of some column sets.

    Each column has its categories plus one cell for absent. Set ``s`` owns
    cell numbers ``starts[s] .. starts[s + 1] - 1``, mixed radix with the
    last column varying fastest.

    Attributes:
        column_sets: Array ``(sets, k)`` of column numbers.
        cardinalities: Categories of every column (absent not included).
        strides: Array ``(sets, k)``: weight of each position.
        starts: First cell of each set, and the total at the end.
    """

    column_sets: IntArray
    cardinalities: IntArray
    strides: IntArray
    starts: IntArray

    @classmethod
    def build(cls, column_sets: IntArray, cardinalities: IntArray) -> CellLayout:
        """Lay out the cells of ``column_sets`` (all of one length).

        Example:
            >>> sets, cards = np.array([[0, 1], [1, 2]]), np.array([2, 1, 3])
            >>> layout = CellLayout.build(sets, cards)
            >>> layout.starts.tolist(), layout.strides.tolist()
            ([0, 6, 14], [[2, 1], [4, 1]])

        Raises:
            ParameterError: When the cells do not fit 64-bit integers.
        """
        sets = np.asarray(column_sets, dtype=np.int64)
        card = np.asarray(cardinalities, dtype=np.int64)
        radix = card[sets] + 1
        strides = np.ones_like(radix)
        for j in range(sets.shape[1] - 2, -1, -1):
            strides[:, j] = strides[:, j + 1] * radix[:, j + 1]
        sizes = [int(s) for s in strides[:, 0] * radix[:, 0]] if sets.size else []
        if sum(sizes) >= 2**62:
            raise ParameterError(
                f"the joint tables of {sets.shape[1]} columns span too many "
                "cells to evaluate; lower reporting_length or bin columns more "
                "coarsely"
            )
        starts = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        return cls(sets, card, strides, starts)

    @property
    def total(self) -> int:
        """Number of cells of all sets."""
        return int(self.starts[-1])

    def of_keys(self, space: CombinationSpace, keys: IntArray) -> IntArray:
        """Cells of combination keys (the layout must be built on ``space``)."""
        set_index = np.searchsorted(space.starts, keys, side="right") - 1
        local = keys - space.starts[set_index]
        card = self.cardinalities[self.column_sets[set_index]]
        digits = (local[:, None] // space.strides[set_index]) % card
        cells = self.starts[set_index] + (digits * self.strides[set_index]).sum(1)
        return np.asarray(cells, dtype=np.int64)

    def to_keys(
        self, space: CombinationSpace, cells: IntArray
    ) -> tuple[IntArray, BoolArray]:
        """Combination keys of cells, and which cells hold no absent value."""
        set_index = np.searchsorted(self.starts, cells, side="right") - 1
        local = cells - self.starts[set_index]
        card = self.cardinalities[self.column_sets[set_index]]
        digits = (local[:, None] // self.strides[set_index]) % (card + 1)
        present = (digits < card).all(axis=1)
        keys = space.starts[set_index] + (digits * space.strides[set_index]).sum(1)
        return np.asarray(keys, dtype=np.int64), np.asarray(present)

    def rows(self, codes: npt.NDArray[np.int32]) -> IntArray:
        """Codes ``(records, columns)`` as rows ``(columns, records)`` of cells.

        Absent becomes the category one past the last of its column; columns
        become rows so that gathering a column set copies contiguous memory.
        """
        cells = np.where(codes == ABSENT, self.cardinalities[None, :], codes).T
        return np.ascontiguousarray(cells, dtype=np.int64)

    def cells(self, rows: IntArray, first_set: int, stop_set: int) -> IntArray:
        """Cells of sets ``first_set .. stop_set - 1`` of every record in ``rows``.

        Returns:
            An array ``(sets, records)``.
        """
        records = rows.shape[1]
        sets = self.column_sets[first_set:stop_set]
        strides = self.strides[first_set:stop_set]
        cells = np.empty((sets.shape[0], records), dtype=np.int64)
        chunk = max(1, _CHUNK_CELLS // max(1, records))
        scratch = np.empty((min(chunk, sets.shape[0]), records), dtype=np.int64)
        for s0 in range(0, sets.shape[0], chunk):
            s1 = min(sets.shape[0], s0 + chunk)
            part, temp = cells[s0:s1], scratch[: s1 - s0]
            part[...] = self.starts[first_set + s0 : first_set + s1, None]
            for j in range(sets.shape[1]):
                np.take(rows, sets[s0:s1, j], axis=0, out=temp)
                temp *= strides[s0:s1, j, None]
                part += temp
        return cells


def cell_counts(codes: npt.NDArray[np.int32], layout: CellLayout) -> IntArray:
    """Records in each cell of ``layout``, densely (absent is a value)."""
    total = np.zeros(layout.total, dtype=np.int64)
    units = np.arange(codes.shape[0], dtype=np.int64)
    for block in blocks(layout, codes, units):
        add_dense(total, layout, block, block.cells.ravel())
    return total


@dataclass(frozen=True, eq=False)
class Block:
    """The cells of some column sets for some records.

    Attributes:
        first_set: First column set of the block.
        stop_set: One past the last column set of the block.
        units: Unit of each record of the block.
        cells: Array ``(sets, records)`` of cell numbers.
    """

    first_set: int
    stop_set: int
    units: IntArray
    cells: IntArray


def blocks(
    layout: CellLayout, codes: npt.NDArray[np.int32], units: IntArray
) -> Iterator[Block]:
    """Cover every (set, record) cell in blocks of about ``_BLOCK_CELLS``.

    A block takes a run of column sets for as many records as fit, so its
    cells span only those sets' cell numbers. ``units`` is sorted; a block
    never splits a unit, so all the records of a subject fall in one block.
    """
    rows = layout.rows(codes)
    n_records, n_sets = units.size, layout.column_sets.shape[0]
    single = not n_records or int(units[-1]) == n_records - 1
    sets_per_block = max(1, _BLOCK_CELLS // max(1, n_records))
    records_per_block = max(1, _BLOCK_CELLS // sets_per_block)
    for first_set in range(0, n_sets, sets_per_block):
        stop_set = min(n_sets, first_set + sets_per_block)
        first = 0
        while first < n_records:
            stop = min(n_records, first + records_per_block)
            if not single:
                stop = int(np.searchsorted(units, units[stop - 1], side="right"))
            cells = layout.cells(rows[:, first:stop], first_set, stop_set)
            yield Block(first_set, stop_set, units[first:stop], cells)
            first = stop


def add_dense(
    total: IntArray, layout: CellLayout, block: Block, cells: IntArray
) -> None:
    """Add the counts of a block's cells to the dense counts ``total``."""
    low = int(layout.starts[block.first_set])
    high = int(layout.starts[block.stop_set])
    total[low:high] += np.bincount(cells - low, minlength=high - low)
