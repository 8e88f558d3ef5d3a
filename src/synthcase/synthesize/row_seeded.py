"""Row-seeded k-anonymous synthesis: one synthetic record per sensitive record.

The k-anonymity mode of Microsoft's Synthetic Data Showcase that stays
closest to the data, in three phases:

1. *Seeded rows.* Each sensitive record seeds one synthetic record, which is
   grown from the seed's own values: at each step one of the seed's values
   not yet taken is drawn, with weight the number of sensitive rows that hold
   the synthetic record so far together with that value, among the values
   for which that number is at least ``k``. The record stops when no value
   qualifies. The check is on the *whole* record so far plus the value, not
   only on its short sub-combinations (see
   :mod:`synthcase.synthesize._kanon_grow`).
2. *Consolidation.* Each value ``v`` should appear ``floor(n_v / k) * k``
   times, its count rounded down to a multiple of ``k`` (0 when ``n_v < k``).
   Values that appear fewer times are used up by extra records, grown the
   same way from the values still owed.
3. *Suppression.* Values that appear more often lose occurrences, taken from
   the records in one random order, so that a few records lose several values
   rather than many records one each; records left empty are dropped.

Guarantee (checked by the tests): every synthetic record's full set of
values, and therefore every combination of values inside it of any length
(in particular of length ``<= R``), is held by at least ``k`` records of the
sensitive data; and each value appears exactly its k-rounded count of times.
Suppression keeps the first part because it only removes values. This is
k-anonymity, not differential privacy; the number of synthetic records
follows the number of sensitive records closely.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from synthcase.measure.combinations import IntArray
from synthcase.prepare.table import EncodedTable
from synthcase.progress import Progress, no_progress
from synthcase.synthesize._kanon_grow import SeededGrowth, consolidate, max_batch
from synthcase.synthesize._kanon_rows import RowSets, records_to_frame
from synthcase.synthesize._kanon_settings import KAnonymitySettings

__all__ = ["synthesize_row_seeded"]

logger = logging.getLogger(__name__)


def synthesize_row_seeded(
    table: EncodedTable,
    settings: KAnonymitySettings | None = None,
    *,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Synthesize k-anonymous records, one seeded by each sensitive record.

    Args:
        table: The sensitive records, one row per person.
        settings: Resolution and seed; oversampling and aggregate-seeded
            options must be left unset.
        progress: Called with the stage and the fraction done.

    Returns:
        The synthetic records: one column per table column, in order, labels
        as ``object``, ``pd.NA`` where absent; rows shuffled. Every record's
        full set of values is held by at least ``k`` sensitive records, and
        each value appears exactly ``floor(n_v / k) * k`` times.

    Raises:
        ParameterError: When a setting is out of range or does not apply.
    """
    settings = settings or KAnonymitySettings()
    settings.check(table, "row-seeded")
    k = settings.resolution
    rng = np.random.default_rng(settings.seed)
    rows = RowSets(table)
    growth = SeededGrowth(rows, k, rng)
    logger.info(
        "row-seeded k-anonymous synthesis: resolution %d; a value joins a record "
        "only while the whole record is held by at least %d sensitive records",
        k,
        k,
    )

    # Seeded rows: each record grows from its own values.
    parts = [np.zeros((0, rows.n_columns), dtype=np.int64)]
    batch = max_batch(rows.n_values)
    for first in range(0, rows.n_rows, batch):
        ids = rows.ids[first : first + batch]
        candidates = np.zeros((ids.shape[0], rows.n_values), dtype=bool)
        held, column = np.nonzero(ids >= 0)
        candidates[held, ids[held, column]] = True
        parts.append(growth.grow(candidates))
        progress("growing seeded records", min(1.0, (first + batch) / rows.n_rows))
    records = np.concatenate(parts)

    # Consolidation: use up what each value is still owed.
    target = rows.counts // k * k
    available = np.maximum(target - _value_counts(records, rows.n_values), 0)
    extra = consolidate(growth, available, progress=progress)
    records = np.concatenate([records, extra])

    # Suppression: take away what each value has beyond its target.
    progress("suppressing surplus values", 1.0)
    records = suppress_surplus(records, target, rng)
    records = records[(records >= 0).any(axis=1)]
    records = records[rng.permutation(records.shape[0])]
    logger.info("row-seeded synthesis made %d records", records.shape[0])
    return records_to_frame(table, records)


def suppress_surplus(
    records: IntArray, target: IntArray, rng: np.random.Generator
) -> IntArray:
    """Remove occurrences beyond ``target[v]`` of every value ``v``.

    Occurrences are removed from the records taken in one random order, so
    surplus values tend to come off the same records. Only values are
    removed, so a record whose values were held together by ``k`` sensitive
    rows still is.

    Args:
        records: ``(records, columns)`` value ids, ``-1`` absent.
        target: Largest number of occurrences of each value.
        rng: Randomness of the record order.

    Returns:
        A copy of ``records`` with the surplus set to ``-1`` (empty records
        are kept).
    """
    records = records.copy()
    surplus = np.maximum(_value_counts(records, target.size) - target, 0)
    if not surplus.any():
        return records
    record, column = np.nonzero(records >= 0)
    value = records[record, column]
    over = surplus[value] > 0
    record, column, value = record[over], column[over], value[over]
    priority = rng.permutation(records.shape[0])[record]
    order = np.lexsort((priority, value))
    record, column, value = record[order], column[order], value[order]
    first = np.flatnonzero(np.r_[True, value[1:] != value[:-1]])
    rank = np.arange(value.size) - np.repeat(first, np.diff(np.r_[first, value.size]))
    remove = rank < surplus[value]
    records[record[remove], column[remove]] = -1
    return records


def _value_counts(records: IntArray, n_values: int) -> IntArray:
    return np.bincount(records[records >= 0], minlength=n_values).astype(np.int64)
