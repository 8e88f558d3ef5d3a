"""Fitting a junction-tree model to noisy marginals (post-processing).

The model is a distribution that factorises over the cliques of a junction
tree, ``p(x) = prod_C exp(theta_C(x_C)) / Z``. Its clique marginals are computed
exactly by two-pass message passing in log space. The potentials are fitted
by entropic mirror descent on the weighted least-squares loss
``sum_m ||M_m(mu) - y_m||^2 / (2 sigma_m^2)`` over the noisy tables ``y_m``,
as private-pgm does (McKenna, Sheldon & Miklau, *Graphical-model based
estimation and inference for differential privacy*, ICML 2019): every
iterate is a proper distribution, so the fitted marginals are non-negative
and consistent by construction.

Everything here reads protected tables only.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from synthcase.progress import Progress, no_progress

__all__ = ["Measurement", "Tree", "fit_tree"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

_FLOOR = 1e-12
"""Smallest probability the warm start gives a cell (log of zero is -inf)."""


@dataclass(frozen=True)
class Tree:
    """Cliques (ascending column numbers), parents (``-1`` at the root)."""

    cliques: tuple[tuple[int, ...], ...]
    parents: tuple[int, ...]
    sizes: tuple[int, ...]

    def shape(self, i: int) -> tuple[int, ...]:
        """Table shape of clique ``i``."""
        return tuple(self.sizes[c] for c in self.cliques[i])

    def separator(self, i: int) -> tuple[int, ...]:
        """Columns clique ``i`` shares with its parent."""
        if self.parents[i] < 0:
            return ()
        parent = set(self.cliques[self.parents[i]])
        return tuple(c for c in self.cliques[i] if c in parent)


@dataclass(frozen=True)
class Measurement:
    """A noisy table ``values`` over ``columns``, all inside clique ``clique``.

    ``weight`` is the inverse noise variance, per cell or for all cells.
    """

    clique: int
    columns: tuple[int, ...]
    values: FloatArray
    weight: FloatArray | float


def _keep(
    a: FloatArray, clique: tuple[int, ...], columns: tuple[int, ...]
) -> FloatArray:
    """Sum ``a`` (over ``clique``) down to ``columns``."""
    axes = tuple(i for i, c in enumerate(clique) if c not in columns)
    return np.asarray(a.sum(axis=axes)) if axes else a


def _lse_keep(
    a: FloatArray, clique: tuple[int, ...], columns: tuple[int, ...]
) -> FloatArray:
    """Log-sum-exp of ``a`` down to ``columns``."""
    axes = tuple(i for i, c in enumerate(clique) if c not in columns)
    if not axes:
        return a
    top = a.max(axis=axes, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    out = np.log(np.exp(a - top).sum(axis=axes, keepdims=True)) + top
    return np.asarray(out.squeeze(axis=axes))


def _expand(
    a: FloatArray, columns: tuple[int, ...], clique: tuple[int, ...]
) -> FloatArray:
    """View ``a`` (over ``columns``) so it broadcasts over ``clique``."""
    shape = [a.shape[columns.index(c)] if c in columns else 1 for c in clique]
    return a.reshape(shape)


def calibrate(tree: Tree, theta: list[FloatArray]) -> list[FloatArray]:
    """Probability marginal of every clique (two-pass message passing).

    Works in linear space on ``exp(theta - max theta)`` per clique, each
    message rescaled to a largest entry of 1, so nothing overflows; a cell
    that underflows to zero has a probability below about ``1e-300`` of its
    clique's largest.
    """
    n = len(tree.cliques)
    children: list[list[int]] = [[] for _ in range(n)]
    for i, p in enumerate(tree.parents):
        if p >= 0:
            children[p].append(i)
    inward: list[FloatArray] = [np.empty(0)] * n
    up: list[FloatArray] = [np.empty(0)] * n
    for i in reversed(range(n)):
        b = np.exp(theta[i] - theta[i].max())
        for k in children[i]:
            b = b * _expand(up[k], tree.separator(k), tree.cliques[i])
        inward[i] = b
        if tree.parents[i] >= 0:
            up[i] = _rescale(_keep(b, tree.cliques[i], tree.separator(i)))
    belief: list[FloatArray] = [np.empty(0)] * n
    for i in range(n):
        p = tree.parents[i]
        if p < 0:
            belief[i] = inward[i]
            continue
        sep = tree.separator(i)
        # The parent's belief without what this child sent up.
        sent = _expand(up[i], sep, tree.cliques[p])
        with np.errstate(divide="ignore", invalid="ignore"):
            outside = np.where(sent > 0, belief[p] / np.where(sent > 0, sent, 1.0), 0.0)
        message = _rescale(_keep(outside, tree.cliques[p], sep))
        belief[i] = _rescale(inward[i] * _expand(message, sep, tree.cliques[i]))
    return [b / b.sum() for b in belief]


def _rescale(a: FloatArray) -> FloatArray:
    top = float(a.max()) if a.size else 0.0
    return a / top if top > 0 else a


def estimate_total(tables: list[tuple[FloatArray, float]]) -> float:
    """Record count from the noisy tables' sums, weighted by their variance."""
    weights = [1.0 / (v.size * s**2) if s > 0 else 1e12 for v, s in tables]
    total = sum(w * float(v.sum()) for (v, _), w in zip(tables, weights, strict=True))
    return max(1.0, total / sum(weights))


