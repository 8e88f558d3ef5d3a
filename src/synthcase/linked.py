"""Linked releases: the subject, not the row, is the privacy unit.

A linked file (one row per victim-perpetrator link, keyed by a subject id)
is released in five protected steps, all under one ``(epsilon, delta)``:

1. **Subject count** (only when delta or the column levels are not given):
   the number of subjects with the discrete Gaussian mechanism; delta
   defaults to ``1 / (n ln n)`` of this protected count.
2. **Column levels** (only when not declared): for every input column, the
   number of subjects whose rows differ in it, and the number of subjects
   with several rows, as one Gaussian vector. A column is subject-level when
   the first is at most ``level_tolerance`` times the second, or within four
   noise scales of zero.
3. **Subject aggregates**: :func:`~synthcase.measure.measure_marginals` on
   the subject table (one row per subject: its subject-level values and its
   number of links in declared public bins).
4. **Links histogram**: the number of subjects in each declared bin of
   links, as one Gaussian vector over the public bins.
5. **Link aggregates**: :func:`~synthcase.measure.measure_marginals` on the
   link table (one row per link: the subject's values and the link's
   values), each subject keeping at most ``link_bound`` links.

Neighbouring relation: adding or removing one subject with all of its
rows. Step 1 changes by one, step 2 by at most one in every entry (L2
``sqrt(columns + 1)``), step 3 by one row, step 4 by one in one bin and
step 5 by at most ``link_bound`` rows of one unit; each mechanism's noise
is scaled for that. Every step is (approximate) zCDP, so the rhos and
deltas add (Bun & Steinke 2016, Lemma 8.3); the total rho is converted to
epsilon once, at ``delta_conversion``, with OpenDP's conversion (Canonne,
Kamath & Steinke 2020), and checked against the target before anything is
released.

Synthesis (:mod:`synthcase.synthesize.linked`) reads these protected
releases only, so the synthetic links carry the same guarantee.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase._version import __version__
from synthcase.errors import BudgetError, DataError, ParameterError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.budget import check_within, record_count_rho
from synthcase.measure.marginals import (
    MarginalsRelease,
    default_delta,
    measure_marginals,
)
from synthcase.measure.noise import (
    epsilon_from_rho,
    gaussian_count,
    gaussian_counts,
    rho_for_epsilon,
    scale_for_rho,
)
from synthcase.measure.settings import AccuracyMode, DPSettings
from synthcase.pipeline import Release, read_dict
from synthcase.prepare.linked import (
    LinkBins,
    LinkedLayout,
    LinkedSchema,
    LinkedTable,
    MultiValue,
    SubjectConsistency,
    check_consistency,
    decide_layout,
    declared_layout,
    link_table,
    links_column_name,
    load_linked,
    subject_table,
    unit_name,
)
from synthcase.prepare.options import ReadOptions
from synthcase.progress import Progress, no_progress
from synthcase.report.showcase import render_showcase
from synthcase.report.statement import dp_statement
from synthcase.synthesize.linked import (
    LinkedSynthesisSettings,
    NoiseProfile,
    ProtectedLinked,
    measured_columns,
    subject_records,
    synthesize_linked,
)

__all__ = [
    "LINK_AGGREGATES_FILE",
    "LinkedBudget",
    "LinkedMeasurement",
    "LinkedRelease",
    "LinkedSettings",
    "load_protected_linked",
    "measure_linked",
    "plan_linked_budget",
    "release_linked",
    "resynthesize_linked",
    "run_linked",
]

logger = logging.getLogger(__name__)

DP_LINKED_MODE = "dp-linked"
LINK_AGGREGATES_FILE = "link_aggregates.tsv"

# Leave a hair of rho unallocated: each part converts its epsilon back to
# rho by bisection and the mechanisms' maps round up, so the parts must sum
# to strictly less than the whole.
_MARGIN = 1e-9


@dataclass(frozen=True, kw_only=True)
class LinkedSettings:
    """How a linked file is split, measured and bounded.

    Attributes:
        subject_columns: Input columns declared subject-level; naming only
            one of the two lists declares the other columns of the other
            kind. ``None`` for both detects the levels privately.
        link_columns: Input columns declared link-level.
        multi_value: Columns whose cells hold several values.
        link_bins: Declared bins of the number of links per subject.
        link_bound: Most links one subject contributes to the link
            aggregates; extra links are dropped at random before measuring.
            ``DPSettings.link_bound``, when set, takes precedence.
        subject_share: Share (0, 1) of the measurement budget spent on the
            subject aggregates; the rest goes to the link aggregates.
        histogram_share: Share (0, 1) of the subjects' budget spent on the
            histogram of links per subject over the declared bins.
        level_share: Share [0, 1) of the measurement budget spent on
            detecting the column levels (only when they are not declared).
        level_tolerance: Largest share [0, 1) of the subjects with several
            rows that may vary in a column detected as subject-level.
        accuracy_mode: Split of the noise across lengths in both aggregates;
            ``None`` keeps ``DPSettings.accuracy_mode``. Balanced by default:
            linked synthesis draws mostly from pairs, which prioritising long
            combinations starves.
        links_in_link_table: Whether the link aggregates also count the
            subject's binned number of links, so a link's values may depend
            on how many links its subject has.
        unit: The privacy unit in words; ``None`` derives it from the
            subject id column ("victim_id" gives "victim").
    """

    subject_columns: tuple[str, ...] | None = None
    link_columns: tuple[str, ...] | None = None
    multi_value: tuple[MultiValue, ...] = ()
    link_bins: LinkBins = dataclasses.field(default_factory=LinkBins)
    link_bound: int = 1
    subject_share: float = 0.3
    histogram_share: float = 0.25
    level_share: float = 0.02
    level_tolerance: float = 0.05
    accuracy_mode: AccuracyMode | None = AccuracyMode.BALANCED
    links_in_link_table: bool = False
    unit: str | None = None

    def __post_init__(self) -> None:
        for name in ("subject_columns", "link_columns"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise ParameterError(
                    f"{name} is the single string {value!r}; give a tuple of "
                    f"column names, e.g. ({value!r},)"
                )
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "multi_value", tuple(self.multi_value))
        if self.accuracy_mode is not None:
            try:
                mode = AccuracyMode(self.accuracy_mode)
            except ValueError:
                mode = AccuracyMode.CUSTOM
            if mode is AccuracyMode.CUSTOM:
                raise ParameterError(
                    f"accuracy_mode is {self.accuracy_mode!r}; give balanced, "
                    "prioritize-long or prioritize-short, or None to use the "
                    "DP settings' mode (custom proportions go there)"
                )
            object.__setattr__(self, "accuracy_mode", mode)
        if isinstance(self.link_bound, bool) or not (
            isinstance(self.link_bound, int) and self.link_bound >= 1
        ):
            raise ParameterError(
                f"link_bound is {self.link_bound!r}; it must be a whole number "
                ">= 1, for example --link-bound 1"
            )
        checks = (
            ("subject_share", self.subject_share, 0.0, False),
            ("histogram_share", self.histogram_share, 0.0, False),
            ("level_share", self.level_share, 0.0, True),
            ("level_tolerance", self.level_tolerance, 0.0, True),
        )
        for name, value, low, closed in checks:
            inside = (low <= value if closed else low < value) and value < 1.0
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not inside
            ):
                bracket = "[0, 1)" if closed else "(0, 1)"
                raise ParameterError(
                    f"{name} is {value!r}; it must be in {bracket}, for example 0.4"
                )


@dataclass(frozen=True, kw_only=True)
class LinkedBudget:
    """How one ``(epsilon, delta)`` is split between the linked mechanisms.

    Attributes:
        epsilon: Target epsilon of the whole release.
        delta: Target delta of the whole release.
        delta_conversion: Part of delta used to convert the total rho.
        rho_total: zCDP budget matching ``(epsilon, delta_conversion)``.
        rho_count: rho of the preliminary subject count (0 when not run).
        rho_levels: rho of the level detection (0 when declared).
        rho_subjects: rho of the subject aggregates.
        rho_histogram: rho of the histogram of links per subject.
        rho_links: rho of the link aggregates.
        delta_subjects: Threshold delta of the subject aggregates.
        delta_links: Threshold delta of the link aggregates.
    """

    epsilon: float
    delta: float
    delta_conversion: float
    rho_total: float
    rho_count: float
    rho_levels: float
    rho_subjects: float
    rho_histogram: float
    rho_links: float
    delta_subjects: float
    delta_links: float

    def part(
        self,
        dp: DPSettings,
        rho: float,
        delta: float,
        *,
        reporting_length: int,
        link_bound: int | None,
        accuracy_mode: AccuracyMode | None = None,
    ) -> DPSettings:
        """Settings of one measurement spending ``rho`` and threshold ``delta``.

        Its epsilon is ``rho`` converted at :attr:`delta_conversion`, so
        ``measure_marginals`` plans (by bisection, from below) the same rho.
        Settings given per length are cut to ``reporting_length``; an
        ``accuracy_mode`` replaces the settings' own.
        """
        epsilon = epsilon_from_rho(rho, self.delta_conversion)
        total = delta + self.delta_conversion
        proportions = dp.sigma_proportions
        if accuracy_mode is not None:
            dp = dataclasses.replace(
                dp, accuracy_mode=accuracy_mode, sigma_proportions=None
            )
            proportions = None
        return dataclasses.replace(
            dp,
            epsilon=epsilon,
            delta=total,
            delta_threshold_share=delta / total,
            model_share=0.0,
            reporting_length=reporting_length,
            link_bound=link_bound,
            sigma_proportions=None
            if proportions is None
            else proportions[:reporting_length],
            thresholds={
                k: v for k, v in dp.thresholds.items() if k <= reporting_length
            },
        )

    def without_links(self) -> LinkedBudget:
        """The same budget with the link aggregates' share given to the subjects."""
        return dataclasses.replace(
            self,
            rho_subjects=self.rho_subjects + self.rho_links,
            rho_links=0.0,
            delta_subjects=self.delta_subjects + self.delta_links,
            delta_links=0.0,
        )


