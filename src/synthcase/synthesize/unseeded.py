"""Unseeded k-anonymous synthesis: records drawn column by column.

The mode of Microsoft's Synthetic Data Showcase that samples the joint
distribution of the data rather than growing records from seeds. Each
synthetic record visits the columns in its own random order. At each column
it looks at the sensitive rows that match the record so far and draws a
value with weight the number of those rows holding it, except that values
held by fewer than ``k`` of those rows are merged into "absent": drawing
"absent" leaves the cell empty and keeps the matching rows that are absent
in the column or hold one of the merged values.

Drawing each column in proportion to the matching rows is the same as
picking one sensitive row uniformly at random and following it (the row is
uniform among the matching rows at every step), so the implementation picks
a row per record and, at each column, takes the row's value when at least
``k`` matching rows hold it and "absent" otherwise. Only the absent case
needs the counts of the column's other values.

The number of records is the k-rounded record count, ``floor(n / k) * k``;
records left entirely empty are dropped.

Guarantee (checked by the tests): every value in the output is held by at
least ``k`` sensitive records; more strongly, every synthetic record's full
set of values, and so every combination of values inside it of any length,
is held by at least ``k`` sensitive records, because each value was taken
only while at least ``k`` rows held it together with all values taken before.
Value counts are not rounded: they follow the sensitive data with random
variation. This is k-anonymity, not differential privacy.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from synthcase.measure.combinations import IntArray
from synthcase.prepare.table import EncodedTable
from synthcase.progress import Progress, no_progress
from synthcase.synthesize._kanon_rows import (
    BitArray,
    RowSets,
    and_counts,
    bits_to_lists,
    popcounts,
    ragged_ranges,
    records_to_frame,
)
from synthcase.synthesize._kanon_settings import KAnonymitySettings

__all__ = ["synthesize_unseeded"]

logger = logging.getLogger(__name__)

_BATCH_WORDS = 16_000_000
"""Largest ``records x words`` bitset state of one batch (128 MB)."""

_CHUNK_WORDS = 4_000_000
"""Largest temporary bitset array of one chunk (32 MB)."""


def synthesize_unseeded(
    table: EncodedTable,
    settings: KAnonymitySettings | None = None,
    *,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Synthesize k-anonymous records by sampling column after column.

    Args:
        table: The sensitive records, one row per person.
        settings: Resolution and seed; oversampling and aggregate-seeded
            options must be left unset.
        progress: Called with the stage and the fraction done.

    Returns:
        The synthetic records: one column per table column, in order, labels
        as ``object``, ``pd.NA`` where absent; rows shuffled. Every record's
        full set of values is held by at least ``k`` sensitive records.

    Raises:
        ParameterError: When a setting is out of range or does not apply.
    """
    settings = settings or KAnonymitySettings()
    settings.check(table, "unseeded")
    k = settings.resolution
    rng = np.random.default_rng(settings.seed)
    rows = RowSets(table)
    # As many records as the k-rounded record count of the aggregates, which
    # never exceeds the true count and hides it within a band of k.
    target = table.n_records // k * k
    logger.info(
        "unseeded k-anonymous synthesis: resolution %d; values held by fewer than "
        "%d matching records are left empty",
        k,
        k,
    )
    sampler = _ColumnSampler(rows, k, rng)
    batch = max(1, min(8192, _BATCH_WORDS // rows.words))
    parts = [np.zeros((0, rows.n_columns), dtype=np.int64)]
    for first in range(0, target, batch):
        parts.append(sampler.sample(min(batch, target - first)))
        progress("sampling records", min(1.0, (first + batch) / target))
    records = np.concatenate(parts)
    records = records[(records >= 0).any(axis=1)]
    records = records[rng.permutation(records.shape[0])]
    logger.info("unseeded synthesis made %d records", records.shape[0])
    return records_to_frame(table, records)


class _ColumnSampler:
    """Samples records column by column; see the module notes.

    The rows matching each record are a bitset while many and a row list
    once at most ``threshold`` remain.
    """

    def __init__(self, rows: RowSets, resolution: int, rng: np.random.Generator):
        self.rows = rows
        self.k = resolution
        self.rng = rng
        self.cardinalities = rows.index.cardinalities
        self.offsets = rows.index.offsets
        # A bitset step passes over ``words`` once, or once per value of the
        # column when the row's value is merged; a row-list step costs about
        # ten operations per row. Measured on NIST data, lists win below about
        # half a bitset's words.
        self.threshold = max(resolution, rows.words // 2)

    def sample(self, size: int) -> IntArray:
        """Sample ``size`` records; ``(size, columns)`` value ids, ``-1`` absent."""
        rows = self.rows
        n_columns = rows.n_columns
        follow = self.rng.integers(0, rows.n_rows, size)
        order = np.argsort(self.rng.random((size, n_columns)), axis=1)
        out = np.full((size, n_columns), -1, dtype=np.int64)

        on_bits = np.arange(size)
        bits = np.repeat(rows.all_rows, size, axis=0)
        count = np.full(size, rows.n_rows, dtype=np.int64)
        listed = np.zeros(0, dtype=np.int64)
        starts = np.zeros(1, dtype=np.int64)
        members = np.zeros(0, dtype=np.int64)
        for step in range(n_columns):
            small = count <= self.threshold
            if small.any():
                moved, moved_rows, moved_lengths = self._to_lists(
                    on_bits[small], bits[small]
                )
                listed, starts, members = _append_lists(
                    listed, starts, members, moved, moved_rows, moved_lengths
                )
                on_bits, bits, count = on_bits[~small], bits[~small], count[~small]
            column = order[np.arange(size), step]
            if on_bits.size:
                bits, count = self._step_bits(
                    on_bits, bits, column[on_bits], follow[on_bits], out
                )
            if listed.size:
                starts, members = self._step_lists(
                    listed, starts, members, column[listed], follow[listed], out
                )
        return out

    def _step_bits(
        self,
        record: IntArray,
        bits: BitArray,
        column: IntArray,
        follow: IntArray,
        out: IntArray,
    ) -> tuple[BitArray, IntArray]:
        rows = self.rows
        value = rows.ids[follow, column]
        count = np.zeros(record.size, dtype=np.int64)
        has = np.flatnonzero(value >= 0)
        count[has] = and_counts(bits, has, rows.bits, value[has])
        take = count >= self.k  # absent values have count 0 here
        bits[take] &= rows.bits[value[take]]
        out[record[take], column[take]] = value[take]
        skip = np.flatnonzero(~take)
        if skip.size:
            bits[skip] = self._absent_group(bits[skip], column[skip])
        return bits, popcounts(bits)

    def _absent_group(self, bits: BitArray, column: IntArray) -> BitArray:
        """Matching rows absent in ``column`` or holding a value shared by < k."""
        rows = self.rows
        card = self.cardinalities[column]
        result = bits.copy()
        # Records in chunks, so that the (record, value) intersections stay small.
        per_chunk = max(1, _CHUNK_WORDS // (rows.words * max(1, int(card.max()))))
        for first in range(0, bits.shape[0], per_chunk):
            part = slice(first, first + per_chunk)
            owner = np.repeat(np.arange(bits[part].shape[0]), card[part])
            value = ragged_ranges(self.offsets[column[part]], card[part])
            both = bits[part][owner] & rows.bits[value]
            common = popcounts(both) >= self.k
            owner, both = owner[common], both[common]
            if owner.size:
                first_of = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
                covered = np.bitwise_or.reduceat(both, first_of, axis=0)
                result[first + owner[first_of]] &= ~covered
        return result

    def _step_lists(
        self,
        record: IntArray,
        starts: IntArray,
        members: IntArray,
        column: IntArray,
        follow: IntArray,
        out: IntArray,
    ) -> tuple[IntArray, IntArray]:
        rows = self.rows
        lengths = np.diff(starts)
        owner = np.repeat(np.arange(record.size), lengths)
        width = int(self.cardinalities.max()) + 1
        # Codes within the column, shifted by one so that absent is 0.
        value = rows.ids[members, column[owner]]
        code = np.where(value >= 0, value - self.offsets[column[owner]] + 1, 0)
        hist = np.bincount(owner * width + code, minlength=record.size * width)
        hist = hist.reshape(record.size, width)
        own = rows.ids[follow, column]
        own_code = np.where(own >= 0, own - self.offsets[column] + 1, 0)
        take = (own_code > 0) & (hist[np.arange(record.size), own_code] >= self.k)
        out[record[take], column[take]] = own[take]
        merged = hist < self.k
        merged[:, 0] = True
        keep = np.where(take[owner], code == own_code[owner], merged[owner, code])
        new_lengths = np.bincount(owner[keep], minlength=record.size)
        new_starts = np.concatenate(([0], np.cumsum(new_lengths))).astype(np.int64)
        return new_starts, members[keep]

    def _to_lists(
        self, record: IntArray, bits: BitArray
    ) -> tuple[IntArray, IntArray, IntArray]:
        found, lengths = bits_to_lists(bits)
        return record, found, lengths


def _append_lists(
    listed: IntArray,
    starts: IntArray,
    members: IntArray,
    record: IntArray,
    rows: IntArray,
    lengths: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """Append row lists for ``record`` to a CSR of row lists."""
    new_starts = starts[-1] + np.cumsum(lengths)
    return (
        np.concatenate([listed, record]),
        np.concatenate([starts, new_starts]).astype(np.int64),
        np.concatenate([members, rows]),
    )