def warm_start(
    tree: Tree, measurements: list[Measurement], total: float
) -> list[FloatArray]:
    """Potentials of the decomposable estimate ``prod mu_C / prod mu_S``.

    Each clique's largest noisy table, clipped at zero and spread evenly
    over the clique's other columns, gives its conditional table given the
    separator; exact when the tables are exact, agree and cover the cliques.
    """
    theta = []
    for i, clique in enumerate(tree.cliques):
        inside = [m for m in measurements if m.clique == i]
        log_table = np.full(tree.shape(i), -math.log(math.prod(tree.shape(i))))
        if inside:
            best = max(inside, key=lambda m: len(m.columns))
            table = np.maximum(best.values, 0.0) / total
            log_part = np.log(np.maximum(table, _FLOOR))
            log_table = log_table + _expand(log_part, best.columns, clique)
        sep = tree.separator(i)
        if sep:
            log_table = log_table - _expand(
                _lse_keep(log_table, clique, sep), sep, clique
            )
        theta.append(log_table)
    return theta


def _potentials(tree: Tree, marginals: list[FloatArray]) -> list[FloatArray]:
    """Potentials ``log mu_C - log mu_S`` of a distribution given by its cliques."""
    theta = []
    for i, clique in enumerate(tree.cliques):
        log_table = np.log(np.maximum(marginals[i], _FLOOR))
        sep = tree.separator(i)
        if sep:
            below = _keep(np.maximum(marginals[i], _FLOOR), clique, sep)
            log_table = log_table - _expand(np.log(below), sep, clique)
        theta.append(log_table)
    return theta


def fit_tree(
    tree: Tree,
    measurements: list[Measurement],
    total: float,
    *,
    iterations: int,
    start: list[FloatArray] | None = None,
    progress: Progress = no_progress,
) -> list[FloatArray]:
    """Fit the potentials; return each clique's marginal as probabilities.

    Mirror descent with a backtracking (Armijo) step: the step grows after
    an accepted move and halves after a rejected one. ``start`` gives each
    clique's marginal of a distribution to start from (one the tree can
    hold exactly, such as an earlier fit on a smaller tree); without it the
    start is the decomposable estimate of the tables.
    """
    theta = (
        warm_start(tree, measurements, total)
        if start is None
        else _potentials(tree, start)
    )

    def evaluate(
        theta: list[FloatArray],
    ) -> tuple[list[FloatArray], float, list[FloatArray]]:
        mu = [total * b for b in calibrate(tree, theta)]
        loss = 0.0
        grad = [np.zeros_like(m) for m in mu]
        for m in measurements:
            clique = tree.cliques[m.clique]
            diff = _keep(mu[m.clique], clique, m.columns) - m.values
            loss += 0.5 * float((m.weight * np.square(diff)).sum())
            grad[m.clique] += _expand(m.weight * diff, m.columns, clique)
        return mu, loss, grad

    mu, loss, grad = evaluate(theta)
    start_loss = loss
    weight = max(float(np.max(m.weight)) for m in measurements)
    alpha = 1.0 / (weight * total)
    accepted = 0
    for it in range(iterations):
        if it % 20 == 0:
            progress("fitting the model", it / iterations)
        trial = [t - alpha * g for t, g in zip(theta, grad, strict=True)]
        mu_new, loss_new, grad_new = evaluate(trial)
        gain = sum(
            float((g * (a - b)).sum()) for g, a, b in zip(grad, mu, mu_new, strict=True)
        )
        if loss - loss_new >= 0.5 * gain and np.isfinite(loss_new):
            small = loss - loss_new <= 1e-9 * max(loss, 1.0)
            theta, mu, loss, grad = trial, mu_new, loss_new, grad_new
            alpha *= 1.3
            accepted += 1
            if small:
                break
        else:
            alpha *= 0.5
    progress("fitting the model", 1.0)
    logger.info(
        "model fitted: %d iterations (%d accepted), loss %.4g -> %.4g",
        it + 1 if iterations else 0,
        accepted,
        start_loss,
        loss,
    )
    return [m / m.sum() for m in mu]