def plan_linked_budget(
    *,
    epsilon: float,
    delta: float,
    delta_threshold_share: float,
    rho_count: float,
    subject_share: float,
    histogram_share: float,
    level_share: float,
    links: bool = True,
) -> LinkedBudget:
    """Split ``(epsilon, delta)`` between the mechanisms of a linked release.

    Half of the threshold delta goes to each aggregates' 1-value threshold
    (all of it to the subjects when there are no link columns).

    Raises:
        BudgetError: When the subject count alone uses the whole budget.

    Example:
        >>> b = plan_linked_budget(epsilon=1.0, delta=1e-6,
        ...     delta_threshold_share=0.5, rho_count=5e-5, subject_share=0.4,
        ...     histogram_share=0.1, level_share=0.02)
        >>> parts = (b.rho_count + b.rho_levels + b.rho_subjects + b.rho_histogram
        ...          + b.rho_links)
        >>> 0 < b.rho_total - parts < 1e-8 * b.rho_total
        True
    """
    delta_threshold = delta * delta_threshold_share
    delta_conversion = delta - delta_threshold
    rho_total = rho_for_epsilon(epsilon, delta_conversion)
    rest = (rho_total - rho_count) * (1.0 - _MARGIN)
    if rest <= 0:
        raise BudgetError(
            f"the subject count alone needs rho {rho_count:.3g}, the whole budget "
            f"is rho {rho_total:.3g} (epsilon {epsilon}); lower "
            "record_count_share or raise epsilon"
        )
    rho_levels = rest * level_share
    rest -= rho_levels
    share = subject_share if links else 1.0
    rho_subjects = rest * share
    rho_histogram = rho_subjects * histogram_share
    budget = LinkedBudget(
        epsilon=epsilon,
        delta=delta,
        delta_conversion=delta_conversion,
        rho_total=rho_total,
        rho_count=rho_count,
        rho_levels=rho_levels,
        rho_subjects=rho_subjects - rho_histogram,
        rho_histogram=rho_histogram,
        rho_links=rest - rho_subjects,
        delta_subjects=delta_threshold / 2 if links else delta_threshold,
        delta_links=delta_threshold / 2 if links else 0.0,
    )
    logger.info(
        "linked budget: epsilon %.4g, delta %.3g, rho %.6g; subject count rho "
        "%.3g; levels rho %.3g; subject aggregates rho %.6g; links histogram "
        "rho %.3g; link aggregates rho %.6g",
        epsilon,
        delta,
        rho_total,
        rho_count,
        rho_levels,
        budget.rho_subjects,
        rho_histogram,
        budget.rho_links,
    )
    return budget


