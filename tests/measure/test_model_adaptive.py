"""The adaptive rounds' junction-tree helpers against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthcase.measure import _model_adaptive as adaptive
from synthcase.measure._model_adaptive import FittedTree, candidate_sets, grow
from synthcase.measure._model_tree import Tree, calibrate


def _random_tree(
    rng: np.random.Generator, columns: int
) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """A junction tree of triangles: each new column joins two of a clique."""
    cliques = [(0, 1, 2)]
    parents = [-1]
    for c in range(3, columns):
        p = int(rng.integers(0, len(cliques)))
        a, b = rng.choice(cliques[p], size=2, replace=False)
        cliques.append(tuple(sorted((int(a), int(b), c))))
        parents.append(p)
    return tuple(cliques), tuple(parents)


def _joint(
    cliques: tuple[tuple[int, ...], ...],
    theta: list[np.ndarray],
    sizes: tuple[int, ...],
) -> np.ndarray:
    """The full distribution ``prod exp(theta_C) / Z`` on the whole grid."""
    log_p = np.zeros(sizes)
    for clique, t in zip(cliques, theta, strict=True):
        shape = [sizes[c] if c in clique else 1 for c in range(len(sizes))]
        log_p = log_p + t.reshape(shape)
    p = np.exp(log_p - log_p.max())
    return p / p.sum()


def _random_model(
    rng: np.random.Generator, columns: int, largest: int
) -> tuple[FittedTree, np.ndarray]:
    """A fitted random tree (2 to ``largest`` values a column), its distribution."""
    sizes = tuple(int(x) for x in rng.integers(2, largest + 1, columns))
    cliques, parents = _random_tree(rng, columns)
    tree = Tree(cliques, parents, sizes)
    theta = [rng.normal(size=tree.shape(i)) for i in range(len(cliques))]
    fitted = FittedTree(cliques, parents, calibrate(tree, theta))
    return fitted, _joint(cliques, theta, sizes)


def _is_junction_tree(
    cliques: tuple[tuple[int, ...], ...], parents: tuple[int, ...]
) -> bool:
    """Parents come first and every column's cliques form a connected subtree."""
    if parents[0] != -1 or any(not 0 <= p < i for i, p in enumerate(parents) if i):
        return False
    for column in set().union(*cliques):
        holding = [i for i, c in enumerate(cliques) if column in c]
        # Connected: exactly one holding clique has a parent outside the set.
        tops = [
            i for i in holding if parents[i] < 0 or column not in cliques[parents[i]]
        ]
        if len(tops) != 1:
            return False
    return True


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_marginal_of_any_set_matches_the_full_distribution(seed: int) -> None:
    fitted, joint = _random_model(np.random.default_rng(seed), 7, 3)
    for size in (1, 2, 3):
        for columns in itertools.combinations(range(7), size):
            others = tuple(c for c in range(7) if c not in columns)
            expected = joint.sum(axis=others)
            np.testing.assert_allclose(fitted.marginal(columns), expected, atol=1e-12)


def test_a_query_too_large_for_one_message_is_sliced_by_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fitted, joint = _random_model(np.random.default_rng(8), 8, 4)
    # Every message of more than 4 cells must be sliced.
    monkeypatch.setattr(adaptive, "MESSAGE_CELLS", 4)
    for columns in itertools.combinations(range(8), 3):
        others = tuple(c for c in range(8) if c not in columns)
        np.testing.assert_allclose(
            fitted.marginal(columns), joint.sum(axis=others), atol=1e-12
        )


def test_calibrate_matches_the_full_distribution() -> None:
    rng = np.random.default_rng(5)
    sizes = (3, 2, 4, 2, 3, 2)
    cliques, parents = _random_tree(rng, 6)
    tree = Tree(cliques, parents, sizes)
    # Large potentials: linear-space passing must neither overflow nor lose
    # the small cells.
    theta = [rng.normal(scale=30.0, size=tree.shape(i)) for i in range(len(cliques))]
    joint = _joint(cliques, theta, sizes)
    for clique, mu in zip(cliques, calibrate(tree, theta), strict=True):
        others = tuple(c for c in range(6) if c not in clique)
        np.testing.assert_allclose(mu, joint.sum(axis=others), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    columns=st.lists(st.integers(0, 8), min_size=2, max_size=3, unique=True),
)
def test_grow_keeps_a_junction_tree_holding_the_set(
    seed: int, columns: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    cliques, parents = _random_tree(rng, 9)
    sizes = tuple(int(x) for x in rng.integers(2, 5, 9))
    wanted = tuple(sorted(columns))
    grown, grown_parents, cells = grow(cliques, parents, wanted, sizes)
    assert _is_junction_tree(grown, grown_parents)
    assert any(set(wanted) <= set(c) for c in grown)
    for clique in cliques:
        assert any(set(clique) <= set(c) for c in grown)
    assert cells == sum(int(np.prod([sizes[c] for c in g])) for g in grown)


def test_grow_carries_a_column_along_the_path_only() -> None:
    # A chain (0,1) - (1,2) - (2,3): linking 0 and 3 carries one of them to
    # the other's end (two triangles), not both columns into every clique.
    cliques = ((0, 1), (1, 2), (2, 3))
    grown, parents, cells = grow(cliques, (-1, 0, 1), (0, 3), (2, 2, 2, 2))
    assert sorted(grown) in ([(0, 1, 2), (0, 2, 3)], [(0, 1, 3), (1, 2, 3)])
    assert cells == 16
    assert _is_junction_tree(grown, parents)


def test_grow_leaves_a_tree_that_already_holds_the_set() -> None:
    cliques = ((0, 1, 2), (2, 3))
    assert grow(cliques, (-1, 0), (0, 2), (2, 2, 2, 2)) == (cliques, (-1, 0), 12)


def test_candidate_sets_are_pairs_and_triples_within_the_cell_cap() -> None:
    found = candidate_sets((10, 10, 10, 2), 3, 200)
    assert (0, 1) in found and (0, 1, 3) in found
    assert (0, 1, 2) not in found  # 1000 cells
    assert all(len(c) in (2, 3) for c in found)
    assert candidate_sets((10, 10, 10, 2), 2, 10_000) == list(
        itertools.combinations(range(4), 2)
    )
