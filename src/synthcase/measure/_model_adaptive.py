"""Adaptive rounds of the model's measurements, in the manner of AIM.

After the junction tree is measured, each round fits the model to every
protected table so far, then lets OpenDP's noisy max pick the column set (a
pair or a triple) whose true table the model gets most wrong, less the noise
that measuring it would add, and measures that table (McKenna, Mullins,
Sheldon & Miklau, *AIM: An Adaptive and Iterative Mechanism for
Differentially Private Synthetic Data*, VLDB 2022). The model then grows so
that one clique holds the new set.

The helpers here read protected tables and the public structure, except
:class:`RoundScores`, which holds the true tables of the candidates; they
leave only through the noisy max.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from synthcase.measure._model_structure import contingency

__all__ = ["FittedTree", "Growth", "RoundScores", "candidate_sets", "grow"]

FloatArray = npt.NDArray[np.float64]

MESSAGE_CELLS = 2_000_000
"""Largest message (cells) a marginal query builds at once: 16 MB of floats;
beyond it the query is split by the values of one column."""

ROUND_SENSITIVITY = 1.0 + 1e-4
"""L-infinity sensitivity of a round's scores: ``||x_r - n p_r||_1`` with the
model ``p`` and the estimate ``n`` fixed by earlier protected measurements,
and one record moving one cell of the true table ``x_r`` by 1. The margin of
1e-4 covers floating-point rounding in the sums (measured: 1e-12), so the
stated bound holds for the computed scores too; it costs 0.02 % more rho."""

CACHE_BYTES = 128 * 2**20
"""Most memory the true tables kept between rounds may take; tables beyond
it are counted again each round."""


def candidate_sets(
    sizes: tuple[int, ...], largest: int, max_cells: int
) -> list[tuple[int, ...]]:
    """Every pair and triple (up to ``largest`` columns) within ``max_cells``."""
    found = []
    for size in range(2, min(largest, 3) + 1):
        for columns in itertools.combinations(range(len(sizes)), size):
            if math.prod(sizes[c] for c in columns) <= max_cells:
                found.append(columns)
    return found


def _path_to_root(parents: list[int] | tuple[int, ...], node: int) -> list[int]:
    path = [node]
    while parents[path[-1]] >= 0:
        path.append(parents[path[-1]])
    return path


def steiner(
    cliques: list[tuple[int, ...]] | tuple[tuple[int, ...], ...],
    parents: list[int] | tuple[int, ...],
    columns: tuple[int, ...],
) -> list[int]:
    """Smallest connected set of cliques holding every one of ``columns``.

    Each column's first clique stands for it; the set is the union of the
    tree paths between those cliques, in tree order (parents first).
    """
    homes = [
        next(i for i, clique in enumerate(cliques) if c in clique) for c in columns
    ]
    return sorted(_connect(parents, homes))


def _connect(parents: list[int] | tuple[int, ...], homes: list[int]) -> set[int]:
    """Union of the tree paths between every pair of ``homes``."""
    paths = [_path_to_root(parents, h) for h in homes]
    nodes: set[int] = set()
    for a, b in itertools.combinations(range(len(paths)), 2):
        on_b = set(paths[b])
        meet = next(x for x in paths[a] if x in on_b)
        nodes.update(paths[a][: paths[a].index(meet) + 1])
        nodes.update(paths[b][: paths[b].index(meet) + 1])
    nodes.update(homes)
    return nodes


class FittedTree:
    """A fitted junction tree, queried for the marginal of any column set.

    Holds each clique's marginal and its conditional given the separator
    (``mu_C / mu_S``); all of it is post-processing of protected tables.
    """

    def __init__(
        self,
        cliques: tuple[tuple[int, ...], ...],
        parents: tuple[int, ...],
        marginals: list[FloatArray],
    ) -> None:
        self.cliques = cliques
        self.parents = parents
        self.marginals = marginals
        self.conditionals: list[FloatArray] = []
        self.size: dict[int, int] = {}
        for clique, table in zip(cliques, marginals, strict=True):
            self.size.update(zip(clique, table.shape, strict=True))
        for i, clique in enumerate(cliques):
            table = marginals[i]
            p = parents[i]
            if p >= 0:
                axes = tuple(k for k, c in enumerate(clique) if c not in cliques[p])
                below = table.sum(axis=axes, keepdims=True) if axes else table
                positive = below > 0
                table = np.where(positive, table / np.where(positive, below, 1.0), 0.0)
            self.conditionals.append(table)

    def marginal(self, columns: tuple[int, ...]) -> FloatArray:
        """The model's marginal of ``columns`` (ascending), as probabilities.

        On the smallest subtree holding the columns, the top clique's
        marginal times every other clique's conditional given its separator
        is the model's distribution of the subtree's columns; the other
        columns are summed out from the leaves up, each message keeping its
        separator and the wanted columns. When a message would exceed
        :data:`MESSAGE_CELLS` cells (wanted columns carried through a large
        clique), the marginal is computed one value of its largest column at
        a time, which bounds the memory.
        """
        return self._sliced(columns, {})

    def _sliced(self, columns: tuple[int, ...], fixed: dict[int, int]) -> FloatArray:
        free = [c for c in columns if c not in fixed]
        try:
            return self._contract(columns, fixed, limit=bool(free))
        except _TooLarge:
            pass
        split = max(free, key=lambda c: self.size[c])
        parts = [
            self._sliced(columns, {**fixed, split: value})
            for value in range(self.size[split])
        ]
        return np.stack(parts, axis=sorted(free).index(split))

    def _contract(
        self, columns: tuple[int, ...], fixed: dict[int, int], *, limit: bool
    ) -> FloatArray:
        """The marginal of the free ``columns`` with ``fixed`` columns held."""
        nodes = steiner(self.cliques, self.parents, columns)
        top = nodes[0]
        wanted = {c for c in columns if c not in fixed}
        messages: dict[int, tuple[FloatArray, list[int]]] = {}
        for i in reversed(nodes):
            table = self.marginals[i] if i == top else self.conditionals[i]
            clique = list(self.cliques[i])
            if any(c in fixed for c in clique):
                table = table[tuple(fixed.get(c, slice(None)) for c in clique)]
                clique = [c for c in clique if c not in fixed]
            incoming = [messages.pop(k) for k in list(messages) if self.parents[k] == i]
            if i == top:
                keep = set(wanted)
            else:
                above = set(self.cliques[self.parents[i]])
                held = set(clique).union(*(set(kept) for _, kept in incoming))
                keep = {c for c in held if c in above or c in wanted}
            # Sum out what nothing needs first, then take in one message at a
            # time, summing out each column as soon as no factor left holds it.
            factor, labels = table, clique
            for step in range(len(incoming) + 1):
                later = set(keep).union(*(set(kept) for _, kept in incoming[step:]))
                if step:
                    message, kept = incoming[step - 1]
                    together = labels + [c for c in kept if c not in labels]
                    out = [c for c in together if c in later]
                    if limit and _cells(tuple(out), self.size) > MESSAGE_CELLS:
                        raise _TooLarge
                    factor = _einsum(factor, labels, message, kept, out)
                    labels = out
                else:
                    out = [c for c in labels if c in later]
                    if len(out) < len(labels):
                        factor = _einsum(factor, labels, out)
                        labels = out
            order = sorted(labels)
            messages[i] = (_einsum(factor, labels, order), order)
        return np.asarray(messages[top][0], dtype=np.float64)


class _TooLarge(Exception):
    """A message would exceed :data:`MESSAGE_CELLS`; slice and retry."""


class Growth:
    """Ways to grow one junction tree so a clique holds a given column set.

    For a meeting clique ``t`` on the subtree joining the columns, each column
    is added to every clique on the path from its nearest clique to ``t``:
    the cliques holding a column stay connected (running intersection), and
    ``t`` ends up holding all of the columns. Of the meeting cliques, the one
    giving the fewest cells is kept. Reads the public structure only.
    """

    def __init__(
        self,
        cliques: tuple[tuple[int, ...], ...],
        parents: tuple[int, ...],
        sizes: tuple[int, ...],
    ) -> None:
        self.cliques = cliques
        self.parents = parents
        self.sizes = sizes
        self.sets = [set(c) for c in cliques]
        self.cells = [_cells(c, sizes) for c in cliques]
        self.total = sum(self.cells)
        self.neighbours: list[list[int]] = [[] for _ in cliques]
        for i, p in enumerate(parents):
            if p >= 0:
                self.neighbours[i].append(p)
                self.neighbours[p].append(i)
        self._walks: dict[int, tuple[list[int], dict[int, int]]] = {}

    def _walk(self, target: int) -> tuple[list[int], dict[int, int]]:
        """Cliques by distance from ``target``, and each one's step towards it."""
        if target not in self._walks:
            back = {target: -1}
            queue = deque([target])
            reached: list[int] = []
            while queue:
                i = queue.popleft()
                reached.append(i)
                for j in self.neighbours[i]:
                    if j not in back:
                        back[j] = i
                        queue.append(j)
            self._walks[target] = (reached, back)
        return self._walks[target]

    def _additions(self, columns: tuple[int, ...], target: int) -> dict[int, set[int]]:
        reached, back = self._walk(target)
        added: dict[int, set[int]] = {}
        for x in columns:
            node = next(i for i in reached if x in self.sets[i])
            while node != target:
                node = back[node]
                if x not in self.sets[node]:
                    added.setdefault(node, set()).add(x)
        return added

    def _best(self, columns: tuple[int, ...]) -> tuple[dict[int, set[int]], int]:
        best: dict[int, set[int]] = {}
        best_cells = -1
        for target in steiner(self.cliques, self.parents, columns):
            added = self._additions(columns, target)
            cells = self.total
            for i, extra in added.items():
                cells += self.cells[i] * (_cells(tuple(extra), self.sizes) - 1)
            if best_cells < 0 or cells < best_cells:
                best, best_cells = added, cells
        return best, best_cells

    def holds(self, columns: tuple[int, ...]) -> bool:
        """Whether one clique already holds every one of ``columns``."""
        wanted = set(columns)
        return any(wanted <= c for c in self.sets)

    def cells_with(self, columns: tuple[int, ...]) -> int:
        """Cells of the grown tree, before dropping cliques inside a neighbour.

        An upper bound of :meth:`grow`'s cells; reads the structure only.
        """
        if self.holds(columns):
            return self.total
        return self._best(columns)[1]

    def grow(
        self, columns: tuple[int, ...]
    ) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], int]:
        """The grown tree: cliques, parents (parents first) and cells."""
        if self.holds(columns):
            return self.cliques, self.parents, self.total
        added, _ = self._best(columns)
        grown = [
            tuple(sorted(self.sets[i] | added[i])) if i in added else clique
            for i, clique in enumerate(self.cliques)
        ]
        return _order(grown, list(self.parents), self.sizes)