@dataclass(frozen=True)
class LinkedMeasurement:
    """The protected aggregates of a linked file with their accounting.

    Everything here is releasable.

    Attributes:
        schema: The public layout (released presence columns only).
        layout: Which columns are subject-level and which link-level.
        subjects: The subject aggregates' measurement.
        links: The link aggregates' measurement, or ``None`` without link
            columns.
        subject_aggregates: Subject aggregates without unreleased presence
            columns.
        link_aggregates: Link aggregates without unreleased presence
            columns, or ``None``.
        links_histogram: Protected number of subjects per declared bin of
            links.
        subject_count: The number of subjects estimated from every protected
            count of them (post-processing; see :func:`_combined`).
        budget: The split of the budget.
        spends: ``(mechanism, rho, delta)`` of every mechanism run.
        unit: The privacy unit in words.
        levels: How the layout was decided (noise scale, tolerance), or
            ``None`` when declared.
        dp: The settings of the whole release.
        settings: The linked settings.
    """

    schema: LinkedSchema
    layout: LinkedLayout
    subjects: MarginalsRelease
    links: MarginalsRelease | None
    subject_aggregates: Aggregates
    link_aggregates: Aggregates | None
    links_histogram: tuple[int, ...]
    subject_count: int
    budget: LinkedBudget
    spends: tuple[tuple[str, float, float], ...]
    unit: str
    levels: dict[str, float] | None
    dp: DPSettings
    settings: LinkedSettings

    @property
    def rho(self) -> float:
        """Total rho spent."""
        return math.fsum(rho for _, rho, _ in self.spends)

    @property
    def delta(self) -> float:
        """Total delta: the mechanisms' deltas plus the conversion's."""
        return math.fsum(d for _, _, d in self.spends) + self.budget.delta_conversion

    @property
    def epsilon(self) -> float:
        """Epsilon of everything spent, at the conversion delta."""
        return float(epsilon_from_rho(self.rho, self.budget.delta_conversion))

    @property
    def link_bound(self) -> int | None:
        """Most links one subject contributed to the link aggregates."""
        return None if self.links is None else self.links.link_bound

    def estimated_links(self) -> int:
        """Expected number of links, from the protected subjects per bin.

        Post-processing: each bin's protected count (negative ones as zero)
        times the mean number of links synthesized in it.
        """
        ranges = self.schema.link_bins.ranges()
        total = math.fsum(
            max(count, 0) * (low + high) / 2
            for count, (low, high) in zip(self.links_histogram, ranges, strict=True)
        )
        return round(total)

    def protected(self) -> ProtectedLinked:
        """What synthesis reads: the aggregates, histogram and noise scales."""
        return ProtectedLinked(
            schema=self.schema,
            subjects=self.subject_aggregates,
            links=self.link_aggregates,
            links_histogram=self.links_histogram,
            subject_count=self.subject_count,
            subject_noise=_noise_profile(self.subjects),
            link_noise=NoiseProfile()
            if self.links is None
            else _noise_profile(self.links),
        )

    def privacy(self) -> dict[str, Any]:
        """The composed accounting as plain data for ``release.json``."""
        budget = self.budget
        return {
            "definition": "(epsilon, delta)-differential privacy",
            "neighbouring": f"add or remove one {self.unit} with all of their links",
            "unit": self.unit,
            "scale": "zCDP, converted to (epsilon, delta)",
            "conversion": "OpenDP make_zCDP_to_approxDP "
            "(Canonne, Kamath & Steinke 2020)",
            "composition": "rhos and deltas of all mechanisms add "
            "(Bun & Steinke 2016, Lemma 8.3)",
            "epsilon_target": budget.epsilon,
            "delta_target": budget.delta,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "rho": self.rho,
            "rho_budget": budget.rho_total,
            "delta_conversion": budget.delta_conversion,
            "spends": [
                {"mechanism": label, "rho": rho, "delta": delta}
                for label, rho, delta in self.spends
            ],
            "link_bound": self.link_bound,
            "link_bins": list(self.schema.link_bins.labels()),
            "link_bin_edges": list(self.schema.link_bins.edges),
            "protected_links_per_subject": dict(
                zip(self.schema.link_bins.labels(), self.links_histogram, strict=True)
            ),
            "levels": "declared" if self.levels is None else self.levels,
            "protected_subject_count": self.subject_aggregates.record_count,
            "estimated_subject_count": self.subject_count,
            "protected_link_count": None
            if self.link_aggregates is None
            else self.link_aggregates.record_count,
            "estimated_link_count": self.estimated_links(),
            "subject_aggregates": self.subjects.privacy(),
            "link_aggregates": None if self.links is None else self.links.privacy(),
        }


