"""NIST's k-marginal score and the 3-way marginal score.

The k-marginal score is the utility measure of NIST's SDNist (v2.x) and of
its Collaborative Research Cycle, as NIST describes it:

1. Keep the released columns (those of the synthetic records).
2. Bin continuous columns at 20 percentile bins of the *target* records plus
   one bin for absent cells; categorical columns keep their values, absent
   being a value of its own.
3. Take every pair of columns (200 random pairs when there are 30 or more
   columns); when a group column (``PUMA``) is present, it joins every pair,
   so each marginal is a 3-way ``PUMA x pair`` table, and it is left out of
   the pairs.
4. For each marginal, the total variation distance between the target and
   the synthetic distributions over its cells,
   ``TVD = 0.5 * sum |p - q|``, where ``p`` and ``q`` are cell counts over
   the number of records of each table.
5. Score ``1000 * (1 - mean TVD)``: 1000 for identical marginals, 0 for
   marginals with no cell in common.

The 3-way score is the same average over every set of three columns, with
no group column. Both accept tables of labels; the evaluation calls
:func:`mean_tvd` directly on coded tables. Computed against the sensitive
records, the scores are sensitive.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.errors import DataError, ParameterError
from synthcase.evaluate import cells as cell_blocks
from synthcase.evaluate.cells import CellLayout, cell_counts
from synthcase.evaluate.percentiles import percentile_bins
from synthcase.evaluate.shared import encode_shared
from synthcase.measure.combinations import IntArray

__all__ = [
    "k_marginal_score",
    "marginal_tuples",
    "mean_tvd",
    "three_way_score",
]

SAMPLE_FROM_COLUMNS = 30
"""From this many released columns on, a random subset of pairs is scored."""


def k_marginal_score(
    target: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    group_column: str | None = "PUMA",
    pairs: int = 200,
    seed: int = 0,
    numeric_columns: Sequence[str] = (),
) -> float:
    """NIST's k-marginal score of synthetic records against target records.

    Args:
        target: The target (sensitive) records as labels; absent cells are
            missing or empty and form a category of their own.
        synthetic: The synthetic records as labels; only its columns are
            scored, and the target must have all of them.
        group_column: Column joined to every pair when present; ``None``
            scores plain pairs.
        pairs: Pairs scored, chosen at random, when there are
            :data:`SAMPLE_FROM_COLUMNS` or more columns.
        seed: Seed of that random choice.
        numeric_columns: Columns holding raw numbers, binned at
            20 percentile bins of the target
            (:func:`~synthcase.evaluate.percentiles.percentile_bins`).

    Returns:
        The score, from 0 to 1000 (identical marginals).

    Raises:
        DataError: When a table is empty, the target lacks a synthetic
            column or a numeric column holds text.
        ParameterError: When ``pairs`` is below 1.

    Example:
        >>> t = pd.DataFrame({"A": ["x", "x", "y", "y"], "B": ["u", "v", "u", "v"]})
        >>> k_marginal_score(t, t.iloc[[0, 0, 2, 2]], group_column=None)
        500.0
    """
    if pairs < 1:
        raise ParameterError(
            f"pairs is {pairs}; score at least 1 pair of columns (NIST uses 200)"
        )
    codes_t, codes_s, cardinalities, columns = _prepare(
        target, synthetic, numeric_columns
    )
    tuples = marginal_tuples(columns, group_column, pairs=pairs, seed=seed)
    return 1000.0 * (1.0 - mean_tvd(codes_t, codes_s, cardinalities, tuples))


def three_way_score(
    target: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    numeric_columns: Sequence[str] = (),
    max_triples: int = 10_000,
    seed: int = 0,
) -> float:
    """The mean 3-way marginal score over every set of three columns.

    Args:
        target: The target (sensitive) records as labels.
        synthetic: The synthetic records as labels; its columns are scored.
        numeric_columns: Columns of raw numbers, binned as in
            :func:`k_marginal_score`.
        max_triples: Above this many sets of three columns, a random subset
            of this size is scored.
        seed: Seed of that random choice.

    Returns:
        ``1000 * (1 - mean TVD)`` over the 3-way marginals (over all columns
        together when there are fewer than three).

    Raises:
        DataError: As :func:`k_marginal_score`.
        ParameterError: When ``max_triples`` is below 1.
    """
    if max_triples < 1:
        raise ParameterError(f"max_triples is {max_triples}; it must be >= 1")
    codes_t, codes_s, cardinalities, columns = _prepare(
        target, synthetic, numeric_columns
    )
    tuples = three_way_tuples(len(columns), max_triples=max_triples, seed=seed)
    return 1000.0 * (1.0 - mean_tvd(codes_t, codes_s, cardinalities, tuples))


def marginal_tuples(
    columns: Sequence[str], group_column: str | None, *, pairs: int, seed: int
) -> list[tuple[int, ...]]:
    """Column numbers of the k-marginal score's marginals.

    >>> marginal_tuples(["PUMA", "A", "B", "C"], "PUMA", pairs=200, seed=0)
    [(0, 1, 2), (0, 1, 3), (0, 2, 3)]
    >>> marginal_tuples(["A", "B"], "PUMA", pairs=200, seed=0)
    [(0, 1)]
    """
    group = columns.index(group_column) if group_column in columns else None
    others = [j for j in range(len(columns)) if j != group]
    chosen: list[tuple[int, ...]]
    if len(others) >= 2:
        chosen = list(itertools.combinations(others, 2))
    else:
        # One column left (or none): its own marginal stands for the pairs.
        chosen = [tuple(others)]
    if len(columns) >= SAMPLE_FROM_COLUMNS and len(chosen) > pairs:
        rng = np.random.default_rng(seed)
        picked = np.sort(rng.choice(len(chosen), size=pairs, replace=False))
        chosen = [chosen[i] for i in picked]
    if group is not None:
        chosen = [(group, *pair) for pair in chosen]
    return chosen


def three_way_tuples(
    n_columns: int, *, max_triples: int, seed: int
) -> list[tuple[int, ...]]:
    """Column numbers of the 3-way score's marginals.

    >>> three_way_tuples(4, max_triples=10, seed=0)
    [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]
    """
    if n_columns < 3:
        return [tuple(range(n_columns))]
    total = math.comb(n_columns, 3)
    if total <= max_triples:
        return list(itertools.combinations(range(n_columns), 3))
    rng = np.random.default_rng(seed)
    picked = set(np.sort(rng.choice(total, size=max_triples, replace=False)).tolist())
    return [
        t
        for i, t in enumerate(itertools.combinations(range(n_columns), 3))
        if i in picked
    ]


def mean_tvd(
    target: npt.NDArray[np.int32],
    synthetic: npt.NDArray[np.int32],
    cardinalities: IntArray,
    tuples: Sequence[tuple[int, ...]],
) -> float:
    """Mean total variation distance of two coded tables over some marginals.

    Args:
        target: Codes ``(records, columns)``, ``-1`` for absent cells.
        synthetic: Codes on the same category lists.
        cardinalities: Categories of each column; absent cells form one more.
        tuples: The column numbers of each marginal.

    Returns:
        The mean of ``0.5 * sum |p - q|`` over the marginals, in ``[0, 1]``.

    Raises:
        DataError: When either table has no records.
    """
    n_t, n_s = target.shape[0], synthetic.shape[0]
    if n_t == 0 or n_s == 0:
        which = "target" if n_t == 0 else "synthetic"
        raise DataError(
            f"the {which} records are empty; a marginal score needs records in "
            "both tables"
        )
    card = np.asarray(cardinalities, dtype=np.int64)
    by_length: dict[int, list[tuple[int, ...]]] = {}
    for cols in tuples:
        by_length.setdefault(len(cols), []).append(tuple(cols))
    total = 0.0
    for group in by_length.values():
        layout = CellLayout.build(np.array(group, dtype=np.int64), card)
        sizes = np.diff(layout.starts)
        # Marginals are counted densely a batch at a time, each batch within
        # DENSE_LIMIT cells; a marginal larger than that alone goes sparse.
        batch = np.cumsum(sizes) // max(1, cell_blocks.DENSE_LIMIT)
        for number in np.unique(batch):
            members = [group[i] for i in np.flatnonzero(batch == number)]
            part = CellLayout.build(np.array(members, dtype=np.int64), card)
            if part.total > cell_blocks.DENSE_LIMIT:
                total += sum(_tvd_sparse(target, synthetic, card, c) for c in members)
                continue
            p = cell_counts(target, part) / n_t
            q = cell_counts(synthetic, part) / n_s
            per_marginal = np.add.reduceat(np.abs(p - q), part.starts[:-1])
            total += 0.5 * float(per_marginal.sum())
    return total / len(tuples)


def _tvd_sparse(
    target: npt.NDArray[np.int32],
    synthetic: npt.NDArray[np.int32],
    card: IntArray,
    cols: tuple[int, ...],
) -> float:
    """TVD of one marginal whose cells are too many to count densely."""
    layout = CellLayout.build(np.array([cols], dtype=np.int64), card)
    t_cells = layout.cells(layout.rows(target), 0, 1).ravel()
    s_cells = layout.cells(layout.rows(synthetic), 0, 1).ravel()
    cells, inverse = np.unique(np.concatenate((t_cells, s_cells)), return_inverse=True)
    n_t = t_cells.size
    p = np.bincount(inverse[:n_t], minlength=cells.size) / n_t
    q = np.bincount(inverse[n_t:], minlength=cells.size) / s_cells.size
    return 0.5 * float(np.abs(p - q).sum())


def _prepare(
    target: pd.DataFrame, synthetic: pd.DataFrame, numeric: Sequence[str]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], IntArray, list[str]]:
    """Bin the numeric columns and code both tables on shared categories."""
    columns = [str(c) for c in synthetic.columns]
    if not columns:
        raise DataError(
            "the synthetic records have no columns; score tables with at least "
            "one column"
        )
    target = target.set_axis([str(c) for c in target.columns], axis=1)
    synthetic = synthetic.set_axis(columns, axis=1)
    unknown = [c for c in numeric if c not in columns]
    if unknown:
        raise DataError(
            f"numeric_columns names {', '.join(map(repr, unknown))}, not among "
            f"the synthetic columns {', '.join(columns)}; fix the column name"
        )
    if numeric:
        target = target.copy()
        synthetic = synthetic.copy()
        for name in numeric:
            if name not in target.columns:
                continue  # encode_shared reports the missing column
            target[name], synthetic[name] = percentile_bins(
                target[name], synthetic[name], name
            )
    shared = encode_shared(target, synthetic)
    return (
        shared.sensitive.codes,
        shared.synthetic.codes,
        shared.sensitive.cardinalities,
        columns,
    )
