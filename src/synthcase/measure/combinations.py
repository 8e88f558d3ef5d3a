"""Combinations of attribute values and their exact counts.

A *combination* (k-tuple) is ``k`` values taken from ``k`` distinct columns. A
record holds a combination when it has every one of its values. This module
numbers values and combinations and counts combinations exactly, with numpy
operations per column set rather than a Python loop per record.

Every value of every column gets a *value id*; ids are grouped by column in
column order, so sorting the ids of a combination lists its values in column
order. A combination of length ``k`` is a row of ``k`` sorted value ids.

Inside one length, each combination also has an integer *key*: the column set
it uses (an index into :attr:`CombinationSpace.column_sets`) and the mixed-radix
number of its codes within that column set. Keys make membership tests and
joins plain numpy set operations.

The counts computed here are exact and sensitive; they leave the process only
through :mod:`synthcase.measure.marginals` or a k-anonymity filter.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from synthcase.errors import ParameterError
from synthcase.prepare.table import ABSENT, EncodedTable

__all__ = [
    "CombinationSpace",
    "ValueIndex",
    "count_combinations",
    "merge_counts",
    "record_combinations",
]

IntArray = npt.NDArray[np.int64]

_KEY_LIMIT = 2**62
"""Largest key space one length may use; keys are int64."""


@dataclass(frozen=True, eq=False)
class ValueIndex:
    """Numbers the values of a table's columns.

    Attributes:
        cardinalities: Number of values of each column.
        offsets: Value id of the first value of each column.
    """

    cardinalities: IntArray
    offsets: IntArray

    @classmethod
    def from_cardinalities(cls, cardinalities: npt.ArrayLike) -> ValueIndex:
        """Build the index of columns with the given numbers of values."""
        card = np.asarray(cardinalities, dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(card)[:-1])).astype(np.int64)
        return cls(cardinalities=card, offsets=offsets)

    @property
    def n_values(self) -> int:
        """Number of value ids."""
        return int(self.cardinalities.sum())

    @property
    def value_column(self) -> IntArray:
        """Column index of each value id."""
        return np.repeat(np.arange(len(self.cardinalities)), self.cardinalities)

    def value_ids(self, codes: npt.NDArray[np.int32]) -> IntArray:
        """Turn a ``(records, columns)`` code array into value ids.

        Absent cells stay :data:`~synthcase.prepare.table.ABSENT`.
        """
        ids = codes.astype(np.int64) + self.offsets[None, :]
        ids[codes == ABSENT] = ABSENT
        return ids


@dataclass(frozen=True, eq=False)
class CombinationSpace:
    """Keys of all combinations of one length over a table's columns.

    Attributes:
        index: The value numbering.
        length: Combination length ``k``.
        column_sets: Array ``(sets, k)`` of the sorted column sets of size ``k``.
        strides: Array ``(sets, k)``: the mixed-radix weight of each position.
        starts: First key of each column set; keys of set ``s`` are
            ``starts[s] .. starts[s + 1] - 1``.
    """

    index: ValueIndex
    length: int
    column_sets: IntArray
    strides: IntArray
    starts: IntArray

    @classmethod
    def build(cls, index: ValueIndex, length: int) -> CombinationSpace:
        """Lay out the keys of every combination of ``length`` values.

        Raises:
            ParameterError: When ``length`` exceeds the number of columns or the
                key space does not fit 64-bit integers.
        """
        n_columns = len(index.cardinalities)
        if not 1 <= length <= n_columns:
            raise ParameterError(
                f"reporting_length {length} is outside 1..{n_columns} (the number "
                "of columns used); lower reporting_length or use more columns"
            )
        sets = np.array(
            list(itertools.combinations(range(n_columns), length)), dtype=np.int64
        ).reshape(-1, length)
        card = index.cardinalities[sets]
        # Sizes in Python integers first: numpy's int64 would wrap silently.
        total = sum(math.prod(int(c) for c in row) for row in card.tolist())
        if total >= _KEY_LIMIT:
            raise ParameterError(
                f"combinations of length {length} over {n_columns} columns span "
                f"about 10^{math.log10(total):.0f} keys, more than this version can "
                "number; lower reporting_length, use fewer columns or bin "
                "columns more coarsely"
            )
        # Strides so that the last column of a set varies fastest.
        strides = np.ones_like(card)
        for j in range(length - 2, -1, -1):
            strides[:, j] = strides[:, j + 1] * card[:, j + 1]
        sizes = strides[:, 0] * card[:, 0]
        starts = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        return cls(index, length, sets, strides, starts)

    @property
    def n_sets(self) -> int:
        """Number of column sets of this length."""
        return int(self.column_sets.shape[0])

    def keys_from_codes(self, set_index: int, codes: IntArray) -> IntArray:
        """Keys of combinations given by per-column codes within one column set.

        Args:
            set_index: Index of the column set.
            codes: Array ``(m, k)`` of category codes, one column per set member.
        """
        keys = self.starts[set_index] + codes @ self.strides[set_index]
        return np.asarray(keys, dtype=np.int64)

    def keys_from_ids(self, ids: IntArray) -> IntArray:
        """Keys of combinations given as rows of ``k`` sorted value ids."""
        if ids.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        columns = np.searchsorted(self.index.offsets, ids, side="right") - 1
        codes = ids - self.index.offsets[columns]
        set_index = self._set_index(columns)
        keys = self.starts[set_index] + (codes * self.strides[set_index]).sum(axis=1)
        return np.asarray(keys, dtype=np.int64)

    def ids_from_keys(self, keys: IntArray) -> IntArray:
        """Rows of ``k`` sorted value ids of the combinations with ``keys``."""
        set_index = np.searchsorted(self.starts, keys, side="right") - 1
        local = keys - self.starts[set_index]
        strides = self.strides[set_index]
        card = self.index.cardinalities[self.column_sets[set_index]]
        codes = (local[:, None] // strides) % card
        return codes + self.index.offsets[self.column_sets[set_index]]

    def _set_index(self, columns: IntArray) -> IntArray:
        """Index of the column set of each row of sorted column numbers."""
        n_columns = len(self.index.cardinalities)
        # Column sets are in lexicographic order; rank them by a base-n number.
        weights = n_columns ** np.arange(self.length - 1, -1, -1, dtype=np.int64)
        set_codes = self.column_sets @ weights
        return np.searchsorted(set_codes, columns @ weights)


def record_combinations(
    table: EncodedTable, space: CombinationSpace, block_pairs: int = 4_000_000
) -> Iterator[tuple[IntArray, IntArray]]:
    """Yield which records hold which combinations, a block of records at a time.

    All column sets of the length are handled at once for a block of records;
    blocks bound the memory to about ``block_pairs`` (record, column set)
    pairs.

    Args:
        table: The encoded records.
        space: The key layout of the length to enumerate.
        block_pairs: Upper bound of (record, column set) pairs per block.

    Yields:
        ``(record_numbers, keys)``: parallel arrays, one entry per combination
        a record holds; record numbers are rows of ``table``, increasing, and
        the keys of one record are increasing.
    """
    codes = table.codes
    sets = space.column_sets
    block = max(1, block_pairs // max(1, space.n_sets))
    for first in range(0, codes.shape[0], block):
        part = codes[first : first + block][:, sets]  # (records, sets, k)
        held = (part != ABSENT).all(axis=2)
        keys = space.starts[:-1][None, :] + np.einsum(
            "rsk,sk->rs", part.astype(np.int64), space.strides
        )
        records, set_numbers = np.nonzero(held)
        yield records.astype(np.int64) + first, keys[records, set_numbers]


def count_combinations(
    table: EncodedTable, space: CombinationSpace
) -> tuple[IntArray, IntArray]:
    """Count exactly every combination of one length held by some record.

    Args:
        table: The encoded records.
        space: The key layout of the length to count.

    Returns:
        ``(keys, counts)``: the sorted keys of the combinations that occur and
        the number of records holding each. Sensitive: exact counts.

    Example:
        >>> import numpy as np
        >>> from synthcase.prepare.table import EncodedTable
        >>> t = EncodedTable(("A", "B"), (("a1", "a2"), ("b1",)),
        ...                  np.array([[0, 0], [1, 0], [0, -1]], dtype=np.int32))
        >>> space = CombinationSpace.build(
        ...     ValueIndex.from_cardinalities(t.cardinalities), 1)
        >>> count_combinations(t, space)[1].tolist()
        [2, 1, 2]
    """
    parts_keys: list[IntArray] = []
    parts_counts: list[IntArray] = []
    for _, keys in record_combinations(table, space):
        unique, counts = np.unique(keys, return_counts=True)
        parts_keys.append(unique)
        parts_counts.append(counts.astype(np.int64))
    return merge_counts(parts_keys, parts_counts)


def merge_counts(
    keys: list[IntArray], counts: list[IntArray]
) -> tuple[IntArray, IntArray]:
    """Add up counts given in parts; returns sorted unique keys and totals."""
    if not keys:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    all_keys = np.concatenate(keys)
    unique, inverse = np.unique(all_keys, return_inverse=True)
    totals = np.bincount(inverse, weights=np.concatenate(counts), minlength=len(unique))
    return unique, totals.astype(np.int64)
