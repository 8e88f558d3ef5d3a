"""Live risk of a linked file: persons counted once, against a slow loop."""

from __future__ import annotations

import itertools
import pathlib
import threading

import numpy as np
import pandas as pd
import pytest

from synthcase.errors import ParameterError
from synthcase.prepare import EncodedTable
from synthcase.web.risk import RiskCancelled, rare_risk
from synthcase.web.state import Workspace

# Person 0 has three rows holding x, persons 1 and 2 one row holding y.
THREE_PERSONS = EncodedTable(
    columns=("a",),
    categories=(("x", "y"),),
    codes=np.array([[0], [0], [0], [1], [1]], dtype=np.int32),
    subject_ids=np.array([0, 0, 0, 1, 2], dtype=np.int64),
)

RNG = np.random.default_rng(11)
CODES = RNG.integers(-1, 3, size=(80, 3)).astype(np.int32)
PERSONS = RNG.integers(0, 30, size=80).astype(np.int64)
TABLE = EncodedTable(
    columns=("a", "b", "c"),
    categories=(("a0", "a1", "a2"), ("b0", "b1", "b2"), ("c0", "c1", "c2")),
    codes=CODES,
    subject_ids=PERSONS,
)


def slow_person_shares(table: EncodedTable, length: int, k: int) -> list[float]:
    """Share of persons holding, in one of their rows, a combination of
    1..length values that fewer than k persons hold."""
    assert table.subject_ids is not None
    held: dict[int, set[frozenset[tuple[int, int]]]] = {}
    for row, person in zip(table.codes, table.subject_ids, strict=True):
        present = sorted((j, int(c)) for j, c in enumerate(row) if c >= 0)
        combos = held.setdefault(int(person), set())
        for r in range(1, length + 1):
            combos.update(frozenset(c) for c in itertools.combinations(present, r))
    shares = []
    for top in range(1, length + 1):
        persons_of: dict[frozenset[tuple[int, int]], int] = {}
        for combos in held.values():
            for combo in combos:
                if len(combo) <= top:
                    persons_of[combo] = persons_of.get(combo, 0) + 1
        exposed = sum(
            any(persons_of[c] < k for c in combos if len(c) <= top)
            for combos in held.values()
        )
        shares.append(exposed / len(held))
    return shares


def test_a_person_with_several_rows_counts_once() -> None:
    # By rows x (3 rows) is common at k = 3 and y (2 rows) rare: 2 of 5
    # rows. By persons x is held by one person and y by two: all 3 rare.
    rows = EncodedTable(
        THREE_PERSONS.columns, THREE_PERSONS.categories, THREE_PERSONS.codes
    )
    assert rare_risk(rows, 1, 3).by_length == (pytest.approx(2 / 5),)
    assert rare_risk(rows, 1, 3).unit == "record"
    persons = rare_risk(THREE_PERSONS, 1, 3)
    assert persons.unit == "person"
    assert persons.by_length == (1.0,)
    # At k = 2 only x (one person) is rare: 1 of 3 persons.
    assert rare_risk(THREE_PERSONS, 1, 2).by_length == (pytest.approx(1 / 3),)
    (column,) = rare_risk(THREE_PERSONS, 1, 2).columns
    assert (column.column, column.value, column.share) == ("a", None, 1.0)
    (value,) = rare_risk(THREE_PERSONS, 1, 2).values
    assert (value.column, value.value, value.share) == ("a", "x", 1.0)


@pytest.mark.parametrize(("length", "k"), [(1, 2), (2, 3), (3, 4)])
def test_person_shares_match_a_slow_loop(length: int, k: int) -> None:
    risk = rare_risk(TABLE, length, k)
    assert risk.by_length == pytest.approx(slow_person_shares(TABLE, length, k))
    shares = [item.share for item in risk.columns]
    assert shares == sorted(shares, reverse=True)


def test_too_long_combination_names_the_fix_for_persons() -> None:
    with pytest.raises(ParameterError, match="lower reporting_length"):
        rare_risk(TABLE, 4, 5)


def test_cancelled_person_count_raises() -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(RiskCancelled):
        rare_risk(TABLE, 2, 5, cancel=cancel)


def test_the_select_table_of_a_linked_file_counts_persons(
    tmp_path: pathlib.Path,
) -> None:
    frame = pd.DataFrame(
        {
            "victim_id": ["v1", "v1", "v1", "v2", "v3"],
            "relation": ["family", "family", "family", "friend", "friend"],
        }
    )
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    space = Workspace(private, 1_000_000)
    try:
        space.load("linked.csv", frame.to_csv(index=False).encode())
        space.preparation.subject_id = "victim_id"
        space.prepare(profile=False)
        table = space.selected_table()
        assert table is not None and table.columns == ("relation",)
        risk = rare_risk(table, 1, 3)
    finally:
        space.close()
    assert risk.unit == "person" and risk.by_length == (1.0,)
