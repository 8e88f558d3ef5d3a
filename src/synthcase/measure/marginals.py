"""Differentially private counts of attribute combinations.

Implements the mechanism of Gopi, Mahabadi & Yekhanin, *Differentially
Private Marginals* (Microsoft Research), as Synthetic Data Showcase documents
it, with OpenDP noise and zCDP accounting:

1. The record count is released with the discrete Gaussian mechanism; the
   default delta is derived from that protected count.
2. For each length ``k = 1..R``:

   * *select*: the candidates are, at ``k = 1``, the values present in the
     data (protected by a threshold that hides values few units share) and
     every value of a column whose values were declared (bins or a value
     list: public, so no threshold is needed), and, at ``k >= 2``, every
     combination whose sub-combinations of length ``k - 1`` were all
     released; the candidates of ``k >= 2`` are therefore public, derived
     from earlier protected output alone;
   * *bound*: each unit's number of candidate combinations is bounded by a
     DP percentile of those numbers; a unit holding more keeps a uniformly
     random subset of that size;
   * *measure*: discrete Gaussian noise of scale ``sigma_k * sqrt(bound_k)``
     is added to every candidate's count, zero counts included;
   * *filter*: counts at or below the length's threshold are dropped. At
     ``k = 1`` the threshold of undeclared values is set by delta; for
     declared values and at ``k >= 2`` it only trades fabricated against
     suppressed combinations.

3. Counts are made consistent: no combination exceeds any of its
   sub-combinations (post-processing).

Guarantee: ``(epsilon, delta)``-differential privacy under adding or removing
one privacy unit (a record, or a subject with all its records), with the
accounting of :mod:`synthcase.measure.budget`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from synthcase.errors import BudgetError, ParameterError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.budget import (
    Accountant,
    BudgetPlan,
    plan_budget,
    record_count_rho,
)
from synthcase.measure.combinations import (
    CombinationSpace,
    IntArray,
    ValueIndex,
)
from synthcase.measure.noise import (
    gaussian_count,
    gaussian_counts,
    gaussian_threshold,
    noisy_quantile,
    threshold_for_delta,
)
from synthcase.measure.settings import DPSettings
from synthcase.measure.units import Units, group_units, truncate_units
from synthcase.prepare.table import EncodedTable
from synthcase.progress import Progress, no_progress

__all__ = ["LengthReport", "MarginalsRelease", "measure_marginals"]

logger = logging.getLogger(__name__)

_EXPAND_BLOCK = 4_000_000

PUBLIC_VALUE_ETA = 0.01
"""At length 1, the most chance that any declared value no unit holds, of one
column, is released: a column of ``m`` declared values keeps a value whose
noisy count exceeds the ``1 - eta / (2 m)`` quantile of the noise. The cut
trades fabricated against suppressed values; it does not protect anyone."""


@dataclass(frozen=True)
class LengthReport:
    """What was done at one combination length (all of it releasable).

    Attributes:
        length: Combination length ``k``.
        contribution_bound: Most combinations of this length one unit counts in.
        noise_scale: Standard deviation of the Gaussian noise on each count.
        threshold: At length 1 noisy counts below this are not released; at
            longer lengths, counts at or below it.
        candidates: Number of public candidate combinations noised: at
            length 1 the declared values, or ``None`` when no column's values
            were declared (the candidates are then all sensitive).
        released: Number of combinations released.
        rho: Privacy loss of the counts (zCDP).
        delta: Delta spent at this length (only length 1 spends any).
        public_cut: At length 1, the highest of the columns' cuts below which
            a declared value's noisy count is not released (a column's cut
            grows with its number of declared values); ``None`` when no value
            is declared.
    """

    length: int
    contribution_bound: int
    noise_scale: float
    threshold: float
    candidates: int | None
    released: int
    rho: float
    delta: float
    public_cut: float | None = None


@dataclass(frozen=True)
class MarginalsRelease:
    """The protected aggregates with the accounting that produced them."""

    aggregates: Aggregates
    accountant: Accountant
    lengths: tuple[LengthReport, ...]
    settings: DPSettings
    unit_count: int
    link_bound: int | None = None

    def privacy(self) -> dict[str, Any]:
        """Parameters and accounting as plain data for ``release.json``."""
        return {
            "definition": "(epsilon, delta)-differential privacy",
            "neighbouring": "add or remove one privacy unit with all its rows",
            **self.accountant.to_dict(),
            "protected_unit_count": self.unit_count,
            "link_bound": self.link_bound,
            "lengths": [vars(r) for r in self.lengths],
        }


def measure_marginals(
    table: EncodedTable,
    settings: DPSettings,
    *,
    progress: Progress = no_progress,
    distinct_units: bool = False,
) -> MarginalsRelease:
    """Release DP counts of every combination of length ``1..R``.

    Args:
        table: The sensitive records. Each row is one privacy unit, or, when
            the table has subject ids, each subject with all its rows.
        settings: Budget and mechanism settings.
        progress: Called with the stage and the fraction done.
        distinct_units: Count units, not rows: a subject holding a
            combination in several of its rows counts once. The counts then
            say how many subjects hold each combination, and one subject
            changes each count by at most one.

    Returns:
        The protected aggregates and their accounting.

    Raises:
        ParameterError: When the reporting length exceeds the columns or the
            candidates outgrow ``max_candidates``.
        BudgetError: When the budget cannot cover the mechanisms.
    """
    r = settings.reporting_length
    if r > table.n_columns:
        raise ParameterError(
            f"reporting_length {r} is longer than the {table.n_columns} columns "
            f"used; lower it to at most {table.n_columns} or use more columns"
        )
    index = ValueIndex.from_cardinalities(table.cardinalities)
    rng = np.random.default_rng()  # subset choice; privacy does not rest on it
    sorted_table, unit_of_row, n_units = group_units(table)
    linked = table.subject_ids is not None
    # Declared columns skip the length-1 threshold. A linked subject may hold
    # a value in several rows, which the split analysis below does not cover,
    # so linked tables keep every value behind the threshold (the safe side).
    public = np.array(
        [table.is_public(j) and not linked for j in range(table.n_columns)], bool
    )
    # With every column declared no mechanism spends delta on a threshold;
    # the whole delta then goes to the conversion.
    threshold_share = 0.0 if public.all() else settings.delta_threshold_share

    # Unit count first: the default delta is derived from its protected value.
    conversion_delta = (
        None if settings.delta is None else settings.delta * (1.0 - threshold_share)
    )
    rho_count = record_count_rho(
        settings.epsilon, settings.record_count_share, conversion_delta
    )
    rho_units = rho_count / 2 if linked else rho_count
    unit_count, count_scale, units_rho = gaussian_count(n_units, rho_units)
    logger.info("unit count protected with Gaussian noise, scale %.4g", count_scale)
    delta = settings.delta if settings.delta is not None else default_delta(unit_count)
    if delta >= 1.0 / max(unit_count, 1):
        raise BudgetError(
            f"delta {delta:.3g} is not below 1/n for the protected count n = "
            f"{unit_count}; such a delta could release a whole record outright. "
            "Pass a smaller --delta (for example 1e-6) or use more records"
        )
    choose_links = linked and settings.link_bound is None
    plan = plan_budget(
        epsilon=settings.epsilon,
        delta=delta,
        rho_record_count=rho_count,
        delta_threshold_share=threshold_share,
        percentile_share=settings.percentile_share,
        sigma_proportions=settings.resolved_sigma_proportions(),
        model_share=settings.model_share,
        extra_quantiles=1 if choose_links else 0,
    )
    accountant = Accountant(plan)
    accountant.spend("subject count" if linked else "record count", units_rho)

    units, links = _bound_links(
        sorted_table, unit_of_row, n_units, settings, plan, accountant, rng,
        rho_links=rho_count - rho_units, linked=linked,
    )  # fmt: skip
    # Counts are of rows: of links in a linked file, of units otherwise.
    record_count = unit_count if links is None else links
    released: list[tuple[IntArray, IntArray]] = []
    reports: list[LengthReport] = []
    for k in range(1, r + 1):
        progress(f"measuring length {k}", (k - 1) / r)
        space = CombinationSpace.build(index, k)
        # Length-1 keys are value ids; at length 1 every value is a candidate.
        candidates = (
            np.arange(index.n_values, dtype=np.int64)
            if k == 1
            else _candidates(index, released, k, settings)
        )
        if candidates.size == 0:
            logger.info("length %d: no candidates, nothing released", k)
            released.append((np.zeros(0, np.int64), np.zeros(0, np.int64)))
            continue
        positions = _Positions(candidates)
        per_unit = _per_unit_counts(units, space, positions, distinct_units)
        most = math.comb(table.n_columns, k) * units.link_bound
        bound, bound_rho = noisy_quantile(
            per_unit.tolist(),
            list(range(most + 1)),
            settings.percentile / 100.0,
            plan.rho_percentile[k - 1],
        )
        accountant.spend(f"contribution bound, length {k}", bound_rho)
        logger.info("length %d: contribution bound %d (DP percentile)", k, bound)
        if bound == 0:
            logger.info("length %d: bound is 0, nothing released from here on", k)
            released.append((np.zeros(0, np.int64), np.zeros(0, np.int64)))
            break
        counts = _bounded_counts(
            units, space, positions, per_unit, bound, rng, distinct_units
        )
        # One unit adds at most `bound` to the counts and at most `repeat` to
        # any one of them (it has at most link_bound rows, or counts once).
        repeat = 1 if distinct_units else min(units.link_bound, bound)
        l2 = math.sqrt(bound * repeat)
        scale = math.nextafter(plan.sigmas[k - 1] * l2, math.inf)
        if k == 1 and public.any():
            kept, report = _release_declared_and_found(
                counts,
                index.value_column,
                public,
                bound,
                plan.sigmas[0],
                plan.delta_threshold,
            )
        elif k == 1:
            # Only values some unit holds enter the threshold mechanism.
            present = np.flatnonzero(counts)
            kept, report = _release_values(
                present, counts[present], bound, repeat, scale, plan.delta_threshold
            )
        else:
            kept, report = _release_candidates(
                candidates, counts, k, bound, l2, scale, settings
            )
        accountant.spend(f"noisy counts, length {k}", report.rho, report.delta)
        logger.info(
            "length %d: noise scale %.4g, threshold %.4g, released %d",
            k,
            report.noise_scale,
            report.threshold,
            report.released,
        )
        released.append(kept)
        reports.append(report)
    progress("making counts consistent", 1.0)
    _make_consistent(index, released)
    accountant.check()
    aggregates = _reindex(table, index, released, record_count, r)
    # The accountant stays open: a synthesis model may spend plan.rho_model.
    return MarginalsRelease(
        aggregates,
        accountant,
        tuple(reports),
        settings,
        unit_count=unit_count,
        link_bound=units.link_bound if linked else None,
    )


def _bound_links(
    table: EncodedTable,
    unit_of_row: IntArray,
    n_units: int,
    settings: DPSettings,
    plan: BudgetPlan,
    accountant: Accountant,
    rng: np.random.Generator,
    *,
    rho_links: float,
    linked: bool,
) -> tuple[Units, int | None]:
    """Bound the rows per unit and release the number of rows (links).

    Returns the bounded units and the protected row count; without subject
    ids each row is a unit, nothing more is spent and the row count is
    ``None`` (it is the unit count already released).
    """
    if not linked:
        return Units(table, unit_of_row, n_units, 1, False), None
    rows = np.bincount(unit_of_row, minlength=n_units)
    if settings.link_bound is not None:
        link_bound = settings.link_bound
        logger.info("link bound %d (declared)", link_bound)
    else:
        link_bound, spent = noisy_quantile(
            rows.tolist(),
            list(range(1, settings.max_link_bound + 1)),
            settings.percentile / 100.0,
            plan.rho_link_bound,
        )
        accountant.spend("link bound", spent)
        logger.info("link bound %d (DP percentile)", link_bound)
    units = truncate_units(table, unit_of_row, n_units, link_bound, rng, linked=True)
    links, scale, spent = gaussian_count(
        units.table.n_records, rho_links, sensitivity=float(link_bound)
    )
    accountant.spend("link count", spent)
    logger.info("link count protected with Gaussian noise, scale %.4g", scale)
    return units, links


def default_delta(record_count: int) -> float:
    """``1 / (n ln n)`` for the protected record count ``n``.

    Raises:
        BudgetError: When the protected count is too small to derive delta.
    """
    if record_count < 3:
        raise BudgetError(
            f"the protected record count is {record_count}, too small to derive a "
            "default delta; pass delta explicitly (for example --delta 1e-6) or "
            "raise epsilon"
        )
    return 1.0 / (record_count * math.log(record_count))


class _Positions:
    """Position of each key in a sorted candidate list, ``-1`` when absent.

    A direct lookup table when the candidates span a modest key range (the
    usual case), binary search otherwise.
    """

    _TABLE_LIMIT = 64_000_000

    def __init__(self, candidates: IntArray) -> None:
        self.candidates = candidates
        self.low = int(candidates[0]) if candidates.size else 0
        span = int(candidates[-1]) - self.low + 1 if candidates.size else 0
        self.table: npt.NDArray[np.int32] | None = None
        if 0 < span <= self._TABLE_LIMIT:
            self.table = np.full(span, -1, dtype=np.int32)
            self.table[candidates - self.low] = np.arange(candidates.size)

    def __call__(self, keys: IntArray) -> IntArray:
        if self.candidates.size == 0:
            return np.full(keys.shape, -1, dtype=np.int64)
        if self.table is not None:
            shifted = keys - self.low
            inside = (shifted >= 0) & (shifted < self.table.size)
            found = np.full(keys.shape, -1, dtype=np.int64)
            found[inside] = self.table[shifted[inside]]
            return found
        pos = np.searchsorted(self.candidates, keys)
        clipped = np.minimum(pos, self.candidates.size - 1)
        hit = self.candidates[clipped] == keys
        return np.where(hit, clipped, -1).astype(np.int64)


def _pairs(
    units: Units,
    space: CombinationSpace,
    positions: _Positions,
    distinct: bool,
) -> Iterator[tuple[IntArray, IntArray]]:
    """(unit, candidate position) pairs, once per unit and candidate if distinct."""
    for unit_numbers, keys in units.combinations(space):
        found = positions(keys)
        mask = found >= 0
        unit_numbers, found = unit_numbers[mask], found[mask]
        if distinct and units.link_bound > 1 and found.size:
            order = np.lexsort((found, unit_numbers))
            unit_numbers, found = unit_numbers[order], found[order]
            first = np.ones(found.size, dtype=bool)
            first[1:] = (np.diff(unit_numbers) != 0) | (np.diff(found) != 0)
            unit_numbers, found = unit_numbers[first], found[first]
        yield unit_numbers, found


def _per_unit_counts(
    units: Units,
    space: CombinationSpace,
    positions: _Positions,
    distinct: bool = False,
) -> IntArray:
    """Number of candidate combinations each unit holds, rows summed (sensitive)."""
    per_unit = np.zeros(units.n_units, dtype=np.int64)
    for unit_numbers, _ in _pairs(units, space, positions, distinct):
        per_unit += np.bincount(unit_numbers, minlength=units.n_units)
    return per_unit


def _bounded_counts(
    units: Units,
    space: CombinationSpace,
    positions: _Positions,
    per_unit: IntArray,
    bound: int,
    rng: np.random.Generator,
    distinct: bool = False,
) -> IntArray:
    """Count candidates with each unit's contribution bounded.

    A unit holding more than ``bound`` combinations (over all its rows) keeps
    a uniformly random ``bound`` of them, so one unit adds at most ``bound``
    to the counts in total.

    Returns:
        The bounded count of every candidate, aligned with the candidates.
    """
    n = positions.candidates.size
    totals = np.zeros(n, dtype=np.int64)
    for unit_numbers, found in _pairs(units, space, positions, distinct):
        over = per_unit[unit_numbers] > bound
        if over.any():
            o_units, o_found = unit_numbers[over], found[over]
            order = np.lexsort((rng.random(o_units.size), o_units))
            sorted_units = o_units[order]
            rank = np.arange(order.size) - np.searchsorted(sorted_units, sorted_units)
            found = np.concatenate([found[~over], o_found[order[rank < bound]]])
        totals += np.bincount(found, minlength=n)
    return totals


def _release_values(
    keys: IntArray,
    counts: IntArray,
    bound: int,
    repeat: int,
    scale: float,
    delta: float,
) -> tuple[tuple[IntArray, IntArray], LengthReport]:
    """Length 1: the values present are sensitive, so a threshold hides rare ones."""
    threshold = threshold_for_delta(bound, scale, delta, linf=repeat)
    kept, rho, spent_delta = gaussian_threshold(
        dict(zip(keys.tolist(), counts.tolist(), strict=True)),
        bound,
        scale,
        threshold,
        linf=repeat,
    )
    out_keys = np.array(sorted(kept), dtype=np.int64)
    out_counts = np.array([kept[int(k)] for k in out_keys], dtype=np.int64)
    report = LengthReport(
        1, bound, scale, float(threshold), None, int(out_keys.size), rho, spent_delta
    )
    return (out_keys, out_counts), report


def _release_declared_and_found(
    counts: IntArray,
    value_column: IntArray,
    declared: npt.NDArray[np.bool_],
    bound: int,
    sigma: float,
    delta: float,
) -> tuple[tuple[IntArray, IntArray], LengthReport]:
    """Length 1 with declared columns: no threshold on their public values.

    ``value_column`` gives each value id's column and ``declared`` marks the
    declared columns. Each unit holds at most one value per column (tables
    without subject ids only) and at most ``bound`` values after bounding,
    so it changes at most ``l_d = min(bound, declared columns)`` declared
    counts and ``l_o = min(bound, other columns)`` others, each by one. Every
    declared value is noised (discrete Gaussian); the values found among the
    others go through the threshold mechanism. One scale
    ``sigma * sqrt(l_d + l_o)`` keeps the two losses' sum at the length's
    planned ``1 / (2 sigma^2)``; it is never below the scale of the single
    mechanism it replaces, whose L2 sensitivity is ``sqrt(bound)``. Both
    mechanisms are accounted whenever their columns exist, whatever the data
    hold: the spend must not tell whether any undeclared value was found.

    A declared value is kept when its noisy count exceeds its column's cut,
    the ``1 - eta / (2 m)`` quantile of the noise for a column of ``m``
    declared values: per column, the chance that any value no unit holds is
    released is at most ``eta`` (:data:`PUBLIC_VALUE_ETA`, union bound).

    Guarantee: ``(rho, delta)``-approximate zCDP, the sum of the Gaussian
    mechanism's rho (Canonne, Kamath & Steinke 2020) and the threshold
    mechanism's ``(rho, delta)`` (Rogers 2023), both from OpenDP's maps.
    """
    is_declared = declared[value_column]
    d_declared = int(declared.sum())
    l_declared = min(bound, d_declared)
    l_other = min(bound, declared.size - d_declared)
    scale = math.nextafter(sigma * math.sqrt(l_declared + l_other), math.inf)
    ids = np.flatnonzero(is_declared)
    noisy, rho = gaussian_counts(counts[ids], math.sqrt(l_declared), scale)
    # Public: the number of declared values of each value's column.
    sizes = np.bincount(value_column, minlength=declared.size)[value_column[ids]]
    # One quantile per list length, not per value.
    lengths, of_value = np.unique(sizes, return_inverse=True)
    quantile = np.array(
        [NormalDist().inv_cdf(1.0 - PUBLIC_VALUE_ETA / (2.0 * m)) for m in lengths]
    )
    cuts = scale * quantile[of_value]
    keep = (noisy > cuts) & (noisy > 0)
    keys, values = ids[keep], noisy[keep]
    cut = float(cuts.max()) if cuts.size else 0.0
    threshold, spent_delta = cut, 0.0
    if l_other:
        found = np.flatnonzero((counts > 0) & ~is_declared)
        (other_keys, other_counts), other = _release_values(
            found, counts[found], l_other, 1, scale, delta
        )
        rho += other.rho
        spent_delta = other.delta
        threshold = other.threshold
        order = np.argsort(np.concatenate([keys, other_keys]), kind="stable")
        keys = np.concatenate([keys, other_keys])[order]
        values = np.concatenate([values, other_counts])[order]
    report = LengthReport(
        1,
        bound,
        scale,
        float(threshold),
        int(ids.size),
        int(keys.size),
        rho,
        spent_delta,
        public_cut=cut,
    )
    return (keys, values), report


def _release_candidates(
    candidates: IntArray,
    counts: IntArray,
    k: int,
    bound: int,
    l2: float,
    scale: float,
    settings: DPSettings,
) -> tuple[tuple[IntArray, IntArray], LengthReport]:
    """Length >= 2: noise every public candidate, then filter by threshold."""
    noisy, rho = gaussian_counts(counts, l2, scale)
    etas = settings.adaptive_etas()
    if etas is None:
        threshold = settings.fixed_thresholds()[k]
    else:
        # eta/2 is the chance that a zero count's noise crosses the threshold.
        threshold = scale * NormalDist().inv_cdf(1.0 - min(etas[k] / 2.0, 0.5))
    keep = (noisy > threshold) & (noisy > 0)
    report = LengthReport(
        k, bound, scale, threshold, int(candidates.size), int(keep.sum()), rho, 0.0
    )
    return (candidates[keep], noisy[keep]), report


def _candidates(
    index: ValueIndex,
    released: list[tuple[IntArray, IntArray]],
    k: int,
    settings: DPSettings,
) -> IntArray:
    """Public candidates of length ``k``.

    A candidate is a combination whose every sub-combination of length
    ``k - 1`` was released; built from protected output only.
    """
    prev_space = CombinationSpace.build(index, k - 1)
    space = CombinationSpace.build(index, k)
    prev_keys = released[k - 2][0]
    singles = np.sort(released[0][0])  # length-1 keys are value ids
    if prev_keys.size == 0 or singles.size == 0:
        return np.zeros(0, dtype=np.int64)
    prev_ids = prev_space.ids_from_keys(prev_keys)
    prev_positions = _Positions(prev_keys)
    value_column = index.value_column
    single_columns = value_column[singles]
    last_columns = value_column[prev_ids[:, -1]]
    # Extend each combination only with values of later columns, so every
    # candidate is generated once, already sorted.
    starts = np.searchsorted(single_columns, last_columns, side="right")
    widths = singles.size - starts
    parts: list[IntArray] = []
    total = 0
    row = 0
    while row < prev_ids.shape[0]:
        stop = row + 1
        acc = int(widths[row])
        while stop < prev_ids.shape[0] and acc + widths[stop] <= _EXPAND_BLOCK:
            acc += int(widths[stop])
            stop += 1
        rows = np.repeat(np.arange(row, stop), widths[row:stop])
        offsets = np.arange(rows.size) - np.repeat(
            np.cumsum(widths[row:stop]) - widths[row:stop], widths[row:stop]
        )
        ext = np.concatenate(
            [prev_ids[rows], singles[starts[rows] + offsets][:, None]], axis=1
        )
        ok = np.ones(ext.shape[0], dtype=bool)
        for drop in range(k - 1):
            sub = np.delete(ext, drop, axis=1)
            ok &= prev_positions(prev_space.keys_from_ids(sub)) >= 0
        found = space.keys_from_ids(ext[ok])
        total += found.size
        if total > settings.max_candidates:
            raise ParameterError(
                f"length {k} has more than {settings.max_candidates} candidate "
                "combinations; lower reporting_length, choose a fabrication mode "
                "with less fabrication (e.g. 'minimize'), bin columns more "
                "coarsely, or raise max_candidates"
            )
        parts.append(found)
        row = stop
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def _make_consistent(
    index: ValueIndex, released: list[tuple[IntArray, IntArray]]
) -> None:
    """Cap each count by its sub-combinations' counts, shortest length first.

    Post-processing of protected counts only, so it costs no privacy.
    """
    for k in range(2, len(released) + 1):
        keys, counts = released[k - 1]
        if keys.size == 0:
            continue
        prev_keys, prev_counts = released[k - 2]
        ids = CombinationSpace.build(index, k).ids_from_keys(keys)
        prev_space = CombinationSpace.build(index, k - 1)
        capped = counts.copy()
        for drop in range(k):
            sub_keys = prev_space.keys_from_ids(np.delete(ids, drop, axis=1))
            capped = np.minimum(
                capped, prev_counts[np.searchsorted(prev_keys, sub_keys)]
            )
        released[k - 1] = (keys, capped)


def _reindex(
    table: EncodedTable,
    index: ValueIndex,
    released: list[tuple[IntArray, IntArray]],
    record_count: int,
    reporting_length: int,
) -> Aggregates:
    """Number the released values afresh and drop every suppressed label."""
    singles = released[0][0] if released else np.zeros(0, np.int64)
    new_id = np.full(index.n_values, -1, dtype=np.int64)
    new_id[singles] = np.arange(singles.size)
    value_column = index.value_column
    categories = []
    for j in range(table.n_columns):
        codes = singles[value_column[singles] == j] - index.offsets[j]
        categories.append(tuple(table.categories[j][int(c)] for c in codes))
    combos: list[IntArray] = []
    counts: list[IntArray] = []
    for k in range(1, reporting_length + 1):
        if k <= len(released) and released[k - 1][0].size:
            keys, cnt = released[k - 1]
            ids = CombinationSpace.build(index, k).ids_from_keys(keys)
            combos.append(new_id[ids])
            counts.append(cnt)
        else:
            combos.append(np.zeros((0, k), dtype=np.int64))
            counts.append(np.zeros(0, dtype=np.int64))
    return Aggregates(
        table.columns, tuple(categories), tuple(combos), tuple(counts), record_count
    )
