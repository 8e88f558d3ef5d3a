"""Settings of the differentially private marginals mechanism.

Settings are frozen, keyword-only and validated when built. Shorthands (a mode
given as a string, thresholds as ``"2:0.1,3:0.5"``) are parsed at the edges
(command line, config file, web form) by :func:`parse_thresholds` and friends
and converted here once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from synthcase.errors import ParameterError

__all__ = [
    "AccuracyMode",
    "DPSettings",
    "FabricationMode",
    "parse_sigma_proportions",
    "parse_thresholds",
]


class AccuracyMode(StrEnum):
    """How the noise is split across combination lengths.

    The split is given as *sigma proportions* ``p_k``: the noise standard
    deviation of length ``k`` is proportional to ``p_k``.
    """

    PRIORITIZE_LONG = "prioritize-long"
    """``p_k = 1/k``: less noise on long combinations."""
    PRIORITIZE_SHORT = "prioritize-short"
    """``p_k = 1/(R - k + 1)``: less noise on short combinations."""
    BALANCED = "balanced"
    """``p_k = 1``: the same noise at every length."""
    CUSTOM = "custom"
    """Proportions given by the user."""


class FabricationMode(StrEnum):
    """How thresholds of lengths ``2..R`` limit fabricated combinations.

    A *fabricated* combination is released although no record holds it: its
    count was zero and its noise crossed the threshold. Thresholds of lengths
    2 and above are post-processing of protected candidates; they trade
    fabrication against suppression and never change the privacy guarantee.
    Adaptive thresholds are given as ``eta_k`` in ``(0, 1]``: the chance that a
    zero-count candidate crosses the threshold is ``eta_k / 2``.
    """

    UNCONTROLLED = "uncontrolled"
    """``eta_k = 1`` (threshold 0): the most fabrication, the least suppression."""
    PROGRESSIVE = "progressive"
    """``eta_k`` rises linearly from 0.1 at length 2 to 1 at length ``R``."""
    BALANCED = "balanced"
    """``eta_2 = 0.55``, ``eta_k = 1`` beyond."""
    MINIMIZE = "minimize"
    """``eta_k = 0.01``: the least fabrication, the most suppression."""
    CUSTOM_FIXED = "custom-fixed"
    """Thresholds on the noisy count given per length by the user."""
    CUSTOM_ADAPTIVE = "custom-adaptive"
    """``eta_k`` given per length by the user."""


@dataclass(frozen=True, kw_only=True)
class DPSettings:
    """Settings of a differentially private aggregate release.

    Attributes:
        epsilon: Total privacy loss epsilon of the release, > 0.
        delta: Total delta in (0, 1); ``None`` derives it from the protected
            record count ``n`` as ``1 / (n ln n)``.
        reporting_length: Longest combination counted, ``R >= 1``.
        percentile: Percentile (1..100) of the per-record number of
            combinations used as each length's contribution bound.
        percentile_share: Share (0, 1) of the marginals budget spent on
            choosing the contribution bounds.
        record_count_share: Share (0, 1) of the zCDP budget, at most, spent on
            the record count.
        delta_threshold_share: Share (0, 1) of delta spent by the 1-value
            threshold, which hides values no other record shares; the rest
            of delta goes to converting zCDP into (epsilon, delta).
        accuracy_mode: Split of the noise across lengths.
        sigma_proportions: Proportions ``p_1..p_R`` for the custom accuracy mode.
        fabrication_mode: Thresholds of lengths ``2..R``.
        thresholds: Per-length values ``{k: value}`` for the custom fabrication
            modes (fixed: noisy-count thresholds >= 0; adaptive: eta in (0, 1]).
        max_candidates: Largest number of candidate combinations noised at one
            length; a larger candidate set stops the run with advice.
        link_bound: Most rows one subject contributes in a linked file; ``None``
            chooses it with a DP percentile of rows per subject. Rows beyond
            it are dropped at random before measuring.
        max_link_bound: Largest link bound the DP percentile may choose.
        model_share: Share [0, 1) of the budget left after the record count
            that buys the measurements of a synthesis model; 0 spends
            everything on the published aggregates.
    """

    epsilon: float
    delta: float | None = None
    reporting_length: int = 3
    percentile: int = 99
    percentile_share: float = 0.01
    record_count_share: float = 0.01
    delta_threshold_share: float = 0.5
    accuracy_mode: AccuracyMode = AccuracyMode.PRIORITIZE_LONG
    sigma_proportions: tuple[float, ...] | None = None
    fabrication_mode: FabricationMode = FabricationMode.PROGRESSIVE
    thresholds: Mapping[int, float] = field(default_factory=dict)
    max_candidates: int = 5_000_000
    link_bound: int | None = None
    max_link_bound: int = 64
    model_share: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "accuracy_mode", _mode(AccuracyMode, self))
        object.__setattr__(self, "fabrication_mode", _fabrication(self))
        object.__setattr__(self, "thresholds", dict(self.thresholds))
        _check_range("epsilon", self.epsilon, 0.0, math.inf, "--epsilon 1")
        if self.epsilon > MAX_EPSILON:
            raise ParameterError(
                f"epsilon is {self.epsilon}; above {MAX_EPSILON:g} the noise is too "
                "small to protect anyone and the accounting overflows; choose "
                "epsilon between 0.1 and 10 for a meaningful guarantee"
            )
        if self.delta is not None:
            _check_range("delta", self.delta, 0.0, MAX_DELTA, "--delta 1e-6")
        if not isinstance(self.reporting_length, int) or self.reporting_length < 1:
            raise ParameterError(
                f"reporting_length is {self.reporting_length!r}; it must be a whole "
                "number >= 1, for example --reporting-length 3"
            )
        if not 1 <= self.percentile <= 100:
            raise ParameterError(
                f"percentile is {self.percentile}; it must be in 1..100, "
                "for example --percentile 99"
            )
        for name in ("percentile_share", "record_count_share", "delta_threshold_share"):
            _check_range(name, getattr(self, name), 0.0, 1.0, f"--{_flag(name)} 0.1")
        if not 0.0 <= self.model_share < 1.0:
            raise ParameterError(
                f"model_share is {self.model_share!r}; it must be in [0, 1), for "
                "example --model-share 0.5"
            )
        if self.link_bound is not None and self.link_bound < 1:
            raise ParameterError(
                f"link_bound is {self.link_bound}; it must be >= 1, for example "
                "--link-bound 10"
            )
        if self.max_link_bound < 1:
            raise ParameterError(
                f"max_link_bound is {self.max_link_bound}; it must be >= 1"
            )
        if self.max_candidates < 1:
            raise ParameterError(
                f"max_candidates is {self.max_candidates}; it must be >= 1"
            )
        self._check_sigma_proportions()
        self._check_thresholds()

    def _check_sigma_proportions(self) -> None:
        custom = self.accuracy_mode is AccuracyMode.CUSTOM
        if custom and self.sigma_proportions is None:
            raise ParameterError(
                "accuracy mode 'custom' needs sigma proportions, one per length; "
                "pass for example --sigma-proportions 1,0.5,0.33"
            )
        if not custom and self.sigma_proportions is not None:
            raise ParameterError(
                "sigma proportions are only used with accuracy mode 'custom'; "
                "add --accuracy-mode custom or drop --sigma-proportions"
            )
        if self.sigma_proportions is not None:
            props = self.sigma_proportions
            if len(props) != self.reporting_length:
                raise ParameterError(
                    f"{len(props)} sigma proportions given for reporting length "
                    f"{self.reporting_length}; give exactly one per length"
                )
            if any(not (p > 0 and math.isfinite(p)) for p in props):
                raise ParameterError(
                    f"sigma proportions {list(props)} must all be finite and > 0"
                )

    def _check_thresholds(self) -> None:
        mode = self.fabrication_mode
        custom = mode in (FabricationMode.CUSTOM_FIXED, FabricationMode.CUSTOM_ADAPTIVE)
        if custom and not self.thresholds and self.reporting_length > 1:
            raise ParameterError(
                f"fabrication mode {mode.value!r} needs thresholds for lengths "
                f"2..{self.reporting_length}; pass for example --thresholds "
                "2:10,3:20 (fixed) or 2:0.1,3:0.5 (adaptive)"
            )
        if not custom:
            if self.thresholds:
                raise ParameterError(
                    "thresholds are only used with fabrication modes 'custom-fixed' "
                    "and 'custom-adaptive'; choose one of them or drop --thresholds"
                )
            return
        for length, value in self.thresholds.items():
            if not 2 <= length <= self.reporting_length:
                raise ParameterError(
                    f"a threshold is given for length {length}; thresholds apply to "
                    f"lengths 2..{self.reporting_length} (the 1-value threshold is "
                    "set by delta)"
                )
            if mode is FabricationMode.CUSTOM_FIXED and not value >= 0:
                raise ParameterError(
                    f"fixed threshold {value} for length {length} must be >= 0"
                )
            if mode is FabricationMode.CUSTOM_ADAPTIVE and not 0 < value <= 1:
                raise ParameterError(
                    f"adaptive threshold {value} for length {length} must be in "
                    "(0, 1]; 1 allows the most fabrication, 0.01 very little"
                )

    def resolved_sigma_proportions(self) -> tuple[float, ...]:
        """The sigma proportions ``p_1..p_R`` the accuracy mode stands for."""
        r = self.reporting_length
        if self.accuracy_mode is AccuracyMode.PRIORITIZE_LONG:
            return tuple(1.0 / k for k in range(1, r + 1))
        if self.accuracy_mode is AccuracyMode.PRIORITIZE_SHORT:
            return tuple(1.0 / (r - k + 1) for k in range(1, r + 1))
        if self.accuracy_mode is AccuracyMode.BALANCED:
            return (1.0,) * r
        assert self.sigma_proportions is not None
        return tuple(self.sigma_proportions)

    def adaptive_etas(self) -> dict[int, float] | None:
        """``eta_k`` for lengths ``2..R``, or ``None`` for fixed thresholds."""
        r = self.reporting_length
        mode = self.fabrication_mode
        if mode is FabricationMode.CUSTOM_FIXED:
            return None
        if mode is FabricationMode.UNCONTROLLED:
            return {k: 1.0 for k in range(2, r + 1)}
        if mode is FabricationMode.PROGRESSIVE:
            if r == 2:
                return {2: 0.1}
            step = 0.9 / (r - 2) if r > 2 else 0.0
            return {k: min(1.0, 0.1 + step * (k - 2)) for k in range(2, r + 1)}
        if mode is FabricationMode.BALANCED:
            return {k: (0.55 if k == 2 else 1.0) for k in range(2, r + 1)}
        if mode is FabricationMode.MINIMIZE:
            return {k: 0.01 for k in range(2, r + 1)}
        return {k: float(self.thresholds.get(k, 1.0)) for k in range(2, r + 1)}

    def fixed_thresholds(self) -> dict[int, float]:
        """Noisy-count thresholds of lengths ``2..R`` in the fixed mode."""
        return {
            k: float(self.thresholds.get(k, 0.0))
            for k in range(2, self.reporting_length + 1)
        }


def _flag(name: str) -> str:
    return name.replace("_", "-")


MAX_EPSILON = 100.0
"""Largest epsilon accepted: beyond it the guarantee means nothing."""

MAX_DELTA = 0.01
"""Largest delta accepted; a release also needs delta below 1 / n."""


def _check_range(name: str, value: float, low: float, high: float, hint: str) -> None:
    """Require ``low < value < high`` (open interval), naming the fix."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (low < value < high)
    ):
        bounds = f"({low:g}, {'inf' if math.isinf(high) else f'{high:g}'})"
        raise ParameterError(
            f"{name} is {value!r}; it must be in {bounds}, for example {hint}"
        )


