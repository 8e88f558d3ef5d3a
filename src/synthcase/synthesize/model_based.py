"""Model-based synthesis: complete records from a fitted junction-tree model.

:func:`fit_model` turns :class:`~synthcase.measure.model.ModelMeasurements`
into a distribution over whole records that agrees, in the least-squares
sense, with every noisy table (see :mod:`synthcase.measure._model_tree`).
:func:`sample_model` draws records from it along the junction tree: the root
clique's columns jointly, then each clique's new column given its separator.
Within each separator value, draws are systematic (one uniform per group), so
the synthetic tables follow the model more closely than independent draws.

With ``forbid_unlisted`` no record holds a combination of two or three values
that the aggregates do not list: each value is drawn among those that form
only listed combinations with the values already drawn, and falls back to
*other* (absent), which forms no combination.

Guarantee: fitting and sampling read only the protected measurements (and
the protected aggregates), so the records carry the measurements' privacy
guarantee unchanged. The seed drives only this post-processing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.errors import ParameterError
from synthcase.measure._model_adaptive import FittedTree
from synthcase.measure._model_tree import Tree, fit_tree
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.model import ModelMeasurements, estimate_cost, fit_inputs
from synthcase.progress import Progress, no_progress
from synthcase.synthesize._model_constraints import Constraints

__all__ = ["FittedModel", "fit_model", "sample_model"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class FittedModel:
    """A distribution over complete records (releasable: post-processing).

    Attributes:
        columns: Column names, in input order.
        domains: Per column, the value labels; code ``len(labels)`` is
            *other*, written as absent.
        cliques: Column numbers of each clique, parents first.
        parents: Position of each clique's parent, ``-1`` at the root.
        marginals: Each clique's fitted marginal, as probabilities.
        total: Record count estimated from the noisy tables.
        merged: Per column, the model cell of each domain value (the
            *other* cell last); a cell may hold several values.
        shares: Per column, each domain value's share of its model cell,
            from the noisy one-way counts (even where they say nothing).
    """

    columns: tuple[str, ...]
    domains: tuple[tuple[str, ...], ...]
    cliques: tuple[tuple[int, ...], ...]
    parents: tuple[int, ...]
    marginals: tuple[FloatArray, ...]
    total: float
    merged: tuple[IntArray, ...]
    shares: tuple[FloatArray, ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        """Cells of each column's domain (values plus *other*)."""
        return tuple(len(d) + 1 for d in self.domains)

    @property
    def model_sizes(self) -> tuple[int, ...]:
        """Cells of each column in the model (merged domains)."""
        return tuple(int(m.max()) + 1 for m in self.merged)

    @property
    def cells(self) -> int:
        """Number of cells of all cliques' tables."""
        return int(sum(m.size for m in self.marginals))


def fit_model(
    measurements: ModelMeasurements, *, progress: Progress = no_progress
) -> FittedModel:
    """Fit a junction-tree model to the noisy tables (post-processing only).

    Args:
        measurements: The protected measurements.
        progress: Called with the stage and the fraction done.

    Returns:
        The fitted model.

    Raises:
        ParameterError: When the model exceeds the settings' ``max_model_cells``.
    """
    settings = measurements.settings
    sizes = measurements.merged_sizes
    if measurements.cliques:
        cliques = measurements.model_cliques
        parents = measurements.parents
    else:
        cliques, parents = ((0,),), (-1,)
    tree = Tree(cliques, parents, sizes)
    cells = sum(int(np.prod(tree.shape(i))) for i in range(len(cliques)))
    if cells > settings.max_model_cells:
        bound = estimate_cost(sizes, settings)
        raise ParameterError(
            f"the model has {cells:,} cells (about {bound.seconds:.0f} s to fit at "
            f"most), above max_model_cells {settings.max_model_cells:,}; raise "
            "max_model_cells or measure with a smaller max_clique_size"
        )
    measured = [*measurements.cliques, *measurements.extra]
    start = list(measurements.start) or None
    if measurements.rounds and start is None:
        # Without the last round's fit to start from, fit the tree before the
        # rounds first and start from it: the grown tree holds that
        # distribution exactly, a far better start than spreading tables
        # over the large grown cliques.
        base = measured[: len(measured) - measurements.rounds]
        base_tables, base_total = fit_inputs(
            measurements.one_way,
            measurements.merged,
            base,
            measurements.base_cliques,
            sizes,
        )
        fitted = fit_tree(
            Tree(measurements.base_cliques, measurements.base_parents, sizes),
            base_tables,
            base_total,
            iterations=settings.iterations,
        )
        before = FittedTree(
            measurements.base_cliques, measurements.base_parents, fitted
        )
        start = [before.marginal(clique) for clique in cliques]
    tables, total = fit_inputs(
        measurements.one_way, measurements.merged, measured, cliques, sizes
    )
    marginals = fit_tree(
        tree,
        tables,
        total,
        iterations=settings.iterations,
        start=start,
        progress=progress,
    )
    return FittedModel(
        columns=measurements.columns,
        domains=measurements.domains,
        cliques=cliques,
        parents=parents,
        marginals=tuple(marginals),
        total=total,
        merged=measurements.merged,
        shares=tuple(
            _shares(t.values, merged)
            for t, merged in zip(measurements.one_way, measurements.merged, strict=True)
        ),
    )


