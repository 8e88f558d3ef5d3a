"""Aggregate-seeded synthesis: records built from protected counts alone.

Each synthetic record is grown one value at a time. A candidate value ``u``
may join the record only if every combination it forms with the record's
values, up to the reporting length ``R``, is in the aggregates; so the output
never holds a combination of length ``<= R`` that the aggregates lack. While
the record plus ``u`` has at most ``R`` values, ``u`` is drawn with weight the
protected count of that combination; beyond ``R``, with weight a percentile
of the protected counts of all the sub-combinations that contain ``u``.

Records are synthesized in batches that advance in lockstep, so every step
is a handful of numpy operations over ``(batch, values)`` arrays. The counts
a value has left to give (its protected count, scaled to the number of
records asked for) bound how often it is drawn.

Guarantee: this is post-processing of the aggregates; it reads no sensitive
record, so the output carries exactly the aggregates' privacy guarantee.
The seed drives only this post-processing.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.errors import ParameterError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.combinations import IntArray, record_combinations
from synthcase.prepare.table import ABSENT, EncodedTable
from synthcase.progress import Progress, no_progress

__all__ = ["SynthesisSettings", "synthesize_from_aggregates"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.floating[Any]]

MAX_RECORDS = 10_000_000
"""Most synthetic records one run makes."""

_TABLE_LIMIT = 200_000_000
"""Largest number of cells of the extension tables (about 800 MB)."""


@dataclass(frozen=True, kw_only=True)
class SynthesisSettings:
    """Settings of aggregate-seeded synthesis.

    Attributes:
        records: Number of records to synthesize; ``None`` uses the protected
            record count.
        weight_percentile: Percentile (0..100) of the sub-combination counts
            used as a candidate's weight once the record is longer than ``R``.
        use_synthetic_counts: Subtract the counts already synthesized from
            the protected counts when weighting, so that combinations already
            well represented are drawn less.
        seed: Seed of the post-processing randomness; ``None`` draws one from
            the operating system. It never touches the privacy noise.
        batch_size: Records advanced together in one batch.
    """

    records: int | None = None
    weight_percentile: float = 95.0
    use_synthetic_counts: bool = False
    seed: int | None = None
    batch_size: int = 512

    def __post_init__(self) -> None:
        if self.records is not None and self.records < 0:
            raise ParameterError(
                f"records is {self.records}; it must be >= 0 (or left out to use "
                "the protected record count)"
            )
        if not 0 <= self.weight_percentile <= 100:
            raise ParameterError(
                f"weight_percentile is {self.weight_percentile}; it must be in 0..100"
            )
        if self.seed is not None and (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or self.seed < 0
        ):
            raise ParameterError(
                f"seed is {self.seed!r}; it must be a whole number >= 0, for "
                "example --seed 7"
            )
        if self.records is not None and self.records > MAX_RECORDS:
            raise ParameterError(
                f"records is {self.records:,}; at most {MAX_RECORDS:,} synthetic "
                "records can be made in one run"
            )
        if self.batch_size < 1:
            raise ParameterError(f"batch_size is {self.batch_size}; it must be >= 1")


class _Extensions:
    """Protected counts of each released combination extended by one value.

    For each released ``T`` shorter than ``R``:
    ``rows[j][row(T), u] = count(T + u)``, where ``j`` is the length of ``T``.
    """

    def __init__(self, aggregates: Aggregates) -> None:
        self.aggregates = aggregates
        index = aggregates.index
        n_values = index.n_values
        r = aggregates.reporting_length
        cells = sum(
            (aggregates.counts[j - 1].size if j else 1) * n_values for j in range(r)
        )
        if cells > _TABLE_LIMIT:
            raise ParameterError(
                f"synthesis would need {cells:,} table cells, more than "
                f"{_TABLE_LIMIT:,}; lower reporting_length or use a fabrication "
                "mode with fewer combinations"
            )
        self.column_of = index.value_column
        self.rows: list[FloatArray] = []
        for j in range(r):
            longer_ids = aggregates.combinations[j]  # length j + 1
            longer_counts = aggregates.counts[j].astype(np.float32)
            n_rows = 1 if j == 0 else aggregates.counts[j - 1].size
            table = np.zeros((n_rows, n_values), dtype=np.float32)
            if j == 0:
                table[0, longer_ids[:, 0]] = longer_counts
            else:
                space = aggregates.spaces[j - 1]
                keys = aggregates.keys[j - 1]
                # A combination whose sub-combinations are not all listed (an
                # inconsistent file) can never be formed: leave it out.
                rows = []
                complete = np.ones(longer_ids.shape[0], dtype=bool)
                for drop in range(j + 1):
                    sub_keys = space.keys_from_ids(np.delete(longer_ids, drop, axis=1))
                    row = np.minimum(np.searchsorted(keys, sub_keys), keys.size - 1)
                    complete &= (keys.size > 0) & (keys[row] == sub_keys)
                    rows.append(row)
                for drop, row in enumerate(rows):
                    table[row[complete], longer_ids[complete, drop]] = longer_counts[
                        complete
                    ]
            self.rows.append(table)
        self.original = [t.copy() for t in self.rows]

    def row_numbers(self, ids: IntArray) -> IntArray:
        """Row numbers of combinations given as sorted value ids (``(b, j)``)."""
        j = ids.shape[1]
        if j == 0:
            return np.zeros(ids.shape[0], dtype=np.int64)
        keys = self.aggregates.spaces[j - 1].keys_from_ids(ids)
        rows = np.searchsorted(self.aggregates.keys[j - 1], keys)
        return np.asarray(rows, dtype=np.int64)

    def subtract(self, records: list[list[int]]) -> None:
        """Lower the weights by the combinations ``records`` now hold.

        A weight never drops below 1 while its protected count is positive,
        so a combination the aggregates hold stays possible.
        """
        aggregates = self.aggregates
        offsets = aggregates.index.offsets
        codes = np.full((len(records), len(aggregates.columns)), ABSENT, np.int32)
        for i, record in enumerate(records):
            for v in record:
                codes[i, self.column_of[v]] = v - offsets[self.column_of[v]]
        table = EncodedTable(aggregates.columns, aggregates.categories, codes)
        for length, space in enumerate(aggregates.spaces, start=1):
            for _, keys in record_combinations(table, space):
                ids = space.ids_from_keys(keys)
                for drop in range(length):
                    rest = np.delete(ids, drop, axis=1)
                    rows = self.row_numbers(rest)
                    np.subtract.at(self.rows[length - 1], (rows, ids[:, drop]), 1.0)
        for current, original in zip(self.rows, self.original, strict=True):
            np.maximum(current, np.minimum(original, 1.0), out=current)


def synthesize_from_aggregates(
    aggregates: Aggregates,
    settings: SynthesisSettings | None = None,
    *,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Synthesize records from protected aggregates alone.

    Args:
        aggregates: The protected counts (the only input).
        settings: Synthesis settings; defaults when ``None``.
        progress: Called with the stage and the fraction done.

    Returns:
        The synthetic records: one column per aggregate column, in order,
        values as labels and ``pd.NA`` where absent; rows shuffled.
    """
    settings = settings or SynthesisSettings()
    rng = np.random.default_rng(settings.seed)
    target = (
        settings.records if settings.records is not None else aggregates.record_count
    )
    target = max(0, int(target))
    ext = _Extensions(aggregates)
    n_values = aggregates.index.n_values
    ones = ext.rows[0][0]
    scale = target / aggregates.record_count if aggregates.record_count > 0 else 0.0
    # Each value may be drawn about as often as its protected count allows.
    available = np.ceil(ones * scale)
    records: list[list[int]] = []
    while len(records) < target:
        size = min(settings.batch_size, target - len(records))
        batch = _grow_batch(ext, available, size, settings, rng, n_values)
        if settings.use_synthetic_counts:
            ext.subtract(batch)
        records.extend(batch)
        progress("synthesizing records", len(records) / max(target, 1))
    logger.info("synthesized %d records from protected aggregates", len(records))
    frame = _to_frame(aggregates, records)
    order = rng.permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True)