def measure_linked(
    linked: LinkedTable,
    dp: DPSettings,
    settings: LinkedSettings | None = None,
    *,
    progress: Progress = no_progress,
) -> LinkedMeasurement:
    """Measure a linked file with the subject as the privacy unit.

    Args:
        linked: The sensitive rows (:func:`~synthcase.prepare.linked.load_linked`).
        dp: Total budget and marginals settings; its reporting length,
            percentile and modes apply to both aggregates.
        settings: Layout, bins, link bound and budget split.
        progress: Called with the stage and the fraction done.

    Returns:
        Both protected aggregates and the composed accounting, guaranteed
        ``(epsilon, delta)``-DP under adding or removing one subject with all
        of their rows.

    Raises:
        DataError: When a declared subject-level column varies within a
            subject.
        ParameterError: When the settings do not fit the data's columns.
        BudgetError: When the budget cannot cover the mechanisms.
    """
    settings = settings or LinkedSettings()
    consistency = check_consistency(linked)
    declared = declared_layout(
        linked.attributes, settings.subject_columns, settings.link_columns
    )
    if declared is not None:
        consistency.require_consistent(declared.subject_columns)
    spends: list[tuple[str, float, float]] = []

    # Subject count first: the default delta and the level rule need it.
    rho_count = 0.0
    protected_subjects: int | None = None
    estimates: list[tuple[float, float]] = []
    if dp.delta is None or declared is None:
        conversion = (
            None if dp.delta is None else dp.delta * (1 - dp.delta_threshold_share)
        )
        rho_count = record_count_rho(dp.epsilon, dp.record_count_share, conversion)
        protected_subjects, scale, spent = gaussian_count(
            consistency.subjects, rho_count
        )
        spends.append(("subject count", spent, 0.0))
        estimates.append((protected_subjects, scale))
        logger.info("subject count protected with Gaussian noise, scale %.4g", scale)
    delta = dp.delta if dp.delta is not None else default_delta(protected_subjects or 0)
    has_links = declared is None or bool(declared.link_columns)
    budget = plan_linked_budget(
        epsilon=dp.epsilon,
        delta=delta,
        delta_threshold_share=dp.delta_threshold_share,
        rho_count=rho_count,
        subject_share=settings.subject_share,
        histogram_share=settings.histogram_share,
        level_share=settings.level_share if declared is None else 0.0,
        links=has_links,
    )
    levels: dict[str, float] | None = None
    if declared is None:
        layout, levels, spent = _detect_layout(
            consistency, budget.rho_levels, settings.level_tolerance
        )
        spends.append(("column levels", spent, 0.0))
    else:
        layout = declared
    if not layout.link_columns:
        budget = budget.without_links()
    logger.info(
        "subject-level columns: %s; link-level columns: %s",
        ", ".join(layout.subject_columns) or "none",
        ", ".join(layout.link_columns) or "none",
    )

    links_column = links_column_name(linked.input_columns)
    bins = settings.link_bins
    table = subject_table(linked, layout, bins, links_column)
    part = budget.part(
        dp,
        budget.rho_subjects,
        budget.delta_subjects,
        reporting_length=min(dp.reporting_length, table.n_columns),
        link_bound=None,
        accuracy_mode=settings.accuracy_mode,
    )
    subjects = measure_marginals(table, part, progress=_stage(progress, "subjects"))
    spends += [
        (f"subjects: {s.label}", s.rho, s.delta) for s in subjects.accountant.spends
    ]
    histogram, scale, spent = _links_histogram(linked, bins, budget.rho_histogram)
    spends.append(("links per subject", spent, 0.0))
    estimates.append((sum(histogram), scale * math.sqrt(len(histogram))))
    profile = _noise_profile(subjects)
    estimates.append((subjects.aggregates.record_count, profile.record_scale))

    links: MarginalsRelease | None = None
    if layout.link_columns and budget.rho_links > 0:
        rows = link_table(
            linked, layout, bins, links_column if settings.links_in_link_table else None
        )
        part = budget.part(
            dp,
            budget.rho_links,
            budget.delta_links,
            reporting_length=min(dp.reporting_length, rows.n_columns),
            link_bound=dp.link_bound or settings.link_bound,
            accuracy_mode=settings.accuracy_mode,
        )
        links = measure_marginals(rows, part, progress=_stage(progress, "links"))
        spends += [
            (f"links: {s.label}", s.rho, s.delta) for s in links.accountant.spends
        ]

    # Unreleased presence columns go: their names hold unreleased values.
    subject_aggregates = _without_unreleased(subjects.aggregates, linked)
    link_aggregates = (
        None if links is None else _without_unreleased(links.aggregates, linked)
    )
    measurement = LinkedMeasurement(
        schema=_schema(
            linked, layout, bins, links_column, (subject_aggregates, link_aggregates)
        ),
        layout=layout,
        subjects=subjects,
        links=links,
        subject_aggregates=subject_aggregates,
        link_aggregates=link_aggregates,
        links_histogram=histogram,
        subject_count=_combined(estimates),
        budget=budget,
        spends=tuple(spends),
        unit=settings.unit or unit_name(linked.subject_id),
        levels=levels,
        dp=dp,
        settings=settings,
    )
    _check(measurement)
    logger.info(
        "linked release: epsilon %.6g, delta %.3g, rho %.6g",
        measurement.epsilon,
        measurement.delta,
        measurement.rho,
    )
    return measurement


def _detect_layout(
    consistency: SubjectConsistency, rho: float, tolerance: float
) -> tuple[LinkedLayout, dict[str, float], float]:
    """Decide the column levels from one Gaussian vector of subject counts.

    The vector holds the number of subjects with several rows and, per
    column, the number of subjects whose rows differ. One subject changes
    each entry by at most one, so its L2 sensitivity is ``sqrt(entries)``.
    """
    exact = np.array(
        [consistency.multi_row_subjects, *consistency.varying], dtype=np.int64
    )
    noisy, scale, spent = _gaussian_vector(exact, math.sqrt(exact.size), rho)
    layout = decide_layout(
        consistency.columns,
        [float(v) for v in noisy[1:]],
        float(noisy[0]),
        tolerance,
        scale,
    )
    logger.info(
        "column levels detected with Gaussian noise, scale %.4g, tolerance %.3g",
        scale,
        tolerance,
    )
    return layout, {"noise_scale": scale, "tolerance": tolerance}, spent


