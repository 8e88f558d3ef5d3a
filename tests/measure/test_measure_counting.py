"""Exact combination counts against a slow reference loop over records."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthcase.measure
from synthcase.errors import ParameterError
from synthcase.measure import CombinationSpace, ValueIndex, count_combinations
from synthcase.measure.combinations import record_combinations
from synthcase.prepare import ABSENT, EncodedTable

Combination = tuple[tuple[str, str], ...]


def make_table(columns: str, rows: list[str]) -> EncodedTable:
    """A table from rows like ``"a1 b1 _"``; ``_`` is absent.

    Categories are the labels met in each column, sorted.
    """
    names = tuple(columns)
    cells = [row.split() for row in rows]
    categories = tuple(
        tuple(sorted({r[j] for r in cells if r[j] != "_"})) for j in range(len(names))
    )
    codes = np.array(
        [
            [ABSENT if c == "_" else categories[j].index(c) for j, c in enumerate(r)]
            for r in cells
        ],
        dtype=np.int32,
    ).reshape(len(cells), len(names))
    return EncodedTable(names, categories, codes)


def reference_counts(table: EncodedTable, length: int) -> dict[Combination, int]:
    """Count combinations the slow way: every record, every subset of its values."""
    counts: Counter[Combination] = Counter()
    for record in table.decode():
        present = [
            (table.columns[j], label)
            for j, label in enumerate(record)
            if label is not None
        ]
        for combination in itertools.combinations(present, length):
            counts[combination] += 1
    return dict(counts)


def fast_counts(table: EncodedTable, length: int) -> dict[Combination, int]:
    """``count_combinations`` turned into ``{((column, label), ...): count}``."""
    index = ValueIndex.from_cardinalities(table.cardinalities)
    space = CombinationSpace.build(index, length)
    keys, counts = count_combinations(table, space)
    assert np.all(np.diff(keys) > 0), "keys must be sorted and unique"
    assert np.all(counts > 0), "only combinations some record holds"
    ids = space.ids_from_keys(keys)
    columns = index.value_column[ids]
    codes = ids - index.offsets[columns]
    result = {}
    for row_columns, row_codes, count in zip(
        columns.tolist(), codes.tolist(), counts.tolist(), strict=True
    ):
        combination = tuple(
            (table.columns[j], table.categories[j][c])
            for j, c in zip(row_columns, row_codes, strict=True)
        )
        result[combination] = count
    return result


SDS_EXAMPLE = ["a1 b1 c1", "a1 b2 c1", "a2 _ c2", "a2 b2 c1", "a1 b2 _"]


def test_sorted_all_matches_the_public_names() -> None:
    exported = synthcase.measure.__all__
    # ruff's order: CONSTANTS, then Classes, then functions, each alphabetical.
    assert exported == sorted(
        exported, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    public = {
        name
        for name, value in vars(synthcase.measure).items()
        if not name.startswith("_") and not isinstance(value, type(synthcase))
    }
    assert set(exported) == public


def test_worked_example_of_the_dp_marginals_docs() -> None:
    table = make_table("ABC", SDS_EXAMPLE)
    assert fast_counts(table, 1) == {
        (("A", "a1"),): 3,
        (("A", "a2"),): 2,
        (("B", "b1"),): 1,
        (("B", "b2"),): 3,
        (("C", "c1"),): 3,
        (("C", "c2"),): 1,
    }
    assert fast_counts(table, 2) == {
        (("A", "a1"), ("B", "b1")): 1,
        (("A", "a1"), ("B", "b2")): 2,
        (("A", "a1"), ("C", "c1")): 2,
        (("A", "a2"), ("B", "b2")): 1,
        (("A", "a2"), ("C", "c1")): 1,
        (("A", "a2"), ("C", "c2")): 1,
        (("B", "b1"), ("C", "c1")): 1,
        (("B", "b2"), ("C", "c1")): 2,
    }
    assert fast_counts(table, 3) == {
        (("A", "a1"), ("B", "b1"), ("C", "c1")): 1,
        (("A", "a1"), ("B", "b2"), ("C", "c1")): 1,
        (("A", "a2"), ("B", "b2"), ("C", "c1")): 1,
    }


@pytest.mark.parametrize(
    ("columns", "rows"),
    [
        pytest.param("ABC", SDS_EXAMPLE, id="docs-example"),
        pytest.param("A", ["x", "y", "x", "_", "x"], id="one-column"),
        pytest.param("ABCD", ["a1 b1 c1 d1"], id="one-row"),
        pytest.param("AB", ["a b"] * 7 + ["a _"], id="repeated-rows"),
        pytest.param("ABC", ["a1 _ c1", "a2 _ _", "a1 _ c2"], id="all-absent-column"),
        pytest.param("ABC", ["_ _ _", "a _ c", "_ _ _"], id="all-absent-rows"),
        pytest.param("AB", ["a b", "a c", "d b"], id="same-label-other-column"),
    ],
)
def test_counts_match_the_reference_loop(columns: str, rows: list[str]) -> None:
    table = make_table(columns, rows)
    for length in range(1, table.n_columns + 1):
        assert fast_counts(table, length) == reference_counts(table, length), length


def test_reporting_length_equal_to_the_columns_counts_whole_records() -> None:
    table = make_table("ABC", ["a b c", "a b c", "a _ c", "x b c"])
    assert fast_counts(table, 3) == {
        (("A", "a"), ("B", "b"), ("C", "c")): 2,
        (("A", "x"), ("B", "b"), ("C", "c")): 1,
    }


def test_empty_table_has_no_combinations() -> None:
    table = EncodedTable(("A", "B"), (("a",), ("b",)), np.zeros((0, 2), np.int32))
    assert fast_counts(table, 1) == {}
    assert fast_counts(table, 2) == {}


@st.composite
def small_tables(draw: st.DrawFn) -> EncodedTable:
    n_columns = draw(st.integers(1, 4))
    cardinalities = draw(
        st.lists(st.integers(0, 3), min_size=n_columns, max_size=n_columns)
    )
    n_records = draw(st.integers(0, 15))
    codes = np.array(
        [
            [draw(st.integers(-1, card - 1)) for card in cardinalities]
            for _ in range(n_records)
        ],
        dtype=np.int32,
    ).reshape(n_records, n_columns)
    names = tuple(f"C{j}" for j in range(n_columns))
    categories = tuple(tuple(f"v{i}" for i in range(card)) for card in cardinalities)
    return EncodedTable(names, categories, codes)


@settings(max_examples=150, deadline=None)
@given(table=small_tables(), length=st.integers(1, 3))
def test_counts_match_the_reference_on_random_tables(
    table: EncodedTable, length: int
) -> None:
    if length > table.n_columns:
        return
    assert fast_counts(table, length) == reference_counts(table, length)


@settings(max_examples=50, deadline=None)
@given(table=small_tables(), length=st.integers(1, 3), block=st.integers(1, 5))
def test_small_blocks_give_the_same_combinations(
    table: EncodedTable, length: int, block: int
) -> None:
    if length > table.n_columns:
        return
    space = CombinationSpace.build(
        ValueIndex.from_cardinalities(table.cardinalities), length
    )
    whole = [np.column_stack(p) for p in record_combinations(table, space)]
    parts = [
        np.column_stack(p) for p in record_combinations(table, space, block_pairs=block)
    ]
    joined_whole = np.concatenate(whole) if whole else np.zeros((0, 2), np.int64)
    joined_parts = np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)
    np.testing.assert_array_equal(joined_parts, joined_whole)
    # Records increase, and keys increase within a record.
    order = np.lexsort((joined_whole[:, 1], joined_whole[:, 0]))
    np.testing.assert_array_equal(order, np.arange(order.size))


SHUFFLED = ["a1 b1 c1", "a2 b2 _", "a1 _ c2", "a1 b2 c2", "_ b1 c1", "a2 b1 c1"]


def test_row_order_does_not_change_the_counts() -> None:
    table = make_table("ABC", SHUFFLED)
    permutation = np.random.default_rng(3).permutation(table.n_records)
    shuffled = EncodedTable(table.columns, table.categories, table.codes[permutation])
    for length in (1, 2, 3):
        assert fast_counts(shuffled, length) == fast_counts(table, length)


def test_duplicated_rows_double_the_counts() -> None:
    table = make_table("ABC", SHUFFLED)
    doubled = EncodedTable(
        table.columns, table.categories, np.vstack([table.codes, table.codes])
    )
    for length in (1, 2, 3):
        single = fast_counts(table, length)
        assert fast_counts(doubled, length) == {c: 2 * n for c, n in single.items()}


def test_an_extra_column_leaves_the_counts_of_the_others_unchanged() -> None:
    table = make_table("ABC", SHUFFLED)
    extra = make_table("ABCX", [f"{row} x{i % 2}" for i, row in enumerate(SHUFFLED)])
    for length in (1, 2, 3):
        wider = {
            combination: count
            for combination, count in fast_counts(extra, length).items()
            if all(column != "X" for column, _ in combination)
        }
        assert wider == fast_counts(table, length)


# Key layout ----------------------------------------------------------------


@pytest.mark.parametrize("cardinalities", [[2, 3, 4], [3, 0, 2, 1], [1, 1], [5]])
def test_keys_round_trip_and_sort_by_column_set_then_codes(
    cardinalities: list[int],
) -> None:
    index = ValueIndex.from_cardinalities(cardinalities)
    n_columns = len(cardinalities)
    for length in range(1, n_columns + 1):
        space = CombinationSpace.build(index, length)
        expected_total = sum(
            int(np.prod([cardinalities[j] for j in subset]))
            for subset in itertools.combinations(range(n_columns), length)
        )
        assert int(space.starts[-1]) == expected_total
        keys = np.arange(expected_total, dtype=np.int64)
        ids = space.ids_from_keys(keys)
        np.testing.assert_array_equal(space.keys_from_ids(ids), keys)
        # Value ids increase within a combination (sorted, distinct columns).
        assert np.all(np.diff(ids, axis=1) > 0)
        columns = index.value_column[ids]
        codes = ids - index.offsets[columns]
        assert np.all(codes < np.asarray(cardinalities)[columns])
        # Key order is the order of (column set, codes): sets in
        # lexicographic order, then codes with the last column fastest.
        rows = [
            (tuple(c), tuple(v))
            for c, v in zip(columns.tolist(), codes.tolist(), strict=True)
        ]
        assert rows == sorted(rows)
        assert len(set(rows)) == len(rows)
        # keys_from_codes agrees with keys_from_ids set by set.
        for s, subset in enumerate(space.column_sets.tolist()):
            mine = np.all(columns == np.asarray(subset), axis=1)
            np.testing.assert_array_equal(
                space.keys_from_codes(s, codes[mine]), keys[mine]
            )


def test_value_ids_are_grouped_by_column() -> None:
    index = ValueIndex.from_cardinalities([2, 0, 3])
    assert index.offsets.tolist() == [0, 2, 2]
    assert index.n_values == 5
    assert index.value_column.tolist() == [0, 0, 2, 2, 2]
    codes = np.array([[1, ABSENT, 2], [ABSENT, ABSENT, 0]], dtype=np.int32)
    assert index.value_ids(codes).tolist() == [[1, ABSENT, 4], [ABSENT, ABSENT, 2]]


@pytest.mark.parametrize("length", [0, 4, 7])
def test_length_outside_the_columns_is_a_parameter_error(length: int) -> None:
    index = ValueIndex.from_cardinalities([2, 2, 2])
    with pytest.raises(
        ParameterError, match=rf"reporting_length {length} is outside 1\.\.3"
    ):
        CombinationSpace.build(index, length)


def test_key_space_beyond_64_bits_is_a_parameter_error() -> None:
    index = ValueIndex.from_cardinalities([100] * 12)
    with pytest.raises(ParameterError, match="more than this version can number"):
        CombinationSpace.build(index, 10)
    # Shorter combinations over the same columns still fit.
    assert CombinationSpace.build(index, 3).n_sets == 220


@pytest.mark.parametrize(
    ("cardinalities", "length"),
    [pytest.param([2**21] * 3, 3, id="2^63"), pytest.param([2**16] * 4, 4, id="2^64")],
)
def test_a_key_space_that_wraps_int64_is_refused(
    cardinalities: list[int], length: int
) -> None:
    # Sizes that wrap int64 to a negative number or to 0 must not slip past.
    index = ValueIndex.from_cardinalities(cardinalities)
    with pytest.raises(ParameterError, match="more than this version can number"):
        CombinationSpace.build(index, length)
