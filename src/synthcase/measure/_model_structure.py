"""Structure of the model's junction tree: selection, merging, thickening.

Helpers of :mod:`synthcase.measure.model`. :class:`Selector` holds the exact
scores of the candidate cliques, which are sensitive: they leave only through
OpenDP's noisy max (:func:`noisy_max`). The other helpers read protected
tables or the chosen structure only.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import opendp.prelude as dp

from synthcase.measure.noise import NoiseSwitch
from synthcase.prepare.table import ABSENT, EncodedTable

if TYPE_CHECKING:
    from synthcase.measure.model import ModelSettings, NoisyTable

__all__ = [
    "SCORE_SENSITIVITY",
    "Selector",
    "contingency",
    "domain_codes",
    "merge_map",
    "noisy_max",
    "thicken_pairs",
]

FloatArray = npt.NDArray[np.float64]

SCORE_SENSITIVITY = 2.0 + 2e-4
"""L-infinity sensitivity of the selection scores: one record moves one cell
of the ``S + C`` table by 1 and one row of ``x(S) * p(C)`` by a probability
vector, so a score by at most 2. The margin covers floating-point rounding
in the sums (measured: under 1e-12)."""


def thicken_pairs(
    chosen: list[tuple[int, ...]],
    separators: list[tuple[int, ...]],
    parents: list[int],
    sizes: tuple[int, ...] | None = None,
    max_cells: int | None = None,
) -> tuple[
    list[tuple[int, ...]], list[tuple[int, tuple[int, ...]]], list[tuple[int, ...]]
]:
    """Triangles from the pair cliques: ``(a, c)`` grows to ``(a, b, c)``.

    ``b`` is another column of the parent clique, so the separator ``(a, b)``
    lies inside the parent's clique and the tree keeps the running
    intersection property. A triangle of more than ``max_cells`` cells (with
    ``sizes``) is not made, so every clique stays within the bound the cost
    estimate assumes. Returns the model cliques, the extra pairs
    ``(clique, (b, c))`` and the new separators; uses only the structure.
    """
    cliques = list(chosen)
    extra: list[tuple[int, tuple[int, ...]]] = []
    seps = list(separators)
    for i, clique in enumerate(chosen):
        if len(clique) != 2 or parents[i] < 0:
            continue
        a = separators[i][0]
        c = clique[0] if clique[1] == a else clique[1]
        b = next(x for x in chosen[parents[i]] if x != a)
        if (
            sizes is not None
            and max_cells is not None
            and sizes[a] * sizes[b] * sizes[c] > max_cells
        ):
            continue
        cliques[i] = tuple(sorted((a, b, c)))
        seps[i] = tuple(sorted((a, b)))
        extra.append((i, tuple(sorted((b, c)))))
    return cliques, extra, seps


def merge_map(values: FloatArray, below: float) -> npt.NDArray[np.int64]:
    """Cell of each value in the merged domain: kept values, merged, other.

    Values (not the *other* cell) whose noisy count is below ``below`` share
    one cell; reads protected counts only.
    """
    rare = values[:-1] < below
    if rare.sum() <= 1:
        return np.arange(values.size, dtype=np.int64)
    kept = int((~rare).sum())
    cells = np.empty(values.size, dtype=np.int64)
    cells[:-1][~rare] = np.arange(kept)
    cells[:-1][rare] = kept
    cells[-1] = kept + 1
    return cells


def domain_codes(
    table: EncodedTable, domains: tuple[tuple[str, ...], ...]
) -> npt.NDArray[np.int64]:
    """Recode the table onto the public domains; absent or suppressed -> other."""
    out = np.empty(table.codes.shape, dtype=np.int64)
    for j, labels in enumerate(domains):
        position = {label: i for i, label in enumerate(labels)}
        translate = np.array(
            [position.get(label, len(labels)) for label in table.categories[j]]
            + [len(labels)],
            dtype=np.int64,
        )
        column = table.codes[:, j].astype(np.int64)
        # ABSENT (-1) indexes the last entry: the other cell.
        out[:, j] = translate[np.where(column == ABSENT, -1, column)]
    return out


def contingency(
    codes: npt.NDArray[np.int64], columns: tuple[int, ...], sizes: tuple[int, ...]
) -> npt.NDArray[np.int64]:
    """Exact table of ``columns`` (sensitive)."""
    shape = tuple(sizes[c] for c in columns)
    keys = np.ravel_multi_index(tuple(codes[:, c] for c in columns), shape)
    return np.bincount(keys, minlength=math.prod(shape)).reshape(shape)


def noisy_max(
    scores: FloatArray, scale: float, *, sensitivity: float = SCORE_SENSITIVITY
) -> tuple[int, float]:
    """Index of the noisy largest score and its rho (OpenDP's noisy max).

    Guarantee: ``(sensitivity / scale)^2 / 2``-zCDP when neighbouring data
    sets move every score by at most the sensitivity (Gumbel noise, bounded
    range analysis of Cesar & Rogers 2021 as OpenDP's map applies it).
    """
    meas = dp.m.make_noisy_max(
        dp.vector_domain(dp.atom_domain(T=float, nan=False)),
        dp.linf_distance(T=float),
        dp.zero_concentrated_divergence(),
        scale=scale,
    )
    spent = float(meas.map(sensitivity))
    if not NoiseSwitch.enabled:
        return int(np.argmax(scores)), spent
    return int(meas([float(s) for s in scores])), spent


class Selector:
    """Grows the junction tree; holds the sensitive scores (never released)."""

    def __init__(
        self,
        codes: npt.NDArray[np.int64],
        sizes: tuple[int, ...],
        one_way: tuple[NoisyTable, ...],
        clique_scale: float,
        settings: ModelSettings,
    ) -> None:
        self.codes = codes
        self.sizes = sizes
        self.settings = settings
        # The one-way estimates are protected, so using them costs nothing.
        self.marginals = [_distribution(t.values) for t in one_way]
        # Expected L1 error of measuring one cell (AIM's bias term).
        self.cell_noise = (
            math.sqrt(2.0 / math.pi) * clique_scale * settings.noise_penalty
        )
        self.in_tree = [0]
        self.cliques: list[tuple[int, ...]] = []
        self.cache: dict[tuple[int, tuple[int, ...]], float] = {}

    def parent_sets(self) -> list[tuple[int, ...]]:
        """Single columns of the tree and column sets sharing a clique."""
        found: set[tuple[int, ...]] = {(c,) for c in self.in_tree}
        largest = self.settings.max_clique_size - 1
        for clique in self.cliques:
            for size in range(2, min(len(clique), largest) + 1):
                found.update(itertools.combinations(clique, size))
        return sorted(found)

    def candidates(self) -> tuple[list[tuple[int, tuple[int, ...]]], FloatArray]:
        outside = [c for c in range(len(self.sizes)) if c not in self.in_tree]
        pairs: list[tuple[int, tuple[int, ...]]] = []
        for parent in self.parent_sets():
            cells = math.prod(self.sizes[c] for c in parent)
            for c in outside:
                if cells * self.sizes[c] <= self.settings.max_clique_cells:
                    pairs.append((c, parent))
        if not pairs:
            # A single column always fits: keep the tree connected.
            pairs = [(c, (self.in_tree[0],)) for c in outside]
        scores = np.array([self.score(c, s) for c, s in pairs], dtype=np.float64)
        return pairs, scores

    def score(self, column: int, parent: tuple[int, ...]) -> float:
        """L1 gain of linking ``column`` to ``parent``, less the noise it adds."""
        key = (column, parent)
        if key not in self.cache:
            clique = tuple(sorted((*parent, column)))
            joint = contingency(self.codes, clique, self.sizes).astype(np.float64)
            axis = clique.index(column)
            rest = joint.sum(axis=axis, keepdims=True)
            shape = [1] * joint.ndim
            shape[axis] = self.sizes[column]
            independent = rest * self.marginals[column].reshape(shape)
            gain = float(np.abs(joint - independent).sum())
            self.cache[key] = gain - self.cell_noise * joint.size
        return self.cache[key]

    def add(
        self, choice: tuple[int, tuple[int, ...]]
    ) -> tuple[tuple[int, ...], tuple[int, ...], int]:
        column, parent = choice
        clique = tuple(sorted((*parent, column)))
        host = -1
        for i, existing in enumerate(self.cliques):
            if set(parent) <= set(existing):
                host = i
                break
        self.cliques.append(clique)
        self.in_tree.append(column)
        return clique, tuple(sorted(parent)) if host >= 0 else (), host


def _distribution(values: FloatArray) -> FloatArray:
    """A probability vector from noisy counts (post-processing)."""
    clipped = np.maximum(values, 0.0) + 1e-9
    return np.asarray(clipped / clipped.sum(), dtype=np.float64)