def _links_histogram(
    linked: LinkedTable, bins: LinkBins, rho: float
) -> tuple[tuple[int, ...], float, float]:
    """Protected number of subjects in each declared bin of links.

    The bins are public, so every bin is noised and none is hidden. A
    subject sits in exactly one bin: L2 sensitivity 1.
    """
    ids = linked.table.subject_ids
    assert ids is not None
    rows = np.bincount(ids)
    exact = np.bincount(bins.bin_of(rows), minlength=len(bins.labels()))
    noisy, scale, spent = _gaussian_vector(exact.astype(np.int64), 1.0, rho)
    logger.info("links per subject protected with Gaussian noise, scale %.4g", scale)
    return tuple(int(v) for v in noisy), scale, spent


def _combined(estimates: list[tuple[float, float]]) -> int:
    """Inverse-variance mean of ``(protected value, noise scale)`` pairs.

    Post-processing of protected counts of the same number (the subjects):
    the mean is more accurate than any one of them. A scale of 0 (noise
    switched off, or unknown) gives that value alone.
    """
    exact = [value for value, scale in estimates if scale <= 0]
    if exact:
        return max(0, round(exact[-1]))
    weights = [1.0 / scale**2 for _, scale in estimates]
    mean = math.fsum(w * v for w, (v, _) in zip(weights, estimates, strict=True))
    return max(0, round(mean / math.fsum(weights)))


def _gaussian_vector(
    exact: npt.NDArray[np.int64], l2: float, rho: float
) -> tuple[npt.NDArray[np.int64], float, float]:
    """Discrete Gaussian noise on a vector over a public domain, within ``rho``."""
    scale = scale_for_rho(l2, rho)
    empty = np.zeros(0, dtype=np.int64)
    _, spent = gaussian_counts(empty, l2, scale)
    while spent > rho:
        # OpenDP rounded the loss above the allocation: add a hair of noise.
        scale = math.nextafter(scale * (1.0 + 1e-15), math.inf)
        _, spent = gaussian_counts(empty, l2, scale)
    noisy, spent = gaussian_counts(exact, l2, scale)
    return noisy, scale, spent


def _schema(
    linked: LinkedTable,
    layout: LinkedLayout,
    bins: LinkBins,
    links_column: str,
    released: tuple[Aggregates, Aggregates | None],
) -> LinkedSchema:
    """The public layout; presence columns only where their value was released.

    A subject-level presence column is kept when the subject aggregates
    released it, a link-level one when the link aggregates did.
    """
    presence = []
    for aggregates, level in zip(
        released, (layout.subject_columns, layout.link_columns), strict=True
    ):
        for column in () if aggregates is None else aggregates.columns:
            if column in linked.presence and linked.presence[column][0] in level:
                presence.append((column, *linked.presence[column]))
    return LinkedSchema(
        subject_id=linked.subject_id,
        input_columns=linked.input_columns,
        subject_columns=layout.subject_columns,
        link_columns=layout.link_columns,
        delimiters=tuple((m.column, m.delimiter) for m in linked.multi_value),
        presence=tuple(presence),
        link_bins=bins,
        links_column=links_column,
    )


def _without_unreleased(aggregates: Aggregates, linked: LinkedTable) -> Aggregates:
    """Drop every presence column none of whose values was released.

    Their names hold data values that no protected mechanism released. A
    column without released values owns no value id, so dropping it leaves
    the numbering and the key order of every combination unchanged.
    """
    multi = {m.column for m in linked.multi_value}
    keep = [
        j
        for j, column in enumerate(aggregates.columns)
        if aggregates.categories[j] or not _is_presence(column, linked, multi)
    ]
    return Aggregates(
        tuple(aggregates.columns[j] for j in keep),
        tuple(aggregates.categories[j] for j in keep),
        aggregates.combinations,
        aggregates.counts,
        aggregates.record_count,
    )


def _is_presence(column: str, linked: LinkedTable, multi: set[str]) -> bool:
    if column not in linked.table.columns:
        return False
    return linked.origin[linked.table.columns.index(column)] in multi


def _check(measurement: LinkedMeasurement) -> None:
    """Fail closed when the composed spends exceed the target."""
    budget = measurement.budget
    check_within(
        rho=measurement.rho,
        delta=measurement.delta,
        epsilon=measurement.epsilon,
        rho_budget=budget.rho_total,
        delta_budget=budget.delta,
        epsilon_budget=budget.epsilon,
    )


def _noise_profile(measured: MarginalsRelease) -> NoiseProfile:
    """The public noise facts of one measurement, read from its report."""
    # The record count is the link count in a linked table (sensitivity: the
    # link bound), else the unit count (sensitivity 1); see measure_marginals.
    label, sensitivity = "record count", 1.0
    if measured.link_bound is not None:
        label, sensitivity = "link count", float(measured.link_bound)
    rho = sum(s.rho for s in measured.accountant.spends if s.label == label)
    return NoiseProfile(
        scales=tuple(r.noise_scale for r in measured.lengths),
        thresholds=tuple(r.threshold for r in measured.lengths),
        record_scale=scale_for_rho(sensitivity, rho) if rho > 0 else 0.0,
    )


def _stage(progress: Progress, part: str) -> Progress:
    def update(stage: str, fraction: float) -> None:
        progress(f"{part}: {stage}", fraction)

    return update


