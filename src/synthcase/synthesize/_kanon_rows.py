"""Which sensitive rows hold which values, as bitsets and row lists.

The k-anonymity synthesizers ask one question over and over: how many
sensitive rows hold a set of values? They keep the rows matching a record so
far in one of two forms and switch from the first to the second as the set
shrinks:

* a *bitset*: one bit per sensitive row, 64 rows to a ``uint64`` word, so
  intersecting with a value's rows is one ``&`` over ``ceil(n / 64)`` words
  and counting is a population count;
* a *row list*: the sorted row numbers, so counting every value of every
  column is one histogram of the codes of those rows.

A bitset costs the same whatever the set's size; a row list costs its
length. Large sets (early in a record) are bitsets, small ones row lists.

Everything here is sensitive working state; nothing leaves the process.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.measure.combinations import IntArray, ValueIndex
from synthcase.prepare.table import ABSENT, EncodedTable

__all__ = [
    "BitArray",
    "RowSets",
    "and_counts",
    "bits_to_lists",
    "pack_rows",
    "popcounts",
    "ragged_ranges",
    "records_to_frame",
    "unpack_rows",
]

BitArray = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]

_CHUNK_WORDS = 1 << 18
"""Words handled per chunk of a bitset operation (2 MB: stays in cache)."""


def pack_rows(mask: BoolArray, words: int) -> BitArray:
    """Pack a ``(sets, rows)`` boolean matrix into ``(sets, words)`` bitsets.

    Row ``i`` is bit ``i % 64`` of word ``i // 64``.
    """
    sets, rows = mask.shape
    padded = np.zeros((sets, words * 64), dtype=bool)
    padded[:, :rows] = mask
    packed = np.packbits(padded, axis=1, bitorder="little")
    return packed.view("<u8").astype(np.uint64, copy=False).reshape(sets, words)


def unpack_rows(bits: BitArray, rows: int) -> BoolArray:
    """Inverse of :func:`pack_rows`: a ``(sets, rows)`` boolean matrix."""
    raw = np.ascontiguousarray(bits.astype("<u8", copy=False)).view(np.uint8)
    return np.unpackbits(raw, axis=1, count=rows, bitorder="little").astype(bool)


def popcounts(bits: BitArray) -> IntArray:
    """Number of set bits of each bitset (row of ``bits``)."""
    # Counting into uint64 and summing those is several times faster than
    # summing numpy's default uint8 counts into int64.
    counted = np.bitwise_count(bits, out=np.empty_like(bits))
    return np.asarray(counted.sum(axis=1), dtype=np.int64)


def and_counts(
    left: BitArray, left_rows: IntArray, right: BitArray, right_rows: IntArray
) -> IntArray:
    """``popcount(left[left_rows[i]] & right[right_rows[i]])`` for every ``i``."""
    out = np.empty(left_rows.size, dtype=np.int64)
    step = max(1, _CHUNK_WORDS // max(1, left.shape[1]))
    for first in range(0, left_rows.size, step):
        last = first + step
        both = np.take(left, left_rows[first:last], axis=0)
        both &= np.take(right, right_rows[first:last], axis=0)
        np.bitwise_count(both, out=both)
        out[first:last] = both.sum(axis=1)
    return out


def bits_to_lists(bits: BitArray) -> tuple[IntArray, IntArray]:
    """Row lists of bitsets: ``(rows, lengths)``, rows grouped by bitset.

    Only the non-zero words are unpacked, which is fast for sparse bitsets.
    """
    parts_rows: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    parts_owner: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    step = max(1, _CHUNK_WORDS * 4 // max(1, bits.shape[1]))
    for first in range(0, bits.shape[0], step):
        part = bits[first : first + step]
        owner, word = np.nonzero(part)
        bit_owner, bit = np.nonzero(unpack_rows(part[owner, word][:, None], 64))
        parts_rows.append(word[bit_owner] * 64 + bit)
        parts_owner.append(owner[bit_owner] + first)
    owner = np.concatenate(parts_owner)
    lengths = np.bincount(owner, minlength=bits.shape[0]).astype(np.int64)
    return np.concatenate(parts_rows).astype(np.int64), lengths


def ragged_ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenate ``range(starts[i], starts[i] + lengths[i])`` over ``i``."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.repeat(starts - (ends - lengths), lengths)
    return np.asarray(np.arange(total, dtype=np.int64) + shift, dtype=np.int64)


class RowSets:
    """The rows of a sensitive table that hold each value.

    Attributes:
        n_rows: Number of sensitive rows.
        n_columns: Number of columns.
        words: Words per bitset, ``ceil(n_rows / 64)`` (at least 1).
        index: Value numbering of the table.
        value_column: Column of each value id.
        ids: ``(rows, columns)`` value ids, :data:`ABSENT` where absent.
        ids_or_end: ``ids`` as ``int32`` with ``n_values`` where absent, for
            histograms that need no mask.
        bits: ``(values, words)`` bitset of the rows holding each value.
        counts: Number of rows holding each value.
        all_rows: Bitset of every row.
    """

    def __init__(self, table: EncodedTable) -> None:
        self.n_rows = table.n_records
        self.n_columns = table.n_columns
        self.words = max(1, -(-self.n_rows // 64))
        self.index = ValueIndex.from_cardinalities(table.cardinalities)
        self.value_column = self.index.value_column
        self.ids = self.index.value_ids(table.codes)
        n_values = self.index.n_values
        self.ids_or_end = np.where(self.ids == ABSENT, n_values, self.ids).astype(
            np.int32
        )
        self.bits = np.zeros((n_values, self.words), dtype=np.uint64)
        for j, card in enumerate(self.index.cardinalities.tolist()):
            if card == 0:
                continue
            first = int(self.index.offsets[j])
            onehot = table.codes[:, j][None, :] == np.arange(card)[:, None]
            self.bits[first : first + card] = pack_rows(onehot, self.words)
        present = self.ids[self.ids != ABSENT]
        self.counts = np.bincount(present, minlength=n_values).astype(np.int64)
        self.all_rows = pack_rows(np.ones((1, self.n_rows), dtype=bool), self.words)

    @property
    def n_values(self) -> int:
        """Number of value ids."""
        return self.index.n_values

    def pairs_held(self, resolution: int) -> BoolArray:
        """``(values, values)``: whether at least ``resolution`` rows hold both.

        The diagonal tells whether the value alone is held that often. A
        record can only take ``v`` if every value it holds forms such a pair
        with ``v``, so this prunes candidates before any row is counted.
        """
        n_values = self.n_values
        first, second = np.triu_indices(n_values)
        counts = and_counts(self.bits, first, self.bits, second)
        held = np.zeros((n_values, n_values), dtype=bool)
        held[first, second] = counts >= resolution
        return held | held.T


def records_to_frame(table: EncodedTable, records: IntArray) -> pd.DataFrame:
    """Turn ``(records, columns)`` value ids (``-1`` absent) into labels.

    Returns:
        One column per table column, in order, labels as ``object`` and
        ``pd.NA`` where absent.
    """
    index = ValueIndex.from_cardinalities(table.cardinalities)
    data: dict[str, npt.NDArray[np.object_]] = {}
    for j, name in enumerate(table.columns):
        labels = np.array([*table.categories[j], pd.NA], dtype=object)
        column = records[:, j] if records.size else np.zeros(0, dtype=np.int64)
        codes = np.where(column >= 0, column - index.offsets[j], -1)
        data[name] = labels[codes]
    return pd.DataFrame(data, columns=list(table.columns), dtype="object")
