"""The privacy accountant: one budget on the zCDP scale.

A release is given a total ``(epsilon, delta)``. The accountant turns it into
a zCDP budget ``rho`` once, splits ``rho`` between the mechanisms, records what
each mechanism's OpenDP privacy map says it spent, and at the end recomputes
the total and checks it against the target before anything is released.

The split (Gopi, Mahabadi & Yekhanin, *Differentially Private Marginals*, with
the zCDP accounting of Bun & Steinke 2016):

* ``delta`` is divided into ``delta_threshold``, spent by the 1-value threshold
  that hides values no other unit shares, and ``delta_conversion``, used to
  convert zCDP into ``(epsilon, delta)`` (Canonne, Kamath & Steinke 2020).
* ``rho_total`` is the largest rho whose conversion at ``delta_conversion``
  stays within ``epsilon``.
* The record count takes at most the share ``record_count_share`` of the
  zCDP budget; it is spent first because the default delta depends on the
  protected count (see :func:`record_count_rho`).
* Of the rest, ``model_share`` (0 by default) is set aside for the
  measurements of a synthesis model. Of what remains, ``percentile_share``
  chooses the contribution bounds (split
  evenly across lengths) and the remainder pays for the noisy counts, split
  across lengths by the sigma proportions ``p_k``: length ``k`` gets
  ``rho_k = 1 / (2 sigma_k^2)`` with ``sigma_k = p_k * sigma``.

Composition of approximate zCDP adds rhos and deltas (Bun & Steinke 2016,
Lemma 8.3), and the conversion adds ``delta_conversion``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from synthcase.errors import BudgetError
from synthcase.measure.noise import epsilon_from_rho, rho_for_epsilon

__all__ = [
    "Accountant",
    "BudgetPlan",
    "Spend",
    "check_within",
    "plan_budget",
    "record_count_rho",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class BudgetPlan:
    """How a total budget is split between mechanisms.

    Attributes:
        epsilon: Target epsilon of the whole release.
        delta: Target delta of the whole release.
        delta_threshold: Part of delta for the 1-value threshold.
        delta_conversion: Part of delta for the zCDP conversion.
        rho_total: zCDP budget matching ``(epsilon, delta_conversion)``.
        rho_record_count: rho of the record count.
        rho_percentile: rho of each length's contribution bound.
        rho_lengths: rho of each length's noisy counts.
        rho_model: rho set aside for a synthesis model's measurements.
        rho_link_bound: rho of choosing the rows-per-subject bound (0 when
            declared or when each row is its own unit).
        sigmas: Relative noise ``sigma_k`` per length; the absolute noise
            scale of length ``k`` is ``sigma_k * sqrt(bound_k)``.
    """

    epsilon: float
    delta: float
    delta_threshold: float
    delta_conversion: float
    rho_total: float
    rho_record_count: float
    rho_percentile: tuple[float, ...]
    rho_lengths: tuple[float, ...]
    sigmas: tuple[float, ...]
    rho_model: float = 0.0
    rho_link_bound: float = 0.0


DELTA_FLOOR = 1e-12
"""Smallest conversion delta the record count's share is sized against."""


def record_count_rho(
    epsilon: float, record_count_share: float, delta: float | None = None
) -> float:
    """Rho of the record count: at most ``share`` of the whole zCDP budget.

    The count is released before delta is known (the default delta is
    derived from it), so its rho is sized against the budget at the smallest
    delta a release can end up with: ``DELTA_FLOOR``, or the conversion part
    of a declared ``delta`` when that is smaller. The real budget, at the real
    delta, is at least as large, so the count never takes more than its share.

    Example:
        >>> rho = record_count_rho(1.0, 0.1)
        >>> plan = plan_budget(epsilon=1.0, delta=1e-6, rho_record_count=rho,
        ...     delta_threshold_share=0.5, percentile_share=0.1,
        ...     sigma_proportions=(1.0,))
        >>> rho <= 0.1 * plan.rho_total
        True
    """
    floor = DELTA_FLOOR if delta is None else min(DELTA_FLOOR, delta)
    return record_count_share * rho_for_epsilon(epsilon, floor)