@dataclass(frozen=True)
class LinkedRelease(Release):
    """A release of a linked file: :class:`~synthcase.pipeline.Release` plus links.

    ``aggregates`` are the subject aggregates (``aggregates.tsv``);
    ``link_aggregates`` go to ``link_aggregates.tsv``; ``synthetic`` holds
    one row per synthetic link in the input's layout, described by
    ``schema``. The showcase shows the synthetic subjects with the subject
    aggregates.
    """

    link_aggregates: Aggregates | None = None
    schema: LinkedSchema | None = None

    def save(
        self,
        folder: str | os.PathLike[str],
        *,
        force: bool = False,
        extra: Mapping[str, str] | None = None,
    ) -> Path:
        """Write the release folder atomically, link aggregates included."""
        files = dict(extra or {})
        if self.link_aggregates is not None:
            files[LINK_AGGREGATES_FILE] = _tsv_text(self.link_aggregates)
        if self.synthetic is not None and "showcase.html" not in files:
            files["showcase.html"] = self._showcase()
        return super().save(folder, force=force, extra=files)

    def _showcase(self) -> str:
        """The showcase page of the subjects: their aggregates and records."""
        assert self.synthetic is not None
        assert self.schema is not None
        subjects = subject_records(self.synthetic, self.schema, self.aggregates.columns)
        return render_showcase(
            subjects,
            _tsv_text(self.aggregates),
            self.metadata,
            self.statement,
        )


def _tsv_text(aggregates: Aggregates) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "aggregates.tsv"
        aggregates.write_tsv(path)
        return path.read_text(encoding="utf-8")


def release_linked(
    measurement: LinkedMeasurement,
    synthesis: LinkedSynthesisSettings | None = None,
    read: ReadOptions | None = None,
    *,
    progress: Progress = no_progress,
    synthesize: bool = True,
) -> LinkedRelease:
    """Assemble the releasable bundle, synthesizing linked records unless told not to.

    Post-processing only: nothing here reads the sensitive data.
    """
    synthesis = synthesis or LinkedSynthesisSettings()
    synthetic = None
    if synthesize:
        synthetic = synthesize_linked(
            measurement.protected(), synthesis, progress=progress
        )
    metadata = linked_metadata(measurement, synthesis, read, synthetic)
    return LinkedRelease(
        DP_LINKED_MODE,
        measurement.subject_aggregates,
        synthetic,
        metadata,
        linked_statement(measurement, metadata),
        link_aggregates=measurement.link_aggregates,
        schema=measurement.schema,
    )


def run_linked(
    source: str | os.PathLike[str] | pd.DataFrame,
    read: ReadOptions,
    dp: DPSettings,
    settings: LinkedSettings | None = None,
    synthesis: LinkedSynthesisSettings | None = None,
    *,
    progress: Progress = no_progress,
    synthesize: bool = True,
) -> LinkedRelease:
    """Read, measure and release a linked file in one call.

    ``read.subject_id`` names the subject id column (``--subject-id``).
    The whole budget is spent once, in :func:`measure_linked`.
    """
    settings = settings or LinkedSettings()
    linked = load_linked(source, read, settings.multi_value)
    measurement = measure_linked(linked, dp, settings, progress=progress)
    return release_linked(
        measurement, synthesis, read, progress=progress, synthesize=synthesize
    )


def load_protected_linked(
    folder: str | os.PathLike[str],
    metadata: Mapping[str, Any],
    schema: LinkedSchema,
) -> ProtectedLinked:
    """Read back what linked synthesis needs from a linked release folder.

    Reads ``aggregates.tsv``, ``link_aggregates.tsv`` and the protected
    figures of ``release.json`` (its ``metadata``): the protected links per
    subject, the estimated subject count (an inverse-variance mean of
    protected counts) and each aggregates' public noise scales and
    thresholds. Post-processing only: everything read was released under
    the release's guarantee; no sensitive data is read and no noise is
    drawn.

    Args:
        folder: The release folder.
        metadata: Its ``release.json``.
        schema: The public layout, rebuilt from ``release.json``.

    Raises:
        DataError: When a file is missing or does not match ``release.json``.
    """
    folder = Path(folder)
    privacy = _mapping(metadata.get("privacy"), "privacy")
    subjects = _read_part(
        folder / "aggregates.tsv",
        list(metadata.get("columns") or ()),
        metadata.get("reporting_length"),
        metadata.get("protected_record_count"),
        _released_of(metadata, "subjects"),
    )
    links: Aggregates | None = None
    link_part = privacy.get("link_aggregates")
    path = folder / LINK_AGGREGATES_FILE
    if link_part is None:
        if path.exists():
            raise DataError(
                f"{str(path)!r} is present, but release.json records no link "
                "aggregates; the folder mixes files of two releases: restore "
                "the folder as synthcase run wrote it"
            )
    else:
        link_part = _mapping(link_part, "privacy.link_aggregates")
        if not path.is_file():
            raise DataError(
                f"{str(path)!r} is missing; release.json records link aggregates, "
                "and the synthetic links are drawn from them: restore the file "
                "from the release folder synthcase run wrote"
            )
        links = _read_part(
            path,
            _link_columns(path, metadata, schema),
            len(link_part.get("lengths") or ()) or None,
            privacy.get("protected_link_count"),
            _released_of(metadata, "links"),
        )
    labels = schema.link_bins.labels()
    histogram = privacy.get("protected_links_per_subject")
    if not isinstance(histogram, Mapping) or list(histogram) != list(labels):
        raise DataError(
            "release.json's privacy.protected_links_per_subject does not list "
            f"the link bins {list(labels)}; restore release.json from the "
            "release folder synthcase run wrote"
        )
    return ProtectedLinked(
        schema=schema,
        subjects=subjects,
        links=links,
        links_histogram=tuple(int(histogram[label]) for label in labels),
        subject_count=int(privacy.get("estimated_subject_count") or 0),
        subject_noise=_profile_from_privacy(
            privacy.get("subject_aggregates"), "privacy.subject_aggregates"
        ),
        link_noise=NoiseProfile()
        if link_part is None
        else _profile_from_privacy(link_part, "privacy.link_aggregates"),
    )


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DataError(
            f"release.json has no {name} table; pass a linked release folder "
            "written by synthcase run"
        )
    return value


