"""Value-seeded k-anonymous synthesis: records built from single-value counts.

The mode of Microsoft's Synthetic Data Showcase that seeds records from the
counts of single values rather than from records. Each value ``v`` is to be
used ``floor(n_v / k) * k`` times, its count rounded down to a multiple of
``k``. Records are built until every value is used up: each starts empty and
grows one value at a time, drawing among the values still to be used the
ones for which at least ``k`` sensitive rows hold the record so far together
with the value, with weight that number of rows (see
:mod:`synthcase.synthesize._kanon_grow`).

*Oversampling control.* Drawing from single-value counts can make a longer
combination more frequent in the synthetic data than in the aggregates. With
an ``oversampling_ratio`` ``r``, a value is refused when, for some
combination ``c`` of up to ``R`` values that it would form with the record,
the synthetic count of ``c`` would exceed ``(1 + r)`` times its k-anonymous
count. A refused value is dropped from that record's draws; after
``oversampling_tries`` refusals in a row the record is closed. Proposals made
in the same step count against each other in a random order, so the cap
holds exactly.

Guarantee (checked by the tests): every synthetic record's full set of
values, and so every combination of values inside it of any length
(in particular of length ``<= R``), is held by at least ``k`` sensitive
records; each value appears exactly its k-rounded count of times; with a
ratio, no combination of up to ``R`` values appears more than ``(1 + r)``
times its k-anonymous count. This is k-anonymity, not differential privacy.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.measure.aggregates import Aggregates
from synthcase.measure.combinations import CombinationSpace, IntArray, ValueIndex
from synthcase.measure.k_anonymity import k_anonymous_counts
from synthcase.prepare.table import EncodedTable
from synthcase.progress import Progress, no_progress
from synthcase.synthesize._kanon_grow import SeededGrowth, consolidate
from synthcase.synthesize._kanon_rows import BoolArray, RowSets, records_to_frame
from synthcase.synthesize._kanon_settings import KAnonymitySettings

__all__ = ["synthesize_value_seeded"]

logger = logging.getLogger(__name__)

_DENSE_KEYS = 16_000_000
"""Largest key space looked up through a dense table (64 MB)."""


def synthesize_value_seeded(
    table: EncodedTable,
    settings: KAnonymitySettings | None = None,
    *,
    aggregates: Aggregates | None = None,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Synthesize k-anonymous records from the k-rounded single-value counts.

    Args:
        table: The sensitive records, one row per person.
        settings: Resolution, seed and the optional oversampling control
            (``oversampling_ratio``, ``oversampling_tries``).
        aggregates: The result of
            :func:`~synthcase.measure.k_anonymity.k_anonymous_aggregates` for
            this table and these settings, when the caller already has it;
            the oversampling control then needs no counting of its own.
        progress: Called with the stage and the fraction done.

    Returns:
        The synthetic records: one column per table column, in order, labels
        as ``object``, ``pd.NA`` where absent; rows shuffled. Every record's
        full set of values is held by at least ``k`` sensitive records, and
        each value appears exactly ``floor(n_v / k) * k`` times.

    Raises:
        ParameterError: When a setting is out of range or does not apply, or
            ``aggregates`` do not match the table and settings.
    """
    settings = settings or KAnonymitySettings()
    settings.check(table, "value-seeded")
    if aggregates is not None:
        settings.check_aggregates(table, aggregates)
    k = settings.resolution
    rng = np.random.default_rng(settings.seed)
    rows = RowSets(table)
    limiter = None
    if settings.oversampling_ratio is not None:
        limiter = OversamplingLimiter(
            table,
            resolution=k,
            reporting_length=settings.reporting_length,
            ratio=settings.oversampling_ratio,
            aggregates=aggregates,
        )
    logger.info(
        "value-seeded k-anonymous synthesis: resolution %d, oversampling %s",
        k,
        "unlimited"
        if limiter is None
        else f"ratio {settings.oversampling_ratio}, {settings.tries} tries, up to "
        f"length {settings.reporting_length}",
    )
    available = rows.counts // k * k
    records = consolidate(
        SeededGrowth(rows, k, rng),
        available,
        limiter=limiter,
        tries=settings.tries,
        progress=progress,
        stage="building records from value counts",
    )
    records = records[rng.permutation(records.shape[0])]
    logger.info("value-seeded synthesis made %d records", records.shape[0])
    return records_to_frame(table, records)