def plan_budget(
    *,
    epsilon: float,
    delta: float,
    rho_record_count: float,
    delta_threshold_share: float,
    percentile_share: float,
    sigma_proportions: tuple[float, ...],
    model_share: float = 0.0,
    extra_quantiles: int = 0,
) -> BudgetPlan:
    """Split ``(epsilon, delta)`` between the mechanisms of a release.

    Raises:
        BudgetError: When the record count alone uses the whole budget.

    Example:
        >>> plan = plan_budget(epsilon=1.0, delta=1e-6, rho_record_count=5e-5,
        ...     delta_threshold_share=0.5, percentile_share=0.1,
        ...     sigma_proportions=(1.0, 1.0))
        >>> total = (plan.rho_record_count + sum(plan.rho_percentile)
        ...          + sum(plan.rho_lengths) + plan.rho_model + plan.rho_link_bound)
        >>> 0 <= plan.rho_total - total < 1e-9 * plan.rho_total
        True
    """
    delta_threshold = delta * delta_threshold_share
    delta_conversion = delta - delta_threshold
    rho_total = rho_for_epsilon(epsilon, delta_conversion)
    rest = rho_total - rho_record_count
    if rest <= 0:
        raise BudgetError(
            f"the record count alone needs rho {rho_record_count:.3g}, the whole "
            f"budget is rho {rho_total:.3g} (epsilon {epsilon}); lower "
            "record_count_share or raise epsilon"
        )
    # Keep a hair of the budget unallocated: the mechanisms' maps round their
    # losses up, and the sum of the parts must never exceed the whole.
    rest *= 1.0 - 1e-9
    rho_model = rest * model_share
    rest -= rho_model
    length = len(sigma_proportions)
    rho_percentile = rest * percentile_share
    rho_marginals = rest - rho_percentile
    inverse_sum = sum(1.0 / p**2 for p in sigma_proportions)
    # sum_k 1/(2 sigma_k^2) = rho_marginals with sigma_k = p_k * sigma.
    sigma = math.sqrt(inverse_sum / (2.0 * rho_marginals))
    sigmas = tuple(p * sigma for p in sigma_proportions)
    plan = BudgetPlan(
        epsilon=epsilon,
        delta=delta,
        delta_threshold=delta_threshold,
        delta_conversion=delta_conversion,
        rho_total=rho_total,
        rho_record_count=rho_record_count,
        rho_percentile=(rho_percentile / (length + extra_quantiles),) * length,
        rho_link_bound=rho_percentile / (length + extra_quantiles) * extra_quantiles,
        rho_lengths=tuple(1.0 / (2.0 * s**2) for s in sigmas),
        sigmas=sigmas,
        rho_model=rho_model,
    )
    logger.info(
        "budget plan: epsilon %.4g, delta %.3g (threshold %.3g, conversion %.3g), "
        "rho %.6g; record count rho %.3g; model rho %.3g; bounds rho %.3g per "
        "length; sigma per length %s",
        epsilon,
        delta,
        delta_threshold,
        delta_conversion,
        rho_total,
        rho_record_count,
        rho_model,
        rho_percentile / length,
        ", ".join(f"{s:.4g}" for s in sigmas),
    )
    return plan


@dataclass(frozen=True)
class Spend:
    """One mechanism's privacy loss, as its OpenDP privacy map reports it."""

    label: str
    rho: float
    delta: float = 0.0


@dataclass
class Accountant:
    """Records what each mechanism spent and checks the total against the plan.

    Attributes:
        plan: The budget split the mechanisms were built from.
        spends: Every mechanism run so far, in order.
    """

    plan: BudgetPlan
    spends: list[Spend] = field(default_factory=list)

    def spend(self, label: str, rho: float, delta: float = 0.0) -> None:
        """Record a mechanism's loss; fail before the budget is exceeded."""
        self.spends.append(Spend(label, rho, delta))
        logger.info("spent %s: rho %.6g, delta %.3g", label, rho, delta)
        self.check()

    @property
    def rho(self) -> float:
        """Total rho spent so far."""
        return math.fsum(s.rho for s in self.spends)

    @property
    def delta_spent(self) -> float:
        """Total delta spent by mechanisms so far (without the conversion)."""
        return math.fsum(s.delta for s in self.spends)

    @property
    def epsilon(self) -> float:
        """Epsilon of everything spent, at the plan's conversion delta."""
        return float(epsilon_from_rho(self.rho, self.plan.delta_conversion))

    @property
    def delta(self) -> float:
        """Total delta: mechanisms' delta plus the conversion's."""
        return self.delta_spent + self.plan.delta_conversion

    def check(self) -> None:
        """Raise :class:`BudgetError` when the spends exceed the target.

        Compares on three scales: rho against ``rho_total``, delta against the
        target delta, and the converted epsilon against the target epsilon.
        """
        plan = self.plan
        check_within(
            rho=self.rho,
            delta=self.delta,
            epsilon=self.epsilon,
            rho_budget=plan.rho_total,
            delta_budget=plan.delta,
            epsilon_budget=plan.epsilon,
        )

    def to_dict(self) -> dict[str, Any]:
        """The accounting as plain data for ``release.json``."""
        return {
            "scale": "zCDP, converted to (epsilon, delta)",
            "conversion": "OpenDP make_zCDP_to_approxDP "
            "(Canonne, Kamath & Steinke 2020)",
            "epsilon_target": self.plan.epsilon,
            "delta_target": self.plan.delta,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "rho": self.rho,
            "rho_budget": self.plan.rho_total,
            "delta_threshold": self.delta_spent,
            "delta_conversion": self.plan.delta_conversion,
            "spends": [
                {"mechanism": s.label, "rho": s.rho, "delta": s.delta}
                for s in self.spends
            ],
        }


def check_within(
    *,
    rho: float,
    delta: float,
    epsilon: float,
    rho_budget: float,
    delta_budget: float,
    epsilon_budget: float,
) -> None:
    """Fail closed: raise :class:`BudgetError` when any spend exceeds its budget.

    Compares on three scales: rho, delta and the converted epsilon.
    """
    if rho > rho_budget:
        raise BudgetError(
            f"mechanisms spent rho {rho:.8g}, above the budget's "
            f"{rho_budget:.8g}; nothing was released"
        )
    if delta > delta_budget:
        raise BudgetError(
            f"mechanisms spent delta {delta:.4g}, above the budget's "
            f"{delta_budget:.4g}; nothing was released"
        )
    if epsilon > epsilon_budget:
        raise BudgetError(
            f"mechanisms spent epsilon {epsilon:.8g}, above the budget's "
            f"{epsilon_budget:.8g}; nothing was released"
        )