def grow(
    cliques: tuple[tuple[int, ...], ...],
    parents: tuple[int, ...],
    columns: tuple[int, ...],
    sizes: tuple[int, ...],
) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], int]:
    """The junction tree :class:`Growth` makes to hold ``columns`` in a clique."""
    return Growth(cliques, parents, sizes).grow(columns)


def _einsum(*operands: Any) -> FloatArray:
    """``numpy.einsum`` in its sublist form (arrays and axis labels).

    Labels are column numbers; numpy takes labels below 52 only, so they are
    renumbered in order of appearance for each call.
    """
    local: dict[int, int] = {}
    relabelled = [
        [local.setdefault(c, len(local)) for c in item]
        if isinstance(item, list)
        else item
        for item in operands
    ]
    return np.asarray(np.einsum(*relabelled), dtype=np.float64)


def _cells(clique: tuple[int, ...], sizes: tuple[int, ...] | Mapping[int, int]) -> int:
    return math.prod(sizes[c] for c in clique)


def _order(
    cliques: list[tuple[int, ...]],
    parents: list[int],
    sizes: tuple[int, ...],
) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], int]:
    """Drop cliques inside a neighbour, then list parents before children."""
    n = len(cliques)
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for i, p in enumerate(parents):
        if p >= 0:
            neighbours[i].add(p)
            neighbours[p].add(i)
    alive = [True] * n
    for i in range(n):
        for j in list(neighbours[i]):
            if alive[i] and alive[j] and set(cliques[i]) <= set(cliques[j]):
                # Absorb i into j: i's other neighbours hang from j.
                alive[i] = False
                for k in neighbours[i]:
                    if k != j:
                        neighbours[k].discard(i)
                        neighbours[k].add(j)
                        neighbours[j].add(k)
                neighbours[j].discard(i)
                break
    root = next(i for i in range(n) if alive[i])
    order: list[int] = []
    parent_of = {root: -1}
    queue = deque([root])
    while queue:
        i = queue.popleft()
        order.append(i)
        for j in sorted(neighbours[i]):
            if alive[j] and j not in parent_of:
                parent_of[j] = i
                queue.append(j)
    index = {old: new for new, old in enumerate(order)}
    new_cliques = tuple(cliques[i] for i in order)
    new_parents = tuple(index[parent_of[i]] if parent_of[i] >= 0 else -1 for i in order)
    return new_cliques, new_parents, sum(_cells(c, sizes) for c in new_cliques)