class OversamplingLimiter:
    """Caps synthetic combination counts at ``(1 + ratio)`` x k-anonymous counts.

    Args:
        table: The sensitive records (only their k-anonymous counts are used).
        resolution: The privacy resolution ``k``.
        reporting_length: Longest combination capped, ``R``.
        ratio: Allowed oversampling ``r >= 0``.
        aggregates: The table's k-anonymous aggregates, if already computed.
    """

    def __init__(
        self,
        table: EncodedTable,
        *,
        resolution: int,
        reporting_length: int,
        ratio: float,
        aggregates: Aggregates | None = None,
    ) -> None:
        index = ValueIndex.from_cardinalities(table.cardinalities)
        if aggregates is None:
            released = k_anonymous_counts(
                table, resolution=resolution, reporting_length=reporting_length
            )
        else:
            released = _in_table_numbering(table, index, aggregates)
        self.spaces = [
            CombinationSpace.build(index, length)
            for length in range(1, reporting_length + 1)
        ]
        self.keys = [keys for keys, _ in released]
        self.caps = [counts * (1.0 + ratio) for _, counts in released]
        self.synthetic = [np.zeros(keys.size, dtype=np.int64) for keys in self.keys]
        # Where the key space is small, a dense table finds a key's position
        # in one step instead of a binary search.
        self.dense: list[npt.NDArray[np.int32] | None] = []
        for space, keys in zip(self.spaces, self.keys, strict=True):
            size = int(space.starts[-1])
            if size > _DENSE_KEYS:
                self.dense.append(None)
                continue
            table_of_keys = np.full(size, -1, dtype=np.int32)
            table_of_keys[keys] = np.arange(keys.size)
            self.dense.append(table_of_keys)
        self._last: list[tuple[IntArray, IntArray]] = []

    def accept(self, chosen: IntArray, values: IntArray) -> BoolArray:
        """Whether each record ``chosen[i]`` may take ``values[i]``.

        Earlier proposals count against later ones whether or not they are
        accepted themselves, which can only refuse more, never exceed a cap.
        """
        ok = np.ones(values.size, dtype=bool)
        self._last = self._new_combinations(chosen, values)
        for length, (owner, position) in enumerate(self._last, start=1):
            # A combination without a k-anonymous count may not be formed;
            # the growth rule never proposes one, so this only fails closed.
            missing = position < 0
            ok[owner[missing]] = False
            owner, position = owner[~missing], position[~missing]
            synthetic, caps = self.synthetic[length - 1], self.caps[length - 1]
            # Only combinations that all proposals together could push past
            # their cap need the proposals ranked.
            total = np.bincount(position, minlength=synthetic.size)
            tight = (synthetic + total > caps)[position]
            if not tight.any():
                continue
            key = np.sort(position[tight] * values.size + owner[tight])
            position, owner = np.divmod(key, values.size)
            first = np.flatnonzero(np.r_[True, position[1:] != position[:-1]])
            earlier = np.arange(position.size) - np.repeat(
                first, np.diff(np.r_[first, position.size])
            )
            ok[owner[synthetic[position] + earlier + 1 > caps[position]]] = False
        return ok

    def commit(self, taken: BoolArray) -> None:
        """Count the combinations formed by the proposals marked ``taken``.

        ``taken`` refers to the proposals of the last :meth:`accept`; only
        accepted ones may be taken (all their combinations were found).
        """
        for length, (owner, position) in enumerate(self._last, start=1):
            counted = position[taken[owner]]
            synthetic = self.synthetic[length - 1]
            synthetic += np.bincount(counted, minlength=synthetic.size)
        self._last = []

    def _new_combinations(
        self, chosen: IntArray, values: IntArray
    ) -> list[tuple[IntArray, IntArray]]:
        """The combinations of up to ``R`` values that hold the new value.

        Returns:
            Per length: ``(owner, position)``, the proposal each combination
            belongs to and its position among the k-anonymous keys of its
            length (``-1`` when it has none).
        """
        lengths = len(self.spaces)
        ids: list[list[IntArray]] = [[] for _ in range(lengths)]
        owners: list[list[IntArray]] = [[] for _ in range(lengths)]
        held = chosen >= 0
        sizes = held.sum(axis=1)
        for size in np.unique(sizes).tolist():
            members = np.flatnonzero(sizes == size)
            # Value ids are grouped by column in column order, so a record's
            # values read left to right are already sorted.
            compact = chosen[members][held[members]].reshape(members.size, size)
            new = values[members][:, None, None]
            for others in range(min(lengths - 1, size) + 1):
                picks = _subsets(size, others)
                parts = compact[:, picks]  # sorted along the last axis
                slot = (parts < new).sum(axis=2, keepdims=True)
                combined = np.empty((*parts.shape[:2], others + 1), dtype=np.int64)
                for i in range(others + 1):
                    before = parts[:, :, i : i + 1] if i < others else new
                    after = parts[:, :, i - 1 : i] if i else new
                    combined[:, :, i : i + 1] = np.where(
                        slot > i, before, np.where(slot == i, new, after)
                    )
                ids[others].append(combined.reshape(-1, others + 1))
                owners[others].append(np.repeat(members, picks.shape[0]))
        result = []
        for others in range(lengths):
            if not ids[others]:
                result.append((np.zeros(0, np.int64), np.zeros(0, np.int64)))
                continue
            keys = self.spaces[others].keys_from_ids(np.concatenate(ids[others]))
            result.append(
                (np.concatenate(owners[others]), self._positions(others, keys))
            )
        return result

    def _positions(self, others: int, keys: IntArray) -> IntArray:
        """Positions of ``keys`` among the released keys, ``-1`` if absent."""
        dense = self.dense[others]
        if dense is not None:
            return np.asarray(dense[keys], dtype=np.int64)
        released = self.keys[others]
        if released.size == 0:
            return np.full(keys.size, -1, dtype=np.int64)
        position = np.minimum(np.searchsorted(released, keys), released.size - 1)
        return np.where(released[position] == keys, position, -1)


