"""Synthetic linked records: subjects, each with its synthetic links.

Three protected releases feed this stage, all from :mod:`synthcase.linked`:
the *subject aggregates* count subjects (one row per subject: its
subject-level values and its binned number of links), the *links
histogram* counts subjects per declared bin of links, and the *link
aggregates* count links (one row per link: the subject's values, its binned
number of links and the link's own values).

1. **Subjects** are drawn column by column from the subject aggregates.
2. **Links per subject**: the subjects' bins are matched to the links
   histogram, then each subject gets a number of links drawn uniformly
   inside its bin (the bins are public; inside a bin nothing was measured,
   so uniform is an assumption, not an estimate).
3. **Links** are drawn column by column from the link aggregates, starting
   from their subject's values as a fixed prefix (a *seeded prefix*).

Drawing column by column: each column is drawn from its protected
conditional distribution given a few *parents* among the columns already
fixed, as in PrivBayes (Zhang et al., SIGMOD 2014) but read from released
counts, never from the data. The parents maximise the mutual information
of the protected table minus what the noise alone could make up (a
chi-square allowance), either up to ``R - 1`` parents with their measured
table or a few with the table that matches only their pairs with each
other and with the column. The chosen table is fitted to its shorter, less
noisy tables by iterative proportional fitting.

A protected table over a few columns, absent cells included, is estimated
from the released counts by inclusion-exclusion: "``A = a`` and ``B``
absent" is the count of ``A = a`` minus the counts of ``A = a, B = b`` over
the released ``b``. An unreleased combination is estimated from its shorter
ones (it is not zero, only small), negative estimates are clipped to zero,
and a column whose absent count is within noise is taken as never absent.

Guarantee: everything here reads protected releases and public noise
facts only, so the output is post-processing and carries their privacy
guarantee unchanged. The seed drives only this post-processing. The links
of one subject are drawn independently of each other given the subject's
values: a pattern shared by two links of the same subject is not
reproduced beyond what the subject's values explain.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.errors import ParameterError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.combinations import IntArray
from synthcase.prepare.linked import LinkedSchema, join_multi_value
from synthcase.progress import Progress, no_progress

__all__ = [
    "ConditionalSampler",
    "LinkedSynthesisSettings",
    "NoiseProfile",
    "ProtectedLinked",
    "estimated_table",
    "measured_columns",
    "subject_columns_never_absent",
    "subject_layout",
    "subject_records",
    "synthesize_linked",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

UNKNOWN = -2
"""Code of a prefix value the link aggregates did not release."""


@dataclass(frozen=True, kw_only=True)
class LinkedSynthesisSettings:
    """Settings of linked synthesis.

    Attributes:
        subjects: Number of synthetic subjects; ``None`` uses the number
            estimated from the protected counts of subjects.
        seed: Seed of the post-processing randomness; ``None`` draws one from
            the operating system. It never touches the privacy noise.
        id_prefix: Text before the running number of each synthetic subject
            id (``S000001``); the ids say nothing about any real subject.
    """

    subjects: int | None = None
    seed: int | None = None
    id_prefix: str = "S"

    def __post_init__(self) -> None:
        if self.subjects is not None and (
            isinstance(self.subjects, bool) or self.subjects < 0
        ):
            raise ParameterError(
                f"subjects is {self.subjects!r}; it must be a whole number >= 0, "
                "or None for the protected subject count"
            )


@dataclass(frozen=True)
class NoiseProfile:
    """Public noise facts of one aggregates release, per length ``1..R``.

    Attributes:
        scales: Noise scale (standard deviation) of each length's counts.
        thresholds: Each length's threshold: a combination of that length
            whose noisy count was at or below it was not released.
        record_scale: Noise scale of the record count.
        held: Columns taken as never absent whatever these counts show,
            because a more direct protected release shows them never
            absent (a subject's values, in the link aggregates).
    """

    scales: tuple[float, ...] = ()
    thresholds: tuple[float, ...] = ()
    record_scale: float = 0.0
    held: frozenset[str] = frozenset()

    def scale(self, length: int) -> float:
        """Noise scale of ``length`` (the longest known one past the end).

        Length 0 is the record count.
        """
        if length == 0:
            return self.record_scale
        if not self.scales:
            return 0.0
        return float(self.scales[min(length, len(self.scales)) - 1])

    def cap(self, length: int) -> float:
        """Largest count given to an unreleased combination of ``length``.

        Its noisy count was at most the threshold, so its count is unlikely
        to exceed the threshold by more than one noise scale.
        """
        if not self.thresholds or length > len(self.thresholds):
            return math.inf
        return max(self.thresholds[length - 1], 0.0) + self.scale(length)


def estimated_table(
    aggregates: Aggregates,
    columns: Sequence[str],
    noise: NoiseProfile | None = None,
) -> FloatArray:
    """Protected counts of every combination over ``columns``, absent included.

    Axis ``i`` has one entry per released value of ``columns[i]`` and a last
    entry for "absent". At most ``R`` columns. A combination that was not
    released is estimated from its shorter ones as if its last value were
    independent of the rest (the mean over which value is "last"), capped by
    :meth:`NoiseProfile.cap`: unreleased is not the same as zero.

    >>> agg = Aggregates.from_pairs(
    ...     [([("A", "a")], 6), ([("B", "b")], 5), ([("A", "a"), ("B", "b")], 4)],
    ...     record_count=10)
    >>> estimated_table(agg, ["A", "B"]).tolist()
    [[4.0, 2.0], [1.0, 3.0]]
    """
    noise = noise or NoiseProfile()
    number = [aggregates.columns.index(c) for c in columns]
    order = np.argsort(number, kind="stable")
    ordered = [number[i] for i in order]
    cards = [len(aggregates.categories[j]) for j in ordered]
    offsets = aggregates.index.offsets
    total = float(max(aggregates.record_count, 0))
    # up[x]: units holding the values of x, where the last index means "any".
    up = np.zeros([c + 1 for c in cards], dtype=np.float64)
    up[(-1,) * len(cards)] = total
    subsets = itertools.chain.from_iterable(
        itertools.combinations(range(len(cards)), k) for k in range(1, len(cards) + 1)
    )
    for axes in subsets:
        grids = np.meshgrid(*(np.arange(cards[i]) for i in axes), indexing="ij")
        ids = np.stack(
            [g.ravel() + offsets[ordered[i]] for g, i in zip(grids, axes, strict=True)],
            axis=1,
        ).astype(np.int64)
        block = aggregates.lookup(ids).astype(np.float64).reshape(grids[0].shape)
        missing = block < 0
        if missing.any():
            guess = _independent_guess(up, cards, axes, total)
            block[missing] = np.clip(guess[missing], 0.0, noise.cap(len(axes)))
        up[_view(cards, axes)] = block
    shown = [
        aggregates.columns[column] not in noise.held
        and _absent_shown(
            total, total - up[_view(cards, [axis])].sum(), cards[axis], noise
        )
        for axis, column in enumerate(ordered)
    ]
    # Turn "any" into "absent" one axis at a time (inclusion-exclusion).
    for axis in range(len(ordered)):
        moved = np.moveaxis(up, axis, 0)
        moved[-1] -= moved[:-1].sum(axis=0)
        if not shown[axis]:
            moved[-1] = 0.0
    np.maximum(up, 0.0, out=up)
    return np.transpose(up, np.argsort(order))


_ABSENT_SPREAD = 2.0
"""Standard deviations of noise an absent count must exceed to be shown.

A column always held still shows absent cells in about 2 tests in 100;
raising the bar drops real absent shares instead (at four, 10 to 15 %
absent link values of a 4,000-victim file vanished at epsilon 1). Subject
columns in the link aggregates are guarded by the subject aggregates
instead: see :func:`subject_columns_never_absent`.
"""


def _absent_shown(
    total: float, absent: float, values: int, noise: NoiseProfile
) -> bool:
    """Whether a column's protected counts show absent cells beyond noise.

    The absent count is the record count minus the counts of the column's
    values; when it is within :data:`_ABSENT_SPREAD` standard deviations of
    its noise, the column is taken as never absent, so differences of noise
    are not synthesized as absent cells.
    """
    spread = math.sqrt(noise.scale(0) ** 2 + values * noise.scale(1) ** 2)
    return absent > _ABSENT_SPREAD * spread


def _view(cards: Sequence[int], axes: Sequence[int]) -> tuple[slice | int, ...]:
    """Index of the entries of ``up`` holding values on ``axes``, "any" elsewhere."""
    return tuple(slice(0, c) if i in axes else -1 for i, c in enumerate(cards))


def _independent_guess(
    up: FloatArray, cards: Sequence[int], axes: tuple[int, ...], total: float
) -> FloatArray:
    """Counts over ``axes`` if one value were independent of the others."""
    if total <= 0:
        return np.zeros([cards[i] for i in axes])
    guesses = []
    for position, axis in enumerate(axes):
        rest = up[_view(cards, [a for a in axes if a != axis])]
        single = up[_view(cards, [axis])]
        shape = [1] * len(axes)
        shape[position] = cards[axis]
        guesses.append(np.expand_dims(rest, position) * single.reshape(shape) / total)
    return np.asarray(np.mean(guesses, axis=0), dtype=np.float64)


def _mutual_information(joint: FloatArray) -> float:
    """Mutual information between the last axis and all the others, in nats."""
    total = joint.sum()
    if total <= 0:
        return 0.0
    p = joint / total
    parents = p.sum(axis=-1, keepdims=True)
    target = p.sum(axis=tuple(range(p.ndim - 1)), keepdims=True)
    expected = parents * target
    held = p > 0
    return float((p[held] * np.log(p[held] / expected[held])).sum())


def _cell_variance(cards: Sequence[int], noise: NoiseProfile) -> FloatArray:
    """Noise variance of each cell of :func:`estimated_table` over ``cards`` values.

    A cell with values on the axes ``P`` and absent on ``A`` is a signed sum,
    over every ``B`` within ``A``, of the counts of ``P`` plus values on
    ``B``; each count has the variance of its length (the record count is
    given the record count's).
    """
    k = len(cards)
    variance = np.zeros([c + 1 for c in cards], dtype=np.float64)
    for absent in itertools.product((False, True), repeat=k):
        present = k - sum(absent)
        total = 0.0
        for extra in itertools.product(
            *((False, True) if a else (False,) for a in absent)
        ):
            terms = math.prod(c for c, e in zip(cards, extra, strict=True) if e)
            total += terms * noise.scale(present + sum(extra)) ** 2
        where = tuple(
            -1 if a else slice(0, c) for a, c in zip(absent, cards, strict=True)
        )
        variance[where] = total
    return variance


_SPREAD = 2.5
"""Standard deviations of noise-made information a chosen parent must beat."""


def _noise_information(joint: FloatArray, variance: FloatArray) -> tuple[float, float]:
    """Mean and variance of the mutual information the noise alone makes up.

    Noise of variance ``v_x`` on the count of cell ``x`` acts like sampling:
    the G-statistic ``2 N MI`` grows by about ``v_x / E_x`` per cell, times
    the share ``df / cells`` of cells free given the margins, ``E_x`` being
    the count the margins predict; each term is a scaled chi-square with one
    degree of freedom, so its variance is twice its mean squared. Sparse
    tables (many cells, small ``E_x``) and cells estimated by long
    differences make a lot of information up.
    """
    total = joint.sum()
    if joint.ndim < 2 or total <= 0:
        return 0.0, 0.0
    parents = joint.sum(axis=-1, keepdims=True)
    target = joint.sum(axis=tuple(range(joint.ndim - 1)), keepdims=True)
    expected = parents * target / total
    used = expected > 0
    rows, columns = parents.size, target.size
    free = (rows - 1) * (columns - 1) / (rows * columns)
    terms = variance[used] / np.maximum(expected[used], 1.0) * free / (2.0 * total)
    return float(terms.sum()), float(2.0 * (terms**2).sum())


def _allowance(mean: float, variance: float) -> float:
    """Information a parent set must beat: the noise's mean plus a margin.

    The margin is :data:`_SPREAD` standard deviations, because the parents
    are the best of many candidates and the best of many noisy scores is
    high.
    """
    return mean + _SPREAD * math.sqrt(variance)


def _raked(
    aggregates: Aggregates,
    columns: Sequence[str],
    joint: FloatArray,
    noise: NoiseProfile | None,
    largest: int | None = None,
    sweeps: int = 5,
) -> FloatArray:
    """``joint`` fitted to its shorter tables by iterative proportional fitting.

    The tables over every subset of at most ``largest`` (default: all but
    one) of the columns are fitted, longest first. Shorter combinations carry
    less noise, so the table keeps the interaction its longest counts show
    while its margins follow the shorter, more accurate counts; the single
    columns are fitted last. Started from a uniform table with ``largest=2``
    it gives the table with the most entropy among those that match every
    pair: no three-way interaction at all.
    """
    k = len(columns)
    if k < 2:
        return joint
    top = k - 1 if largest is None else min(largest, k - 1)
    subsets = [
        axes
        for size in range(top, 0, -1)
        for axes in itertools.combinations(range(k), size)
    ]
    margins = {
        axes: estimated_table(aggregates, [columns[i] for i in axes], noise)
        for axes in subsets
    }
    fitted = joint.copy()
    for _ in range(sweeps):
        for axes in subsets:
            other = tuple(i for i in range(k) if i not in axes)
            current = fitted.sum(axis=other, keepdims=True)
            wanted = np.expand_dims(margins[axes], other)
            with np.errstate(invalid="ignore", divide="ignore"):
                factor = np.where(current > 0, wanted / current, 0.0)
            fitted *= factor
    return fitted


_SHORTLIST = 4
"""Most parents of one column: the best single parents, at most this many."""


def _choose_parents(
    aggregates: Aggregates,
    available: Sequence[str],
    target: str,
    size: int,
    noise: NoiseProfile,
) -> tuple[tuple[str, ...], FloatArray]:
    """The parents of ``target`` and their fitted table.

    A candidate's score is the mutual information of its table with the
    target minus the :func:`_allowance` for the information its noise makes
    up (:func:`_noise_information`). The candidates are

    * no parent (score zero), or any one parent;
    * up to ``size`` parents with their measured table;
    * up to :data:`_SHORTLIST` parents with the table that matches only the
      pairs (no interaction of three or more), whose noise is that of the
      parents' pairs with the target. It keeps each parent's own effect when
      the longer counts are mostly noise, and reads only pairs, so it may
      hold more parents than ``size``.

    Sets of several parents are drawn from the single parents whose
    information exceeds the mean their noise makes up, best first.
    """
    noise_of: dict[str, tuple[float, float]] = {}

    def information(joint: FloatArray) -> tuple[float, float, float]:
        variance = _cell_variance([n - 1 for n in joint.shape], noise)
        return (_mutual_information(joint), *_noise_information(joint, variance))

    # (score, parents, table, whether the table is fitted already)
    best: tuple[float, tuple[str, ...], FloatArray, bool] = (
        0.0,
        (),
        estimated_table(aggregates, [target], noise),
        False,
    )
    excess: dict[str, float] = {}
    for parent in available if size else ():
        joint = estimated_table(aggregates, [parent, target], noise)
        found, mean, variance = information(joint)
        noise_of[parent] = (mean, variance)
        excess[parent] = found - mean
        if found - _allowance(mean, variance) > best[0]:
            best = (found - _allowance(mean, variance), (parent,), joint, False)
    ranked = sorted((p for p in excess if excess[p] > 0), key=excess.__getitem__)
    shortlist = ranked[::-1][:_SHORTLIST]
    for k in range(2, len(shortlist) + 1):
        for parents in itertools.combinations(shortlist, k):
            columns = [*parents, target]
            if k <= size:
                measured = estimated_table(aggregates, columns, noise)
                found, mean, variance = information(measured)
                if found - _allowance(mean, variance) > best[0]:
                    best = (
                        found - _allowance(mean, variance),
                        parents,
                        measured,
                        False,
                    )
            shape = [
                len(aggregates.categories[aggregates.columns.index(c)]) + 1
                for c in columns
            ]
            pairwise = _raked(aggregates, columns, np.ones(shape), noise, 2, sweeps=10)
            allowed = _allowance(
                sum(noise_of[p][0] for p in parents),
                sum(noise_of[p][1] for p in parents),
            )
            if _mutual_information(pairwise) - allowed > best[0]:
                best = (
                    _mutual_information(pairwise) - allowed,
                    parents,
                    pairwise,
                    True,
                )
    _, parents, joint, fitted = best
    if not fitted:
        joint = _raked(aggregates, [*parents, target], joint, noise)
    return parents, joint


@dataclass(frozen=True, eq=False)
class _Node:
    """One drawn column with its parents and protected joint table."""

    target: str
    parents: tuple[str, ...]
    joint: FloatArray

    def conditional(self, unknown: tuple[bool, ...]) -> FloatArray:
        """``P(target | parents)``, parents marked unknown summed out.

        A parent configuration with no protected mass falls back to the
        target's own distribution; a target with none at all is absent.
        """
        axes = tuple(i for i, u in enumerate(unknown) if u)
        joint = self.joint.sum(axis=axes, keepdims=True) if axes else self.joint
        marginal = self.joint.sum(axis=tuple(range(len(self.parents))))
        if marginal.sum() <= 0:
            marginal = np.zeros_like(marginal)
            marginal[-1] = 1.0
        mass = joint.sum(axis=-1, keepdims=True)
        fallback = np.broadcast_to(marginal / marginal.sum(), joint.shape)
        with np.errstate(invalid="ignore", divide="ignore"):
            conditional = np.where(mass > 0, joint / mass, fallback)
        return np.asarray(conditional, dtype=np.float64)


class ConditionalSampler:
    """Draws some columns given others, from protected counts alone.

    Args:
        aggregates: The protected counts.
        given: Columns whose values are fixed beforehand (the prefix).
            Columns the aggregates lack are ignored.
        targets: Columns to draw, in the order they are drawn.

    Each target's parents are chosen among the given columns and the
    earlier targets: those whose protected tables hold the most information
    about the target beyond what the noise could make up (see
    :func:`_choose_parents`).
    """

    def __init__(
        self,
        aggregates: Aggregates,
        given: Sequence[str],
        targets: Sequence[str],
        noise: NoiseProfile | None = None,
    ) -> None:
        self.aggregates = aggregates
        noise = noise or NoiseProfile()
        known = set(aggregates.columns)
        self.given = tuple(c for c in given if c in known)
        self.nodes: list[_Node] = []
        size = max(0, aggregates.reporting_length - 1)
        available = list(self.given)
        for target in targets:
            parents, joint = _choose_parents(aggregates, available, target, size, noise)
            self.nodes.append(_Node(target, parents, joint))
            logger.info("draws %s given %s", target, ", ".join(parents) or "nothing")
            available.append(target)

    @property
    def parents(self) -> dict[str, tuple[str, ...]]:
        """The parents of each target."""
        return {node.target: node.parents for node in self.nodes}

    def sample(self, prefix: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """Draw the targets for each row of ``prefix``.

        Args:
            prefix: Labels of the given columns (``pd.NA`` when absent); a
                label the aggregates did not release counts as unknown and
                is summed out.
            rng: Post-processing randomness.

        Returns:
            Labels of the targets, ``pd.NA`` when absent, aligned with
            ``prefix``.
        """
        codes = {c: self._codes(c, prefix[c]) for c in self.given}
        for node in self.nodes:
            codes[node.target] = self._draw(node, codes, len(prefix), rng)
        return pd.DataFrame(
            {n.target: self._labels(n.target, codes[n.target]) for n in self.nodes},
            index=prefix.index,
        )

    def _codes(self, column: str, labels: pd.Series) -> IntArray:
        categories = self.aggregates.categories[self.aggregates.columns.index(column)]
        lookup = {label: i for i, label in enumerate(categories)}
        absent = labels.isna().to_numpy(dtype=bool)
        mapped = labels.astype(object).map(lookup)
        codes = np.array(mapped.fillna(UNKNOWN).to_numpy(), dtype=np.int64)
        codes[absent] = len(categories)
        return codes

    def _labels(self, column: str, codes: IntArray) -> pd.Series:
        categories = self.aggregates.categories[self.aggregates.columns.index(column)]
        labels = np.array([*categories, pd.NA], dtype=object)
        return pd.Series(labels[codes], dtype="object")

    def _draw(
        self,
        node: _Node,
        codes: Mapping[str, IntArray],
        size: int,
        rng: np.random.Generator,
    ) -> IntArray:
        out = np.zeros(size, dtype=np.int64)
        parents = (
            np.stack([codes[p] for p in node.parents], axis=1)
            if node.parents
            else np.zeros((size, 0), dtype=np.int64)
        )
        unknown = parents == UNKNOWN
        patterns, group = np.unique(unknown, axis=0, return_inverse=True)
        for number, pattern in enumerate(patterns):
            rows = np.flatnonzero(group.ravel() == number)
            table = node.conditional(tuple(bool(u) for u in pattern))
            where = tuple(
                np.zeros(rows.size, np.int64) if pattern[i] else parents[rows, i]
                for i in range(len(node.parents))
            )
            weights = (
                table[where]
                if where
                else np.broadcast_to(table, (rows.size, table.shape[-1]))
            )
            out[rows] = _draw(weights, rng)
        return out


def _draw(weights: FloatArray, rng: np.random.Generator) -> IntArray:
    """One index per row, drawn with probability proportional to the weights."""
    cumulative = np.cumsum(weights, axis=1)
    targets = rng.random(weights.shape[0]) * cumulative[:, -1]
    picks = (cumulative <= targets[:, None]).sum(axis=1)
    return np.asarray(np.minimum(picks, weights.shape[1] - 1), dtype=np.int64)


@dataclass(frozen=True, kw_only=True)
class ProtectedLinked:
    """Everything linked synthesis reads; all of it is protected or public.

    Attributes:
        schema: The public layout of the input.
        subjects: Protected subject aggregates (one row per subject).
        links: Protected link aggregates (one row per link), or ``None``
            when every column is subject-level.
        links_histogram: Protected number of subjects in each declared bin
            of links (may be negative: it is noisy).
        subject_count: Number of subjects to synthesize by default, from
            protected counts.
        subject_noise: Noise facts of the subject aggregates.
        link_noise: Noise facts of the link aggregates.
    """

    schema: LinkedSchema
    subjects: Aggregates
    links: Aggregates | None
    links_histogram: tuple[int, ...]
    subject_count: int
    subject_noise: NoiseProfile = NoiseProfile()
    link_noise: NoiseProfile = NoiseProfile()


def synthesize_linked(
    protected: ProtectedLinked,
    settings: LinkedSynthesisSettings | None = None,
    *,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Synthetic links in the input's layout, from protected aggregates alone.

    Args:
        protected: The protected aggregates and the public layout.
        settings: Number of subjects and seed.
        progress: Called with the stage and the fraction done.

    Returns:
        One row per synthetic link: the input's columns in input order, the
        subject id column holding new ids (``S000001``...), multi-value
        cells joined back, ``pd.NA`` where absent. A subject's links are
        consecutive.
    """
    settings = settings or LinkedSynthesisSettings()
    rng = np.random.default_rng(settings.seed)
    schema, subjects, links = protected.schema, protected.subjects, protected.links
    count = settings.subjects
    if count is None:
        count = max(0, protected.subject_count)
    progress("synthesizing subjects", 0.0)
    people = ConditionalSampler(
        subjects, (), subjects.columns, protected.subject_noise
    ).sample(pd.DataFrame(index=range(count)), rng)
    bins = _calibrated_bins(people[schema.links_column], protected, rng)
    ranges = np.array(schema.link_bins.ranges(), dtype=np.int64)
    low, high = ranges[bins, 0], ranges[bins, 1]
    counts = low + np.floor(rng.random(count) * (high - low + 1)).astype(np.int64)
    people[schema.links_column] = np.array(schema.link_bins.labels(), object)[bins]

    progress("synthesizing links", 0.5)
    owner = np.repeat(np.arange(count), counts)
    prefix = people.iloc[owner].reset_index(drop=True)
    if links is not None:
        given = [c for c in subjects.columns if c in links.columns]
        targets = [
            c for c in _measured(schema, schema.link_columns) if c in links.columns
        ]
        held = subject_columns_never_absent(protected, given)
        noise = dataclasses.replace(protected.link_noise, held=held)
        sampler = ConditionalSampler(links, given, targets, noise)
        drawn = sampler.sample(prefix.loc[:, given], rng)
        prefix = pd.concat([prefix, drawn], axis=1)
    logger.info("synthesized %d subjects with %d links", count, len(prefix))
    progress("synthesizing links", 1.0)

    width = max(6, len(str(count)))
    ids = np.array([f"{settings.id_prefix}{i + 1:0{width}d}" for i in range(count)])
    return _input_layout(prefix, ids[owner], schema)


def subject_columns_never_absent(
    protected: ProtectedLinked, columns: Sequence[str]
) -> frozenset[str]:
    """The subject ``columns`` the subject aggregates show never absent.

    A subject's values are the same on each of its links, so such a column
    is never absent among the links either, whatever the link counts show.
    Without this, noise alone gives one of them absent cells in the link
    tables in about 2 tests in 100, and those cells, long differences of
    noisy counts, hide the column's bearing on the link columns. Reads
    protected counts only.
    """
    return frozenset(
        c
        for c in columns
        if estimated_table(protected.subjects, [c], protected.subject_noise)[-1] == 0
    )


def _calibrated_bins(
    labels: pd.Series, protected: ProtectedLinked, rng: np.random.Generator
) -> IntArray:
    """Bin of links of each subject, matched to the protected histogram.

    Subjects keep the bin they were grown with while that bin has room;
    the others, and subjects grown without one, fill the bins that fall
    short, at random. The subject aggregates hide rare bins (the 1-value
    threshold), the histogram over the public bins does not, so the number
    of subjects per bin follows the histogram and the link between a
    subject's values and its bin follows the subject aggregates.
    """
    names = protected.schema.link_bins.labels()
    codes = labels.map({label: i for i, label in enumerate(names)})
    bins = np.array(codes.fillna(-1).to_numpy(), dtype=np.int64)
    weights = np.maximum(np.asarray(protected.links_histogram, dtype=np.float64), 0)
    if weights.sum() <= 0:
        weights = np.bincount(bins[bins >= 0], minlength=len(names)).astype(float)
    if weights.sum() <= 0:
        weights[0] = 1.0
    target = _apportion(weights, bins.size)
    for number in range(len(names)):
        members = rng.permutation(np.flatnonzero(bins == number))
        bins[members[target[number] :]] = -1
    free = rng.permutation(np.flatnonzero(bins < 0))
    short = target - np.bincount(bins[bins >= 0], minlength=len(names))
    bins[free] = np.repeat(np.arange(len(names)), np.maximum(short, 0))[: free.size]
    return bins


def _apportion(weights: FloatArray, total: int) -> IntArray:
    """Whole numbers proportional to ``weights`` summing to ``total``."""
    exact = weights / weights.sum() * total
    whole = np.floor(exact).astype(np.int64)
    rest = total - int(whole.sum())
    whole[np.argsort(-(exact - whole), kind="stable")[:rest]] += 1
    return np.asarray(whole, dtype=np.int64)


def _measured(schema: LinkedSchema, inputs: Sequence[str]) -> list[str]:
    """Measured columns of input columns (released presence columns included)."""
    multi = dict(schema.delimiters)
    result: list[str] = []
    for column in inputs:
        if column in multi:
            result.extend(p for p, _ in schema.presence_of(column))
        else:
            result.append(column)
    return result


def measured_columns(schema: LinkedSchema, inputs: Sequence[str]) -> list[str]:
    """The measured columns of some input columns, in the order they are drawn.

    A multi-value column gives its released presence columns, every other
    column itself.
    """
    return _measured(schema, inputs)


def _input_layout(
    frame: pd.DataFrame, ids: npt.NDArray[np.str_], schema: LinkedSchema
) -> pd.DataFrame:
    multi = dict(schema.delimiters)
    data: dict[str, pd.Series] = {}
    for column in schema.input_columns:
        if column == schema.subject_id:
            data[column] = pd.Series(ids, dtype="object")
        elif column in multi:
            data[column] = join_multi_value(
                frame, schema.presence_of(column), multi[column]
            ).reset_index(drop=True)
        elif column in frame:
            data[column] = frame[column].astype("object").reset_index(drop=True)
        else:
            data[column] = pd.Series([pd.NA] * len(frame), dtype="object")
    return pd.DataFrame(data, columns=list(schema.input_columns))


def subject_layout(frame: pd.DataFrame, schema: LinkedSchema) -> pd.DataFrame:
    """One row per subject; each link column lists its subject's distinct values.

    Post-processing of synthetic links: a link column becomes a multi-value
    cell (the delimiter of its multi-value declaration, else ``";"``) of the
    distinct values over the subject's links, in sorted order, and a column
    named like :attr:`LinkedSchema.links_column` gives the number of links.
    """
    key = schema.subject_id
    grouped = frame.groupby(key, sort=False)
    result = grouped[list(schema.subject_columns)].first()
    result[schema.links_column] = grouped.size()
    multi = dict(schema.delimiters)
    for column in schema.link_columns:
        delimiter = multi.get(column, ";")
        parts = frame[[key, column]].dropna()
        if column in multi:
            parts = parts.assign(
                **{column: parts[column].astype(str).str.split(delimiter, regex=False)}
            ).explode(column)
        parts = parts.drop_duplicates().sort_values([key, column], kind="stable")
        joined = parts.groupby(key, sort=False)[column].agg(delimiter.join)
        result[column] = joined.reindex(result.index).astype("object")
    result = result.reset_index()
    ordered = [c for c in schema.input_columns if c in result.columns]
    return result.loc[:, [*ordered, schema.links_column]]


def subject_records(
    frame: pd.DataFrame, schema: LinkedSchema, columns: Sequence[str]
) -> pd.DataFrame:
    """One row per synthetic subject, in the columns of the subject aggregates.

    Post-processing of synthetic links: presence columns hold ``"1"`` where
    the subject's multi-value cell holds the value, and the number-of-links
    column holds the label of the subject's bin.
    """
    grouped = frame.groupby(schema.subject_id, sort=False)
    first = grouped.first()
    links = np.asarray(grouped.size().to_numpy(), dtype=np.int64)
    presence = {p: (c, v) for p, c, v in schema.presence}
    multi = dict(schema.delimiters)
    data: dict[str, object] = {}
    for column in columns:
        if column == schema.links_column:
            labels = np.array(schema.link_bins.labels(), dtype=object)
            data[column] = labels[schema.link_bins.bin_of(links)]
        elif column in presence:
            source, value = presence[column]
            cells = first[source].fillna("").astype(str)
            held = cells.str.split(multi[source], regex=False).map(
                lambda parts, value=value: value in parts
            )
            flags = held.to_numpy(dtype=bool)
            data[column] = np.array(["1" if f else None for f in flags], dtype=object)
        else:
            data[column] = first[column].to_numpy(dtype=object)
    return pd.DataFrame(data, columns=list(columns), dtype="object")