def _grow_batch(
    ext: _Extensions,
    available: FloatArray,
    size: int,
    settings: SynthesisSettings,
    rng: np.random.Generator,
    n_values: int,
) -> list[list[int]]:
    """Grow ``size`` records in lockstep, one value per record per step.

    Beyond ``R`` a candidate's weight is a percentile of the counts of all
    the record's sub-combinations that contain it. Records in lockstep meet
    the same number ``m`` of such counts, and the percentile only ever needs
    one of the largest few, so each record keeps just the ``keep`` largest
    counts per candidate instead of all ``m``.
    """
    r = ext.aggregates.reporting_length
    n_columns = len(ext.aggregates.columns)
    keep = _kept_counts(n_columns, r, settings.weight_percentile)
    chosen = np.zeros((size, 0), dtype=np.int64)
    active = np.ones(size, dtype=bool)
    # (records, values, kept counts): the partition runs along the last axis.
    top = np.full((size, n_values, keep), -np.inf, dtype=np.float32)
    top[:, :, 0] = ext.rows[0][0]  # the count of {u} itself
    met = 1
    allowed = np.broadcast_to(ext.rows[0][0] > 0, (size, n_values)).copy()
    allowed &= (available > 0)[None, :]
    for step in range(n_columns):
        idx = np.flatnonzero(active)
        if step < r:
            rows = ext.row_numbers(np.sort(chosen[idx], axis=1))
            weights = ext.rows[step][rows]
        else:
            weights = _percentile(top[idx], met, settings.weight_percentile)
        weights = np.where(allowed[idx] & (available > 0)[None, :], weights, 0.0)
        going = weights.sum(axis=1) > 0
        active[idx[~going]] = False
        idx, weights = idx[going], weights[going]
        if idx.size == 0:
            break
        picks = _draw(weights, rng)
        np.subtract.at(available, picks, 1.0)
        # Finished records carry -1 from here on; they are never read again.
        column = np.full(size, -1, dtype=np.int64)
        column[idx] = picks
        chosen = np.concatenate([chosen, column[:, None]], axis=1)
        # Values of the picked column are no longer candidates.
        allowed[idx] &= ext.column_of[None, :] != ext.column_of[picks][:, None]
        new = _new_rows(ext, chosen[idx], r)
        if new.shape[2]:
            allowed[idx] &= (new > 0).all(axis=2)
            merged = np.concatenate([top[idx], new], axis=2)
            if merged.shape[2] > keep:
                cut = merged.shape[2] - keep
                merged = np.partition(merged, cut, axis=2)[:, :, cut:]
            top[idx] = merged
            met += new.shape[2]
    return [[int(v) for v in row if v >= 0] for row in chosen]


