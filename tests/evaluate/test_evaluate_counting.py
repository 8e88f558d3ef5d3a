"""The block counter against a slow loop over records, dense and sparse."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from synthcase.evaluate import cells
from synthcase.evaluate.counting import count_units, units_at_risk
from synthcase.measure import CombinationSpace, ValueIndex
from synthcase.prepare import EncodedTable


def _table(seed: int, subjects: bool) -> EncodedTable:
    rng = np.random.default_rng(seed)
    cards = [3, 2, 4, 1, 5]
    codes = np.column_stack([rng.integers(0, c, 60) for c in cards])
    codes[rng.random(codes.shape) < 0.2] = -1
    ids = rng.integers(0, 25, 60) if subjects else None
    return EncodedTable(
        tuple("ABCDE"),
        tuple(tuple(f"v{i}" for i in range(c)) for c in cards),
        codes.astype(np.int32),
        subject_ids=ids,
    )


def _slow_counts(table: EncodedTable, length: int) -> tuple[Counter, dict]:
    """Units holding each combination, and the combinations of each unit."""
    units = table.subject_ids if table.subject_ids is not None else range(60)
    held: dict[object, set] = {}
    for unit, row in zip(units, table.codes.tolist(), strict=True):
        present = [(j, c) for j, c in enumerate(row) if c >= 0]
        for combo in itertools.combinations(present, length):
            held.setdefault(unit, set()).add(combo)
    counts = Counter(c for combos in held.values() for c in combos)
    return counts, held


@pytest.mark.parametrize("block_cells", [7, 100, 2_000_000])
@pytest.mark.parametrize("subjects", [False, True])
@pytest.mark.parametrize("dense_limit", [0, 10**9])
@pytest.mark.parametrize("length", [1, 2, 3])
def test_counts_and_risk_match_a_slow_loop(
    monkeypatch: pytest.MonkeyPatch,
    block_cells: int,
    subjects: bool,
    dense_limit: int,
    length: int,
) -> None:
    # Tiny blocks split the records (never a subject) and the column sets.
    monkeypatch.setattr(cells, "_BLOCK_CELLS", block_cells)
    monkeypatch.setattr(cells, "_CHUNK_CELLS", block_cells // 3)
    table = _table(length, subjects)
    space = CombinationSpace.build(
        ValueIndex.from_cardinalities(table.cardinalities), length
    )
    result = count_units(table, space, by_subject=subjects, dense_limit=dense_limit)
    expected, held = _slow_counts(table, length)

    ids = space.ids_from_keys(result.keys)
    columns = space.index.value_column[ids]
    codes = ids - space.index.offsets[columns]
    found = {
        tuple(zip(col.tolist(), code.tolist(), strict=True)): int(n)
        for col, code, n in zip(columns, codes, result.counts, strict=True)
    }
    assert found == dict(expected)
    assert np.all(np.diff(result.keys) > 0)

    # Every subject is a unit, also one holding no combination of the length.
    units = sorted(set(table.subject_ids.tolist())) if subjects else range(60)
    unique, rare = units_at_risk(table, result, 3, by_subject=subjects)
    assert unique.tolist() == [
        any(expected[c] == 1 for c in held.get(u, ())) for u in units
    ]
    assert rare.tolist() == [
        any(expected[c] < 3 for c in held.get(u, ())) for u in units
    ]


def test_a_subject_with_forty_records_counts_once_per_combination() -> None:
    # One subject owns 40 records, two of them different; the others one each.
    codes = np.zeros((43, 2), dtype=np.int32)
    codes[5] = [1, 0]
    codes[39] = [0, 1]
    codes[40:] = [[1, 1], [0, 1], [1, 0]]
    ids = np.array([7] * 40 + [1, 2, 9])
    table = EncodedTable(("A", "B"), (("a0", "a1"), ("b0", "b1")), codes, ids)
    space = CombinationSpace.build(
        ValueIndex.from_cardinalities(table.cardinalities), 2
    )
    result = count_units(table, space, by_subject=True)
    # Pairs a0b0, a0b1, a1b0, a1b1: the heavy subject holds the first three.
    assert result.counts.tolist() == [1, 2, 2, 1]
    unique, _ = units_at_risk(table, result, 2, by_subject=True)
    # Units in subject order 1, 2, 7, 9: subject 1 alone holds a1b1, 7 a0b0.
    assert unique.tolist() == [True, False, True, False]
