"""OpenDP mechanisms behind every noisy number synthcase releases.

All noise is sampled by OpenDP (exact discrete Gaussian samplers fed by the
operating system's entropy) and every privacy loss is read from the privacy
map of the OpenDP measurement that produced it, so the accounting is the
library's, not ours. A user's seed never reaches these functions.

The neighbouring relation throughout is *add or remove one privacy unit*
(a record, or a subject with all of its records).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import opendp.prelude as dp

from synthcase.errors import BudgetError

__all__ = [
    "NoiseSwitch",
    "epsilon_from_rho",
    "gaussian_count",
    "gaussian_counts",
    "gaussian_threshold",
    "noisy_quantile",
    "rho_for_epsilon",
    "scale_for_rho",
    "threshold_for_delta",
]

logger = logging.getLogger(__name__)

dp.enable_features("contrib")


class NoiseSwitch:
    """Test-only switch that turns the noise off.

    With :attr:`enabled` set to ``False`` the mechanisms return exact values
    while still computing the same scales, thresholds and accounting; tests
    use it to check that released counts equal exact counts. Nothing in the
    command line or the web app can reach it.
    """

    enabled: bool = True


def scale_for_rho(sensitivity: float, rho: float) -> float:
    """Gaussian scale whose privacy loss at L2 ``sensitivity`` is at most ``rho``.

    The Gaussian mechanism with scale ``s`` is ``sensitivity^2 / (2 s^2)``-zCDP
    (Bun & Steinke 2016, Prop. 1.6). The scale is rounded up (safe: more
    noise); callers that build an OpenDP measurement still compare its map
    with ``rho``, since OpenDP rounds its losses up too.
    """
    if rho <= 0:
        raise BudgetError(f"a mechanism was given rho {rho}; rho must be > 0")
    return math.nextafter(sensitivity / math.sqrt(2.0 * rho), math.inf)


def gaussian_count(
    value: int, rho: float, sensitivity: float = 1.0
) -> tuple[int, float, float]:
    """Release one count with the discrete Gaussian mechanism.

    Guarantee: ``rho``-zCDP under add/remove of one privacy unit, when one
    unit changes the count by at most ``sensitivity``.

    Returns:
        ``(noisy value, scale, rho spent)``.
    """
    scale = scale_for_rho(sensitivity, rho)
    meas = dp.m.make_gaussian(
        dp.atom_domain(T=int), dp.absolute_distance(T=float), scale=scale
    )
    spent = float(meas.map(float(sensitivity)))
    while spent > rho:
        # OpenDP rounded the loss above the allocation: add a hair of noise.
        scale = math.nextafter(scale * (1.0 + 1e-15), math.inf)
        meas = dp.m.make_gaussian(
            dp.atom_domain(T=int), dp.absolute_distance(T=float), scale=scale
        )
        spent = float(meas.map(float(sensitivity)))
    _check_spent("record count", spent, rho)
    noisy = int(meas(int(value))) if NoiseSwitch.enabled else int(value)
    return noisy, scale, spent


def gaussian_counts(
    counts: npt.NDArray[np.int64], l2_sensitivity: float, scale: float
) -> tuple[npt.NDArray[np.int64], float]:
    """Add discrete Gaussian noise to a vector of counts over a public domain.

    Guarantee: ``l2_sensitivity^2 / (2 scale^2)``-zCDP when adding or removing
    one privacy unit changes the vector by at most ``l2_sensitivity`` in L2
    norm (Canonne, Kamath & Steinke 2020). The domain (which entries exist)
    must not depend on the sensitive data beyond earlier protected releases.

    Returns:
        ``(noisy counts, rho spent)``.
    """
    meas = dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=int)),
        dp.l2_distance(T=float),
        scale=scale,
    )
    spent = float(meas.map(float(l2_sensitivity)))
    if counts.size == 0 or not NoiseSwitch.enabled:
        return counts.astype(np.int64), spent
    noisy = np.asarray(meas(counts.astype(np.int64).tolist()), dtype=np.int64)
    return noisy, spent


def gaussian_threshold(
    counts: dict[int, int], l0: int, scale: float, threshold: int, linf: int = 1
) -> tuple[dict[int, int], float, float]:
    """Release the counts of an unknown set of keys, hiding rare keys.

    Adds discrete Gaussian noise to each present key's count and keeps those
    whose noisy count reaches ``threshold``. Keys no other unit shares are
    released only with small probability, which costs delta (Rogers 2023).
    Guarantee: ``(rho, delta)``-approximate zCDP when one privacy unit changes
    at most ``l0`` keys, each by at most ``linf``, and all by at most
    ``l0 * linf`` in total (so by at most ``sqrt(l0 * linf)`` in L2 norm).

    Returns:
        ``(released counts, rho spent, delta spent)``.
    """
    meas = _threshold_measurement(scale, threshold)
    rho, delta = meas.map(_threshold_distance(l0, linf))
    if not NoiseSwitch.enabled:
        kept = {k: v for k, v in counts.items() if v >= threshold}
        return kept, float(rho), float(delta)
    released = meas(counts) if counts else {}
    return {int(k): int(v) for k, v in released.items()}, float(rho), float(delta)


def _threshold_distance(l0: int, linf: int) -> tuple[int, float, float]:
    # sum of squares <= (largest change) x (sum of changes) <= linf x l0 x linf;
    # the sum of one unit's changes is at most l0 here, so L2 <= sqrt(l0 linf).
    return int(l0), math.sqrt(l0 * linf), float(linf)


def threshold_for_delta(l0: int, scale: float, delta: float, linf: int = 1) -> int:
    """Smallest integer threshold whose delta is at most ``delta``.

    ``l0`` and ``linf`` describe one unit's largest change as in
    :func:`gaussian_threshold`.
    """

    def delta_at(threshold: int) -> float:
        meas = _threshold_measurement(scale, threshold)
        return float(meas.map(_threshold_distance(l0, linf))[1])

    # OpenDP requires the threshold to reach the largest single change.
    low = max(1, int(linf))
    high = max(2 * low, math.ceil(scale))
    while delta_at(high) > delta:
        low, high = high, high * 2
        if high > 2**40:
            raise BudgetError(
                f"no threshold reaches delta {delta:g} at noise scale {scale:g}; "
                "raise delta or epsilon"
            )
    while low < high:
        mid = (low + high) // 2
        if delta_at(mid) <= delta:
            high = mid
        else:
            low = mid + 1
    return high


def _threshold_measurement(scale: float, threshold: int) -> Any:
    domain = dp.map_domain(dp.atom_domain(T="i64"), dp.atom_domain(T=int))
    metric = dp.l02inf_distance(dp.absolute_distance(T=float))
    return dp.m.make_gaussian_threshold(
        domain, metric, scale=scale, threshold=int(threshold)
    )


def noisy_quantile(
    values: Sequence[int], candidates: Sequence[int], alpha: float, rho: float
) -> tuple[int, float]:
    """Choose the ``alpha``-quantile of ``values`` among ``candidates`` privately.

    Scores every candidate by how far it is from the quantile and reports the
    noisy maximum (the exponential mechanism in its Gumbel form). Guarantee:
    ``rho``-zCDP under add/remove of one value, through the bounded-range
    analysis of Cesar & Rogers (2021) that OpenDP's map applies.

    Returns:
        ``(chosen candidate, rho spent)``.
    """
    domain = dp.vector_domain(dp.atom_domain(T=int))
    score = dp.t.make_quantile_score_candidates(
        domain, dp.symmetric_distance(), list(candidates), alpha=alpha
    )

    def chain(scale: float) -> Any:
        return score >> dp.m.make_noisy_max(
            score.output_domain,
            score.output_metric,
            dp.zero_concentrated_divergence(),
            scale=scale,
            negate=True,
        )

    scale = dp.binary_search_param(chain, d_in=1, d_out=rho, T=float)
    meas = chain(scale)
    spent = float(meas.map(1))
    _check_spent("contribution bound", spent, rho)
    if not NoiseSwitch.enabled:
        exact = float(np.quantile(np.asarray(values), alpha, method="lower"))
        index = int(np.searchsorted(np.asarray(candidates), exact))
        return int(candidates[min(index, len(candidates) - 1)]), spent
    index = int(meas(list(values)))
    return int(candidates[index]), spent


def epsilon_from_rho(rho: float, delta: float) -> float:
    """Convert ``rho``-zCDP to epsilon at ``delta`` with OpenDP's conversion.

    OpenDP applies the tight conversion of Canonne, Kamath & Steinke (2020),
    which gives a smaller epsilon than the classic ``rho + 2 sqrt(rho ln 1/delta)``.
    """
    if rho <= 0:
        return 0.0
    # A Gaussian of scale 1/sqrt(2 rho) on sensitivity 1 carries exactly rho.
    meas = dp.m.make_gaussian(
        dp.atom_domain(T=float, nan=False),
        dp.absolute_distance(T=float),
        scale=1.0 / math.sqrt(2.0 * rho),
    )
    profile = dp.c.make_zCDP_to_approxDP(meas).map(1.0)
    return float(profile.epsilon(delta))


@functools.lru_cache(maxsize=256)
def rho_for_epsilon(epsilon: float, delta: float) -> float:
    """Largest rho whose conversion at ``delta`` stays within ``epsilon``.

    Bisection on :func:`epsilon_from_rho`; the result is the lower end of the
    final bracket, so converting it back never exceeds ``epsilon`` (safe).
    """
    low, high = 0.0, max(epsilon, 1.0)
    while epsilon_from_rho(high, delta) <= epsilon:
        high *= 2.0
    for _ in range(100):
        mid = (low + high) / 2.0
        if epsilon_from_rho(mid, delta) <= epsilon:
            low = mid
        else:
            high = mid
        if high - low <= 1e-12 * high:
            break
    return low


def _check_spent(what: str, spent: float, allowed: float) -> None:
    # Fail closed: a map above its allocation means the plan is wrong.
    if spent > allowed:
        raise BudgetError(
            f"the {what} mechanism would spend rho {spent:.6g}, above its "
            f"allocation {allowed:.6g}; nothing was released"
        )