def _kept_counts(n_columns: int, r: int, percentile: float) -> int:
    """How many of the largest counts the percentile can ever need."""
    met = 1
    for before in range(n_columns - 1):
        met += sum(math.comb(before, j) for j in range(min(r - 2, before) + 1))
    rank = math.floor(percentile / 100.0 * (met - 1))
    # As m grows the needed position from the top, m - 1 - rank(m), only grows.
    return max(1, met - rank)


def _new_rows(ext: _Extensions, chosen: IntArray, r: int) -> FloatArray:
    """Counts of ``T + u`` for each ``T`` that holds the value just added.

    ``T`` ranges over the sub-combinations of the record with at most
    ``R - 1`` values that contain its last value (the last column of
    ``chosen``); shape ``(records, values, number of T)``.
    """
    last = chosen[:, -1:]
    before = chosen.shape[1] - 1
    tables = []
    for size in range(min(r - 2, before) + 1):
        for subset in itertools.combinations(range(before), size):
            ids = np.sort(
                np.concatenate([chosen[:, list(subset)], last], axis=1), axis=1
            )
            tables.append(ext.rows[size + 1][ext.row_numbers(ids)])
    if not tables:
        return np.zeros((chosen.shape[0], ext.rows[0].shape[1], 0), np.float32)
    return np.stack(tables, axis=2)


def _percentile(top: FloatArray, met: int, percentile: float) -> FloatArray:
    """The ``lower`` percentile of ``met`` counts, from their largest ones."""
    rank = math.floor(percentile / 100.0 * (met - 1))
    position = top.shape[2] - 1 - (met - 1 - rank)
    return np.asarray(np.partition(top, position, axis=2)[:, :, position])


def _draw(weights: FloatArray, rng: np.random.Generator) -> IntArray:
    """One index per row, drawn with probability proportional to the weights."""
    cumulative = np.cumsum(weights, axis=1)
    targets = rng.random(weights.shape[0]) * cumulative[:, -1]
    picks = (cumulative <= targets[:, None]).sum(axis=1)
    return np.asarray(np.minimum(picks, weights.shape[1] - 1), dtype=np.int64)


def _to_frame(aggregates: Aggregates, records: list[list[int]]) -> pd.DataFrame:
    labels = aggregates.value_labels
    column_number = {c: j for j, c in enumerate(aggregates.columns)}
    data: list[list[object]] = []
    for record in records:
        row: list[object] = [pd.NA] * len(aggregates.columns)
        for v in record:
            column, label = labels[v]
            row[column_number[column]] = label
        data.append(row)
    return pd.DataFrame(data, columns=list(aggregates.columns), dtype="object")