class RoundScores:
    """True tables of the candidate sets (sensitive; cached, never released)."""

    def __init__(
        self,
        codes: npt.NDArray[np.int64],
        sizes: tuple[int, ...],
        noise_penalty: float,
    ) -> None:
        self.codes = codes
        self.sizes = sizes
        self.noise_penalty = noise_penalty
        self.cache: dict[tuple[int, ...], npt.NDArray[np.int32]] = {}
        self.cached_bytes = 0

    def true(self, columns: tuple[int, ...]) -> npt.NDArray[np.int32]:
        """Exact table of ``columns`` (sensitive), kept for the next rounds.

        Stored as 32-bit counts, up to :data:`CACHE_BYTES` in all: every
        round scores every candidate, and on wide tables the tables of all
        pairs and triples would be the rounds' largest memory.
        """
        if columns in self.cache:
            return self.cache[columns]
        table = contingency(self.codes, columns, self.sizes).astype(np.int32)
        if self.cached_bytes + table.nbytes <= CACHE_BYTES:
            self.cache[columns] = table
            self.cached_bytes += table.nbytes
        return table

    def scores(
        self,
        candidates: list[tuple[int, ...]],
        fitted: FittedTree,
        total: float,
        scale: float,
    ) -> FloatArray:
        """``||x_r - total * p_r||_1`` less the expected L1 noise of measuring r.

        Sensitivity :data:`ROUND_SENSITIVITY` under adding or removing one
        record: the model ``fitted`` and ``total`` come from protected tables.
        """
        cell_noise = math.sqrt(2.0 / math.pi) * scale * self.noise_penalty
        out = np.empty(len(candidates), dtype=np.float64)
        for k, columns in enumerate(candidates):
            model = fitted.marginal(columns)
            x = self.true(columns)
            out[k] = float(np.abs(x - total * model).sum()) - cell_noise * x.size
        return out