def _mode(enum: type[AccuracyMode], settings: DPSettings) -> AccuracyMode:
    try:
        return enum(settings.accuracy_mode)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ParameterError(
            f"accuracy mode {settings.accuracy_mode!r} is unknown; choose one of "
            f"{allowed}"
        ) from None


def _fabrication(settings: DPSettings) -> FabricationMode:
    try:
        return FabricationMode(settings.fabrication_mode)
    except ValueError:
        allowed = ", ".join(m.value for m in FabricationMode)
        raise ParameterError(
            f"fabrication mode {settings.fabrication_mode!r} is unknown; choose one "
            f"of {allowed}"
        ) from None


def parse_thresholds(text: str) -> dict[int, float]:
    """Parse ``"2:0.1,3:0.55"`` into ``{2: 0.1, 3: 0.55}``.

    Raises:
        ParameterError: When an item is not ``LENGTH:VALUE``.
    """
    result: dict[int, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        length, sep, value = item.partition(":")
        try:
            if not sep:
                raise ValueError(item)
            result[int(length)] = float(value)
        except ValueError:
            raise ParameterError(
                f"threshold item {item!r} is not LENGTH:VALUE; write for example "
                "--thresholds 2:0.1,3:0.55"
            ) from None
    return result


def parse_sigma_proportions(text: str | Sequence[float]) -> tuple[float, ...]:
    """Parse ``"1,0.5,0.33"`` (or a sequence) into a tuple of floats."""
    if not isinstance(text, str):
        return tuple(float(p) for p in text)
    try:
        return tuple(float(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise ParameterError(
            f"sigma proportions {text!r} are not numbers separated by commas; "
            "write for example --sigma-proportions 1,0.5,0.33"
        ) from None