def _released_of(metadata: Mapping[str, Any], part: str) -> Mapping[str, Any] | None:
    released = metadata.get("released_combinations")
    found = released.get(part) if isinstance(released, Mapping) else None
    return found if isinstance(found, Mapping) else None


def _read_part(
    path: Path,
    columns: list[str],
    reporting_length: Any,
    record_count: Any,
    released: Mapping[str, Any] | None,
) -> Aggregates:
    """One aggregates file, checked against the figures ``release.json`` holds."""
    fix = (
        "restore it from the release folder synthcase run wrote with this release.json"
    )
    try:
        aggregates = Aggregates.read_tsv(
            path,
            columns=columns or None,
            reporting_length=None
            if reporting_length is None
            else int(reporting_length),
        )
    except DataError as err:
        raise DataError(f"{err}; {fix}") from None
    counts = {str(k): int(c.size) for k, c in enumerate(aggregates.counts, start=1)}
    if record_count is not None and aggregates.record_count != int(record_count):
        raise DataError(
            f"{str(path)!r} holds the protected count {aggregates.record_count}, "
            f"release.json says {record_count}; {fix}"
        )
    if released is not None and counts != {str(k): int(v) for k, v in released.items()}:
        raise DataError(
            f"{str(path)!r} holds {counts} combinations by length, release.json "
            f"says {dict(released)}; {fix}"
        )
    return aggregates


def _link_columns(
    path: Path, metadata: Mapping[str, Any], schema: LinkedSchema
) -> list[str]:
    """The columns of the link aggregates in the order they were measured.

    The subject's columns come first (the number of links only when the
    link aggregates counted it), then the link columns. A presence column
    is kept only when the file holds it: the release dropped those whose
    values it did not release.
    """
    linked = (metadata.get("parameters") or {}).get("linked") or {}
    counted = bool(linked.get("links_in_link_table"))
    subject = [
        c for c in metadata.get("columns") or () if c != schema.links_column or counted
    ]
    link = measured_columns(schema, schema.link_columns)
    try:
        found = Aggregates.read_tsv(path).columns
    except DataError as err:
        raise DataError(
            f"{err}; restore {LINK_AGGREGATES_FILE} from the release folder "
            "synthcase run wrote"
        ) from None
    multi = {column for column, _ in schema.delimiters}
    presence = {p for p, _, _ in schema.presence}

    def is_presence(name: str) -> bool:
        return name in presence or any(name.startswith(f"{c}[") for c in multi)

    expected = set(subject) | set(link)
    for name in found:
        if name not in expected and not is_presence(name):
            raise DataError(
                f"{str(path)!r} counts the column {name!r}, which release.json "
                "does not list; restore the file from the release folder "
                "synthcase run wrote with this release.json"
            )
    extra = [c for c in found if c not in expected]
    return [c for c in [*subject, *extra, *link] if not is_presence(c) or c in found]


def _profile_from_privacy(part: Any, name: str) -> NoiseProfile:
    """The public noise facts of one aggregates, from its ``release.json`` table.

    Mirrors :func:`_noise_profile`: the same noise scales, thresholds and
    record count spend, read from the released accounting.
    """
    part = _mapping(part, name)
    bound = part.get("link_bound")
    label, sensitivity = "record count", 1.0
    if bound is not None:
        label, sensitivity = "link count", float(bound)
    try:
        rho = sum(float(s["rho"]) for s in part["spends"] if s["mechanism"] == label)
        lengths = list(part["lengths"])
        scales = tuple(float(r["noise_scale"]) for r in lengths)
        thresholds = tuple(float(r["threshold"]) for r in lengths)
    except (KeyError, TypeError, ValueError) as error:
        raise DataError(
            f"release.json's {name} lacks {error}; restore release.json from "
            "the release folder synthcase run wrote"
        ) from None
    return NoiseProfile(
        scales=scales,
        thresholds=thresholds,
        record_scale=scale_for_rho(sensitivity, rho) if rho > 0 else 0.0,
    )