def _shares(noisy: FloatArray, merged: IntArray) -> FloatArray:
    """Each value's share of its merged cell, from the noisy one-way counts.

    Shares follow the counts clipped at zero, and are even where no value of
    the cell has a positive count. Post-processing of the noisy one-way
    table: a rare value that some records hold tends to get more of its cell
    than a value that none hold, where an even split would give both the same.
    """
    weight = np.maximum(np.asarray(noisy, dtype=np.float64), 0.0)
    size = int(merged.max()) + 1
    total = np.bincount(merged, weights=weight, minlength=size)[merged]
    width = np.bincount(merged, minlength=size).astype(np.float64)[merged]
    even = 1.0 / width
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, weight / np.where(total > 0, total, 1.0), even)
    return np.asarray(share, dtype=np.float64)


def sample_model(
    model: FittedModel,
    records: int,
    *,
    seed: int | None,
    aggregates: Aggregates | None = None,
    forbid_unlisted: bool = False,
) -> pd.DataFrame:
    """Draw complete synthetic records from a fitted model.

    Args:
        model: The fitted model.
        records: Number of records, >= 0.
        seed: Seed of the sampling; ``None`` draws one from the operating
            system. It never touches privacy noise.
        aggregates: The protected aggregates; needed with ``forbid_unlisted``.
        forbid_unlisted: Forbid every combination of length 2..min(R, 3) of
            present values that the aggregates do not list.

    Returns:
        One column per model column, in order; labels as text, ``pd.NA``
        where absent (or *other*).

    Raises:
        ParameterError: When ``records`` is negative or ``forbid_unlisted``
            is asked without aggregates.
    """
    if not isinstance(records, int | np.integer) or records < 0:
        raise ParameterError(f"records is {records!r}; it must be a whole number >= 0")
    if forbid_unlisted and aggregates is None:
        raise ParameterError(
            "forbid_unlisted needs the aggregates that list the allowed "
            "combinations; pass aggregates=release.aggregates"
        )
    rng = np.random.default_rng(seed)
    sizes = model.model_sizes
    n = int(records)
    cells = np.full((n, len(sizes)), -1, dtype=np.int64)
    codes = np.full((n, len(sizes)), -1, dtype=np.int64)
    constraints = (
        Constraints(aggregates, model.domains)
        if forbid_unlisted and aggregates is not None
        else None
    )
    done: list[int] = []
    for i, clique in enumerate(model.cliques):
        marginal = model.marginals[i]
        parent = model.parents[i]
        sep = (
            tuple(c for c in clique if c in model.cliques[parent])
            if parent >= 0
            else ()
        )
        for c in clique:
            if c in sep or c in done:
                continue
            given = tuple(x for x in clique if x in done)
            table = _conditional(marginal, clique, given, c)
            keys = (
                np.ravel_multi_index(
                    tuple(cells[:, g] for g in given), tuple(sizes[g] for g in given)
                )
                if given
                else np.zeros(n, dtype=np.int64)
            )
            # Spread each model cell over the values it holds.
            merged = model.merged[c]
            spread = table[:, merged] * model.shares[c]
            if constraints is not None:
                probs = spread[keys] * constraints.allowed(codes, done, c)
                probs[:, -1] = np.maximum(probs[:, -1], 1e-300)
                codes[:, c] = _draw_independent(probs, rng)
            else:
                codes[:, c] = _draw_systematic(spread[keys], keys, rng)
            cells[:, c] = merged[codes[:, c]]
            done.append(c)
    return _to_frame(model, codes)


def _conditional(
    marginal: FloatArray, clique: tuple[int, ...], given: tuple[int, ...], column: int
) -> FloatArray:
    """``p(column | given)`` as rows (flat ``given`` key) x ``column`` values."""
    keep = (*given, column)
    axes = tuple(i for i, c in enumerate(clique) if c not in keep)
    table = marginal.sum(axis=axes) if axes else marginal
    order = [sorted(keep).index(c) for c in keep]
    table = np.transpose(table, order).reshape(-1, marginal.shape[clique.index(column)])
    row = table.sum(axis=1, keepdims=True)
    uniform = np.full_like(table, 1.0 / table.shape[1])
    return np.where(row > 0, table / np.where(row > 0, row, 1.0), uniform)


def _draw_systematic(
    probs: FloatArray, keys: IntArray, rng: np.random.Generator
) -> IntArray:
    """One draw per row, systematic within each group of equal ``keys``.

    Rows of a group share ``probs``; the group's ``g`` draws take the
    quantiles ``(r + u) / g`` of one uniform ``u``, in a random order, so the
    group's counts are within one of their expectation.
    """
    n = probs.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    jitter = rng.random((n,))
    order = np.lexsort((jitter, keys))
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    lengths = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(starts.size), lengths)
    rank = np.arange(n) - starts[group]
    quantile = (rank + rng.random((starts.size,))[group]) / lengths[group]
    cdf = np.cumsum(probs[order], axis=1)
    cdf /= cdf[:, -1:]
    drawn = (cdf < quantile[:, None]).sum(axis=1)
    out = np.empty(n, dtype=np.int64)
    out[order] = np.minimum(drawn, probs.shape[1] - 1)
    return out


def _draw_independent(probs: FloatArray, rng: np.random.Generator) -> IntArray:
    """One independent draw per row from its own (unnormalised) ``probs``."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cdf[:, -1]
    drawn = (cdf < u[:, None]).sum(axis=1)
    out: IntArray = np.minimum(drawn, probs.shape[1] - 1).astype(np.int64)
    return out


def _to_frame(model: FittedModel, codes: IntArray) -> pd.DataFrame:
    data = {}
    for j, column in enumerate(model.columns):
        labels = np.array([*model.domains[j], pd.NA], dtype=object)
        data[column] = labels[codes[:, j]]
    return pd.DataFrame(data, columns=list(model.columns), dtype="object")
