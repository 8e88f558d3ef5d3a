"""OpenDP wrappers: scales, losses and thresholds on hand-computed values."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from synthcase.errors import BudgetError
from synthcase.measure.noise import (
    NoiseSwitch,
    epsilon_from_rho,
    gaussian_count,
    gaussian_counts,
    gaussian_threshold,
    noisy_quantile,
    rho_for_epsilon,
    scale_for_rho,
    threshold_for_delta,
)


def test_noise_is_on_unless_a_test_switches_it_off() -> None:
    assert NoiseSwitch.enabled is True


@pytest.mark.parametrize(
    ("sensitivity", "rho", "scale"),
    [(1.0, 0.5, 1.0), (1.0, 2.0, 0.5), (2.0, 0.5, 2.0), (1.0, 0.125, 2.0)],
)
def test_scale_for_rho_is_sensitivity_over_root_two_rho_rounded_up(
    sensitivity: float, rho: float, scale: float
) -> None:
    got = scale_for_rho(sensitivity, rho)
    # Rounded up (more noise is safe), by a hair.
    assert scale <= got <= scale * (1 + 1e-9)


@pytest.mark.parametrize("rho", [0.0, -1.0])
def test_scale_for_rho_refuses_a_non_positive_rho(rho: float) -> None:
    with pytest.raises(BudgetError, match="rho must be > 0"):
        scale_for_rho(1.0, rho)


@pytest.mark.parametrize("rho", [0.5, 0.01, 1e-4, 3.0])
def test_gaussian_count_spends_one_over_two_scale_squared(
    noise_off: None, rho: float
) -> None:
    value, scale, spent = gaussian_count(1234, rho)
    assert value == 1234
    assert 1 / math.sqrt(2 * rho) <= scale <= 1 / math.sqrt(2 * rho) * (1 + 1e-9)
    assert spent == pytest.approx(1 / (2 * scale**2), rel=1e-12)
    assert spent <= rho


# Rho values where rounding the scale up by one ulp was not enough.
@pytest.mark.parametrize("rho", [0.5021, 0.50025, 0.5413129073015274])
def test_gaussian_count_fits_every_allocation(rho: float) -> None:
    _, _, spent = gaussian_count(10, rho)
    assert spent <= rho


def test_gaussian_counts_spends_sensitivity_squared_over_two_scale_squared(
    noise_off: None,
) -> None:
    counts = np.array([5, 0, 7], dtype=np.int64)
    noisy, spent = gaussian_counts(counts, math.sqrt(3), 2.0)
    np.testing.assert_array_equal(noisy, counts)
    assert spent == pytest.approx(3 / (2 * 4.0), rel=1e-12)
    assert spent >= 3 / 8  # the map never under-reports


def test_gaussian_counts_with_noise_keeps_the_shape_and_stays_near() -> None:
    counts = np.full(200, 1000, dtype=np.int64)
    noisy, _ = gaussian_counts(counts, 1.0, 1.0)
    assert noisy.shape == (200,)
    assert noisy.dtype == np.int64
    # Scale 1: 200 draws all within 8 standard deviations.
    assert np.all(np.abs(noisy - 1000) <= 8)
    assert not np.all(noisy == 1000)


@pytest.mark.parametrize(
    ("l0", "scale", "delta"),
    [(1, 1.0, 1e-6), (3, 2.0, 1e-6), (3, 2.0, 1e-9), (10, 5.0, 1e-7), (1, 0.3, 0.01)],
)
def test_threshold_for_delta_is_the_smallest_integer_meeting_delta(
    l0: int, scale: float, delta: float
) -> None:
    threshold = threshold_for_delta(l0, scale, delta)
    _, _, delta_at = gaussian_threshold({}, l0, scale, threshold)
    _, _, delta_below = gaussian_threshold({}, l0, scale, threshold - 1)
    assert delta_at <= delta < delta_below
    assert threshold >= 1


@pytest.mark.parametrize(("l0", "scale", "delta"), [(5, 1.0, 1e-3), (5, 2.0, 1e-6)])
def test_threshold_for_delta_with_repeated_contributions(
    l0: int, scale: float, delta: float
) -> None:
    threshold = threshold_for_delta(l0, scale, delta, linf=l0)
    _, _, delta_at = gaussian_threshold({}, l0, scale, threshold, linf=l0)
    assert delta_at <= delta
    assert threshold >= l0


def test_threshold_rises_as_delta_falls_and_scale_grows() -> None:
    assert threshold_for_delta(3, 2.0, 1e-9) > threshold_for_delta(3, 2.0, 1e-6)
    assert threshold_for_delta(3, 4.0, 1e-6) > threshold_for_delta(3, 2.0, 1e-6)
    assert threshold_for_delta(9, 2.0, 1e-6) > threshold_for_delta(1, 2.0, 1e-6)


def test_gaussian_threshold_reports_rho_of_l2_sensitivity(noise_off: None) -> None:
    kept, rho, delta = gaussian_threshold({1: 5, 2: 4, 3: 9}, 4, 2.0, 5)
    # Noise off: keys at or above the threshold stay, as OpenDP keeps them.
    assert kept == {1: 5, 3: 9}
    assert rho == pytest.approx(4 / (2 * 2.0**2), rel=1e-12)
    assert 0 < delta < 1


def test_gaussian_threshold_with_noise_keeps_large_counts() -> None:
    kept, _, _ = gaussian_threshold({1: 1000, 2: 1}, 1, 0.5, 20)
    assert set(kept) == {1}
    assert abs(kept[1] - 1000) <= 5


@pytest.mark.parametrize(
    ("values", "alpha", "expected"),
    [
        ([1, 2, 3, 4, 5], 0.5, 3),
        ([1, 2, 3, 4], 0.5, 2),  # method "lower"
        ([0, 0, 3, 3, 3], 0.99, 3),
        ([2, 2, 2], 1.0, 2),
        ([5, 1, 4, 2, 3], 0.0, 1),
    ],
)
def test_noisy_quantile_without_noise_is_the_lower_quantile(
    noise_off: None, values: list[int], alpha: float, expected: int
) -> None:
    chosen, spent = noisy_quantile(values, list(range(6)), alpha, 0.01)
    assert chosen == expected
    assert 0 < spent <= 0.01


def test_noisy_quantile_with_noise_picks_a_candidate_near_the_quantile() -> None:
    values = [3] * 2000
    chosen, spent = noisy_quantile(values, list(range(10)), 0.5, 1.0)
    assert chosen == 3
    assert spent <= 1.0


@pytest.mark.parametrize(
    ("rho", "delta"), [(0.1, 1e-6), (1.0, 1e-5), (0.01, 1e-9), (5.0, 1e-7)]
)
def test_opendp_conversion_is_tighter_than_the_classic_bound(
    rho: float, delta: float
) -> None:
    classic = rho + 2 * math.sqrt(rho * math.log(1 / delta))
    tight = epsilon_from_rho(rho, delta)
    assert 0 < tight < classic
    # Still above what pure rho alone would give: a sanity floor.
    assert tight > rho


def test_epsilon_from_rho_grows_with_rho_and_is_zero_at_zero() -> None:
    assert epsilon_from_rho(0.0, 1e-6) == 0.0
    values = [epsilon_from_rho(r, 1e-6) for r in (0.001, 0.01, 0.1, 1.0)]
    assert values == sorted(values)


@pytest.mark.parametrize(
    ("epsilon", "delta"), [(0.1, 1e-6), (1.0, 1e-6), (4.0, 5e-7), (10.0, 1e-9)]
)
def test_rho_for_epsilon_stays_within_epsilon_and_close_to_it(
    epsilon: float, delta: float
) -> None:
    rho = rho_for_epsilon(epsilon, delta)
    back = epsilon_from_rho(rho, delta)
    assert back <= epsilon
    assert epsilon - back < 1e-6


def test_adaptive_threshold_formula_on_hand_values() -> None:
    # eta = 1: threshold 0; eta = 0.05: the two-sided 95 % quantile, 1.96.
    assert NormalDist().inv_cdf(1 - 1.0 / 2) == 0.0
    assert NormalDist().inv_cdf(1 - 0.05 / 2) == pytest.approx(1.959964, abs=1e-6)
