"""Growing records value by value while each record stays shared by k rows.

A record starts empty. At each step it may take one value among its
*candidates* (the values of its seed record, or the values still available
to consolidation); a candidate ``v`` is *viable* when at least ``k``
sensitive rows hold the record so far together with ``v``. The record draws
one viable candidate with weight the number of those rows, takes it, and
stops when no candidate is viable.

Invariant (the k guarantee): after every step, the full set of values of a
record is held by at least ``k`` sensitive rows. Every sub-combination of it,
of any length, is then held by at least as many rows, because a row holding
a set holds each of its subsets. Whoever removes values from a record later
keeps the invariant for the same reason.

Records advance in lockstep, a batch at a time. Records whose values so far
are equal share a *node*: the rows holding those values (see
:mod:`synthcase.synthesize._kanon_nodes`). Since the rows of a record only
shrink as it grows, a candidate that is not viable now never becomes viable
and is dropped for good.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from synthcase.measure.combinations import IntArray
from synthcase.progress import Progress, no_progress
from synthcase.synthesize._kanon_nodes import Nodes, list_threshold
from synthcase.synthesize._kanon_rows import BoolArray, RowSets

__all__ = ["Limiter", "SeededGrowth", "consolidate", "max_batch"]

_BATCH_CELLS = 2_000_000
"""Largest ``records x values`` matrix one batch may use."""


def max_batch(n_values: int) -> int:
    """Records per batch so that a ``(records, values)`` matrix stays bounded."""
    return max(256, _BATCH_CELLS // max(1, n_values))


class Limiter(Protocol):
    """Refuses values that would push synthetic counts past some cap."""

    def accept(self, chosen: IntArray, values: IntArray) -> BoolArray:
        """Whether each record ``chosen[i]`` may take ``values[i]``.

        Proposals are in priority order: an earlier one is decided as if
        it were added first.
        """

    def commit(self, taken: BoolArray) -> None:
        """Count the proposals of the last :meth:`accept` marked ``taken``."""


class SeededGrowth:
    """Grows batches of records from candidate values; see the module notes.

    Args:
        rows: The sensitive row sets.
        resolution: The privacy resolution ``k``.
        rng: Randomness of the draws (post-processing only).
    """

    def __init__(
        self, rows: RowSets, resolution: int, rng: np.random.Generator
    ) -> None:
        self.rows = rows
        self.k = resolution
        self.rng = rng
        self.pairs_held = rows.pairs_held(resolution)

    def grow(
        self,
        candidates: BoolArray,
        *,
        available: IntArray | None = None,
        limiter: Limiter | None = None,
        tries: int = 1,
    ) -> IntArray:
        """Grow one record per row of ``candidates``.

        Args:
            candidates: ``(records, values)``: the values each record may take.
                Changed in place.
            available: How many more times each value may be taken, shared by
                all records; lowered in place as values are taken.
            limiter: Refuses some values; a refused value is dropped from the
                record's candidates and costs one try.
            tries: Refusals in a row a record may have before it stops.

        Returns:
            ``(records, columns)`` value ids, ``-1`` where a record took no
            value of the column. Every record's values are held together by
            at least ``k`` sensitive rows.
        """
        rows = self.rows
        n_records = candidates.shape[0]
        chosen = np.full((n_records, rows.n_columns), -1, dtype=np.int64)
        tries_left = np.full(n_records, tries, dtype=np.int64)
        nodes = Nodes.root(rows)
        # A value held by fewer than k rows can never be taken.
        candidates &= np.diagonal(self.pairs_held)[None, :]
        record = np.flatnonzero(candidates.any(axis=1))
        node_of = np.zeros(record.size, dtype=np.int64)
        while record.size:
            cand = candidates[record]
            if available is not None:
                cand &= available[None, :] > 0
            counts = nodes.counts(rows, node_of, cand)
            weights = counts[node_of]
            # Rows only shrink and availability only falls, so a candidate
            # that fails either now fails for the rest of this record.
            viable = cand & (weights >= self.k)
            picks = self._choose(
                record, viable, weights, chosen, available, limiter, tries_left, tries
            )
            candidates[record] = viable
            moved = picks >= 0
            record, node_of, picks = record[moved], node_of[moved], picks[moved]
            columns = rows.value_column[picks]
            chosen[record, columns] = picks
            # Values of the same column are out, and so are values that do not
            # form a pair held by k rows with the value just taken.
            candidates[record] &= self.pairs_held[picks]
            candidates[record] &= rows.value_column[None, :] != columns[:, None]
            threshold = list_threshold(rows, self.k, candidates[record])
            nodes, node_of = nodes.children(
                rows, node_of, picks, counts[node_of, picks], threshold
            )
        return chosen

    def _choose(
        self,
        record: IntArray,
        viable: BoolArray,
        weights: IntArray,
        chosen: IntArray,
        available: IntArray | None,
        limiter: Limiter | None,
        tries_left: IntArray,
        tries: int,
    ) -> IntArray:
        """One value per record (``-1``: the record is finished).

        A record whose draw is taken by others (availability ran out) or
        refused by the limiter draws again among its remaining candidates;
        ``viable`` loses those values in place. ``tries`` refusals in a row
        finish a record.
        """
        alive = viable
        picks = np.full(record.size, -1, dtype=np.int64)
        pending: BoolArray = np.asarray(alive.any(axis=1))
        while pending.any():
            waiting = np.flatnonzero(pending)
            pair_record, pair_value = np.nonzero(alive[waiting])
            drawn = _draw(
                pair_record, weights[waiting[pair_record], pair_value], self.rng
            )
            value = pair_value[drawn]
            # A random priority decides who gets a value in short supply.
            order = self.rng.permutation(waiting.size)
            waiting, value = waiting[order], value[order]
            ok: BoolArray = np.ones(waiting.size, dtype=bool)
            if available is not None:
                ok = np.asarray(_rank_within(value) < available[value])
                # Those who lost found the value used up: it is gone for all.
                alive[waiting[~ok], value[~ok]] = False
            if limiter is not None and ok.any():
                asked = np.flatnonzero(ok)
                accepted = limiter.accept(chosen[record[waiting[asked]]], value[asked])
                limiter.commit(accepted)
                refused = asked[~accepted]
                alive[waiting[refused], value[refused]] = False
                tries_left[record[waiting[refused]]] -= 1
                spent = refused[tries_left[record[waiting[refused]]] <= 0]
                alive[waiting[spent]] = False
                ok[refused] = False
            won = np.flatnonzero(ok)
            picks[waiting[won]] = value[won]
            pending[waiting[won]] = False
            tries_left[record[waiting[won]]] = tries
            if available is not None:
                available -= np.bincount(value[won], minlength=available.size)
            pending &= alive.any(axis=1)
        return picks


def consolidate(
    growth: SeededGrowth,
    available: IntArray,
    *,
    limiter: Limiter | None = None,
    tries: int = 1,
    progress: Progress = no_progress,
    stage: str = "consolidating",
) -> IntArray:
    """Build records from ``available`` value counts until none are left.

    Every record starts empty with every available value as a candidate, so
    its first value is always viable (an available value is held by at least
    ``k`` rows) and each round uses up at least one count.

    Args:
        growth: The grower over the sensitive rows.
        available: How many times each value is still to be used; used up in
            place (all zero on return).
        limiter: Optional cap on synthetic counts; see :class:`Limiter`.
        tries: Refusals in a row per record under the limiter.
        progress: Called with ``stage`` and the fraction used up.
        stage: Label of the progress stage.

    Returns:
        ``(records, columns)`` value ids of the new, non-empty records.

    Raises:
        RuntimeError: When a round uses up nothing (a broken invariant).
    """
    n_values = growth.rows.n_values
    total = int(available.sum())
    parts = [np.zeros((0, growth.rows.n_columns), dtype=np.int64)]
    # A record holds at most one value per column; start from that length and
    # learn the real one from each round.
    length = float(max(1, growth.rows.n_columns))
    while (remaining := int(available.sum())) > 0:
        size = min(max_batch(n_values), max(1, math.ceil(remaining / length)))
        candidates = np.repeat((available > 0)[None, :], size, axis=0)
        grown = growth.grow(
            candidates, available=available, limiter=limiter, tries=tries
        )
        lengths = (grown >= 0).sum(axis=1)
        if int(available.sum()) >= remaining:
            raise RuntimeError("consolidation made no progress; this is a bug")
        parts.append(grown[lengths > 0])
        length = max(1.0, float(lengths[lengths > 0].mean()))
        progress(stage, 1.0 - int(available.sum()) / max(total, 1))
    return np.concatenate(parts)


def _draw(record: IntArray, weights: IntArray, rng: np.random.Generator) -> IntArray:
    """For each record (``record`` sorted), one pair drawn by integer weight."""
    cumulative = np.cumsum(weights)
    first = np.flatnonzero(np.r_[True, record[1:] != record[:-1]])
    last = np.r_[first[1:], record.size] - 1
    before = cumulative[first] - weights[first]
    total = cumulative[last] - before
    offset = np.minimum((rng.random(first.size) * total).astype(np.int64), total - 1)
    return np.asarray(
        np.searchsorted(cumulative, before + offset, side="right"), dtype=np.int64
    )


def _rank_within(values: IntArray) -> IntArray:
    """Position of each entry among the earlier entries with the same value."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    first = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    group_start = np.repeat(first, np.diff(np.r_[first, values.size]))
    rank = np.empty(values.size, dtype=np.int64)
    rank[order] = np.arange(values.size) - group_start
    return rank