def resynthesize_linked(
    protected: ProtectedLinked,
    metadata: Mapping[str, Any],
    synthesis: LinkedSynthesisSettings | None = None,
    *,
    progress: Progress = no_progress,
) -> LinkedRelease:
    """A new linked release drawn from an earlier release's protected counts.

    Post-processing only: ``protected`` (:func:`load_protected_linked`) holds
    released counts and public noise facts, nothing here reads the
    sensitive data or draws privacy noise, so the new synthetic links carry
    the earlier release's ``(epsilon, delta)`` guarantee and its
    accounting is copied unchanged: no new budget is spent.

    Args:
        protected: What the earlier release published.
        metadata: The earlier release's ``release.json``.
        synthesis: Number of subjects and seed of the new draw.
        progress: Called with the stage and the fraction done.
    """
    synthesis = synthesis or LinkedSynthesisSettings()
    schema = protected.schema
    synthetic = synthesize_linked(protected, synthesis, progress=progress)
    subjects = int(synthetic[schema.subject_id].nunique())
    meta = dict(metadata)
    meta["resynthesis"] = {
        "release_created": metadata.get("created"),
        "release_tool": metadata.get("tool"),
        "note": "drawn again from this release's protected counts; "
        "post-processing, no new privacy loss",
    }
    meta["tool"] = {"name": "synthcase", "version": __version__}
    meta["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    meta["synthetic_records"] = len(synthetic)
    meta["synthetic_subjects"] = subjects
    parameters = dict(meta.get("parameters") or {})
    parameters["synthesis"] = _plain(dataclasses.replace(synthesis, subjects=subjects))
    meta["parameters"] = parameters
    privacy = meta["privacy"]
    linked = parameters.get("linked") or {}
    levels = privacy.get("levels")
    statement = _statement(
        str(privacy.get("unit") or linked.get("unit") or "subject"),
        schema,
        declared=levels == "declared" or levels is None,
        bound=privacy.get("link_bound"),
        metadata=meta,
    )
    return LinkedRelease(
        DP_LINKED_MODE,
        protected.subjects,
        synthetic,
        meta,
        statement,
        link_aggregates=protected.links,
        schema=schema,
    )


def linked_metadata(
    measurement: LinkedMeasurement,
    synthesis: LinkedSynthesisSettings,
    read: ReadOptions | None,
    synthetic: pd.DataFrame | None,
) -> dict[str, Any]:
    """The content of ``release.json`` (releasable figures only)."""
    schema = measurement.schema
    settings = measurement.subjects.settings
    subjects = 0 if synthetic is None else int(synthetic[schema.subject_id].nunique())
    return {
        "tool": {"name": "synthcase", "version": __version__},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": DP_LINKED_MODE,
        "columns": list(measurement.subject_aggregates.columns),
        "input_columns": list(schema.input_columns),
        "subject_id": schema.subject_id,
        "subject_columns": list(schema.subject_columns),
        "link_columns": list(schema.link_columns),
        "multi_value": [
            {
                "column": column,
                "delimiter": delimiter,
                "released_values": [v for _, v in schema.presence_of(column)],
            }
            for column, delimiter in schema.delimiters
        ],
        "reporting_length": settings.reporting_length,
        "protected_record_count": measurement.subject_aggregates.record_count,
        "synthetic_records": 0 if synthetic is None else len(synthetic),
        "synthetic_subjects": subjects,
        "privacy": measurement.privacy(),
        "parameters": {
            "dp": _plain(measurement.dp),
            "linked": _plain(measurement.settings),
            "synthesis": _plain(synthesis),
            "budget": _plain(measurement.budget),
        },
        "input": read_dict(read),
        "released_combinations": {
            "subjects": _released(measurement.subject_aggregates),
            "links": None
            if measurement.link_aggregates is None
            else _released(measurement.link_aggregates),
        },
        "files": {
            "aggregates.tsv": f"counts of {measurement.unit}s",
            LINK_AGGREGATES_FILE: "counts of links",
        },
    }


def linked_statement(
    measurement: LinkedMeasurement, metadata: Mapping[str, Any]
) -> str:
    """``PRIVACY.md`` of a linked release."""
    return _statement(
        measurement.unit,
        measurement.schema,
        declared=measurement.levels is None,
        bound=measurement.link_bound,
        metadata=metadata,
    )


def _statement(
    unit: str,
    schema: LinkedSchema,
    *,
    declared: bool,
    bound: int | None,
    metadata: Mapping[str, Any],
) -> str:
    privacy = metadata["privacy"]
    base = dp_statement(
        epsilon=privacy["epsilon"],
        delta=privacy["delta"],
        rho=privacy["rho"],
        reporting_length=int(metadata["reporting_length"]),
        unit=unit,
        columns=list(metadata["columns"]),
        record_count=int(metadata["protected_record_count"]),
        synthetic_records=int(metadata["synthetic_records"]),
        parameters=metadata.get("input", {}),
    )
    levels = (
        "were declared by the data steward"
        if declared
        else "were decided from noisy counts of the "
        f"{unit}s whose rows differ, a step included in the accounting above"
    )
    links = (
        f"- `{LINK_AGGREGATES_FILE}`: counts of links, each {unit} contributing "
        f"at most {bound} link(s) chosen at random, over the {unit}'s columns, "
        f"the number of links and the link columns "
        f"{', '.join(f'`{c}`' for c in schema.link_columns)}.\n"
        if bound is not None
        else ""
    )
    return base + (
        f"""
## Linked records

Each {unit} may have several rows (links). The privacy unit is the {unit}
with all of their links, not the row: every count was protected against
adding or removing one {unit} and every row they have.

- `aggregates.tsv`: counts of {unit}s, one per {unit}, over the {unit}-level
  columns {", ".join(f"`{c}`" for c in schema.subject_columns) or "(none)"} and
  `{schema.links_column}`, the number of links in declared intervals
  ({", ".join(schema.link_bins.labels())}).
{links}- `synthetic.csv`: {metadata["synthetic_subjects"]:,} synthetic {unit}s with
  {metadata["synthetic_records"]:,} links, one row per link. Their ids in
  `{schema.subject_id}` are new running numbers and say nothing about any
  real {unit}. Inside an interval of links the number of links is drawn
  evenly; the links of one {unit} are drawn independently given the {unit}'s
  values.

Which columns describe the {unit} and which the link {levels}.
{_resynthesis_note(metadata)}"""
    )


def _resynthesis_note(metadata: Mapping[str, Any]) -> str:
    """A paragraph saying the records were drawn again from a release's counts."""
    origin = metadata.get("resynthesis")
    if not isinstance(origin, Mapping):
        return ""
    return f"""
These synthetic records were drawn again from the protected counts of the
release created {origin.get("release_created", "earlier")}, without reading
the sensitive data and without new noise: post-processing, so the privacy
accounting above is that release's, unchanged, and no new budget was spent.
"""


def _released(aggregates: Aggregates) -> dict[str, int]:
    return {str(k): int(c.size) for k, c in enumerate(aggregates.counts, start=1)}


def _plain(value: Any) -> Any:
    """Settings as JSON data; declared multi-value values are left out."""
    if isinstance(value, MultiValue):
        return {"column": value.column, "delimiter": value.delimiter}
    if isinstance(value, LinkBins):
        return list(value.labels())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