def _in_table_numbering(
    table: EncodedTable, index: ValueIndex, aggregates: Aggregates
) -> tuple[tuple[IntArray, IntArray], ...]:
    """The aggregates' combinations as sorted keys of the table's numbering."""
    to_table = np.zeros(aggregates.index.n_values, dtype=np.int64)
    for j, released in enumerate(aggregates.categories):
        code = {label: i for i, label in enumerate(table.categories[j])}
        first = int(aggregates.index.offsets[j])
        for i, label in enumerate(released):
            to_table[first + i] = int(index.offsets[j]) + code[label]
    result = []
    for length, (combos, counts) in enumerate(
        zip(aggregates.combinations, aggregates.counts, strict=True), start=1
    ):
        # One value per column and columns in the same order: rows stay sorted.
        keys = CombinationSpace.build(index, length).keys_from_ids(to_table[combos])
        order = np.argsort(keys)
        result.append((keys[order], counts[order].astype(np.int64)))
    return tuple(result)


def _subsets(size: int, count: int) -> IntArray:
    """All ``count``-element subsets of ``range(size)``, as index rows."""
    if count == 0:
        return np.zeros((1, 0), dtype=np.int64)
    subsets = list(itertools.combinations(range(size), count))
    return np.array(subsets, dtype=np.int64).reshape(-1, count)
