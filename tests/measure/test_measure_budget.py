"""Budget plan and accountant: parts add up, boundaries pass, overruns fail."""

from __future__ import annotations

import functools
import math

import pytest

from synthcase.errors import BudgetError
from synthcase.measure import Accountant, BudgetPlan
from synthcase.measure.budget import plan_budget, record_count_rho
from synthcase.measure.noise import epsilon_from_rho


@functools.cache
def make_plan(
    epsilon: float = 1.0,
    delta: float = 1e-6,
    proportions: tuple[float, ...] = (1.0, 0.5, 1 / 3),
    record_count_share: float = 0.01,
    percentile_share: float = 0.01,
    delta_threshold_share: float = 0.5,
) -> BudgetPlan:
    return plan_budget(
        epsilon=epsilon,
        delta=delta,
        rho_record_count=record_count_rho(epsilon, record_count_share),
        delta_threshold_share=delta_threshold_share,
        percentile_share=percentile_share,
        sigma_proportions=proportions,
    )


def parts(plan: BudgetPlan) -> float:
    return math.fsum([plan.rho_record_count, *plan.rho_percentile, *plan.rho_lengths])


PLANS = [
    pytest.param({}, id="defaults"),
    pytest.param({"epsilon": 0.1}, id="eps-0.1"),
    pytest.param({"epsilon": 4.0, "delta": 1.3e-5}, id="eps-4"),
    pytest.param({"epsilon": 12.0, "proportions": (1.0,)}, id="R1"),
    pytest.param(
        {"proportions": (1 / 4, 1 / 3, 1 / 2, 1.0), "percentile_share": 0.3},
        id="short-R4",
    ),
    pytest.param(
        {"record_count_share": 0.05, "delta_threshold_share": 0.9}, id="big-shares"
    ),
]


@pytest.mark.parametrize("changes", PLANS)
def test_plan_parts_add_up_to_rho_total_and_never_above(
    changes: dict[str, object],
) -> None:
    plan = make_plan(**changes)  # type: ignore[arg-type]
    total = parts(plan)
    assert total <= plan.rho_total
    assert plan.rho_total - total <= 1e-9 * plan.rho_total


@pytest.mark.parametrize("changes", PLANS)
def test_plan_rho_total_converts_to_just_below_epsilon(
    changes: dict[str, object],
) -> None:
    plan = make_plan(**changes)  # type: ignore[arg-type]
    epsilon = epsilon_from_rho(plan.rho_total, plan.delta_conversion)
    assert epsilon <= plan.epsilon
    assert plan.epsilon - epsilon <= 1e-6


def test_plan_splits_delta_and_sigmas_as_documented() -> None:
    plan = make_plan(epsilon=2.0, delta=1e-6, proportions=(1.0, 0.5, 0.25))
    assert plan.delta_threshold == pytest.approx(0.5e-6)
    assert plan.delta_threshold + plan.delta_conversion == pytest.approx(1e-6)
    assert plan.rho_record_count == record_count_rho(2.0, 0.01)
    assert plan.rho_record_count <= 0.01 * plan.rho_total
    # sigma_k = p_k * sigma and rho_k = 1 / (2 sigma_k^2).
    sigma = plan.sigmas[0]
    assert plan.sigmas == pytest.approx((sigma, sigma / 2, sigma / 4))
    assert plan.rho_lengths == pytest.approx(tuple(1 / (2 * s**2) for s in plan.sigmas))
    # Percentile share of the rest, split evenly across lengths.
    rest = plan.rho_total - plan.rho_record_count
    assert sum(plan.rho_percentile) == pytest.approx(0.01 * rest, rel=1e-6)
    assert len(set(plan.rho_percentile)) == 1
    assert sum(plan.rho_lengths) == pytest.approx(0.99 * rest, rel=1e-6)


def test_prioritize_long_gives_less_noise_to_longer_combinations() -> None:
    plan = make_plan(proportions=(1.0, 1 / 2, 1 / 3))
    assert plan.sigmas[0] > plan.sigmas[1] > plan.sigmas[2]
    assert plan.rho_lengths[0] < plan.rho_lengths[1] < plan.rho_lengths[2]


def test_record_count_alone_exceeding_the_budget_is_refused() -> None:
    with pytest.raises(BudgetError, match="record count alone needs rho"):
        plan_budget(
            epsilon=0.5,
            delta=1e-6,
            rho_record_count=1.0,
            delta_threshold_share=0.5,
            percentile_share=0.01,
            sigma_proportions=(1.0,),
        )


@pytest.mark.parametrize("share", [0.01, 0.1, 0.5])
@pytest.mark.parametrize("epsilon", [0.3, 1.0, 8.0])
def test_record_count_takes_at_most_its_share_of_the_budget(
    share: float, epsilon: float
) -> None:
    plan = make_plan(epsilon=epsilon, delta=1e-6, record_count_share=share)
    assert plan.rho_record_count <= share * plan.rho_total
    # Sized against a smaller delta than the real one: not far below its share.
    assert plan.rho_record_count >= 0.3 * share * plan.rho_total


def test_accountant_passes_at_the_boundary_and_fails_just_above() -> None:
    plan = make_plan()
    at = Accountant(plan)
    at.spend("everything", plan.rho_total)
    assert at.rho == plan.rho_total
    assert at.epsilon <= plan.epsilon

    above = Accountant(plan)
    with pytest.raises(BudgetError, match=r"spent rho .* above the budget's"):
        above.spend("everything", math.nextafter(plan.rho_total, math.inf))


def test_accountant_fails_on_the_spend_that_crosses_the_budget() -> None:
    plan = make_plan()
    accountant = Accountant(plan)
    accountant.spend("first half", plan.rho_total / 2)
    accountant.spend("second half", plan.rho_total - plan.rho_total / 2)
    with pytest.raises(BudgetError, match="nothing was released"):
        accountant.spend("one more", plan.rho_total * 1e-6)


def test_accountant_checks_delta_at_the_boundary() -> None:
    plan = make_plan(delta=1e-6)
    at = Accountant(plan)
    at.spend("threshold", 0.0, plan.delta_threshold)
    assert at.delta == pytest.approx(plan.delta)
    above = Accountant(plan)
    with pytest.raises(BudgetError, match=r"spent delta .* above the budget's"):
        above.spend("threshold", 0.0, plan.delta_threshold * 1.01)


def test_accountant_reports_its_spends() -> None:
    plan = make_plan(epsilon=1.0)
    accountant = Accountant(plan)
    accountant.spend("a", plan.rho_total / 4)
    accountant.spend("b", plan.rho_total / 4, 1e-7)
    record = accountant.to_dict()
    assert record["epsilon_target"] == 1.0
    assert record["rho"] == pytest.approx(plan.rho_total / 2)
    assert record["delta_threshold"] == pytest.approx(1e-7)
    assert record["delta"] == pytest.approx(1e-7 + plan.delta_conversion)
    assert [s["mechanism"] for s in record["spends"]] == ["a", "b"]
    assert 0 < record["epsilon"] < 1.0
