"""Live risk: the vectorised count against a slow loop, and cancellation."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import Counter

import numpy as np
import pytest

from synthcase.errors import ParameterError
from synthcase.prepare import EncodedTable
from synthcase.web.risk import LiveRisk, RiskCancelled, rare_risk

RNG = np.random.default_rng(5)
CODES = RNG.integers(-1, 3, size=(60, 4)).astype(np.int32)
TABLE = EncodedTable(
    columns=("a", "b", "c", "d"),
    categories=(
        ("a0", "a1", "a2"),
        ("b0", "b1", "b2"),
        ("c0", "c1", "c2"),
        ("d0", "d1", "d2"),
    ),
    codes=CODES,
)


def slow_shares(table: EncodedTable, length: int, k: int) -> list[float]:
    """Share of records holding a rare combination of 1..length values."""
    records = [
        {(j, int(c)) for j, c in enumerate(row) if c >= 0} for row in table.codes
    ]
    held = [
        [
            frozenset(c)
            for r in range(1, length + 1)
            for c in itertools.combinations(sorted(rec), r)
        ]
        for rec in records
    ]
    shares = []
    for top in range(1, length + 1):
        counts = Counter(c for combos in held for c in combos if len(c) <= top)
        exposed = sum(
            any(counts[c] < k for c in combos if len(c) <= top) for combos in held
        )
        shares.append(exposed / len(records))
    return shares


@pytest.mark.parametrize(("length", "k"), [(1, 2), (2, 5), (3, 4), (4, 10)])
def test_shares_match_a_slow_loop(length: int, k: int) -> None:
    risk = rare_risk(TABLE, length, k)
    assert risk.by_length == pytest.approx(slow_shares(TABLE, length, k))
    assert risk.share == risk.by_length[-1]


def test_most_linkable_columns_and_values_are_ranked() -> None:
    risk = rare_risk(TABLE, 2, 5)
    shares = [item.share for item in risk.columns]
    assert shares == sorted(shares, reverse=True)
    # Each rare pair uses two columns, each rare single value one.
    total_column_share = sum(item.share for item in risk.columns)
    assert 1.0 <= total_column_share <= 2.0
    assert all(item.value is not None for item in risk.values)


def test_common_data_has_no_risk() -> None:
    table = EncodedTable(("a",), (("x",),), np.zeros((30, 1), dtype=np.int32))
    risk = rare_risk(table, 1, 10)
    assert risk.share == 0.0
    assert risk.columns == () and risk.values == ()


def test_cancelled_computation_raises() -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(RiskCancelled):
        rare_risk(TABLE, 3, 5, cancel=cancel)


def test_too_long_combination_names_the_fix() -> None:
    with pytest.raises(ParameterError, match="lower reporting_length"):
        rare_risk(TABLE, 5, 5)


def test_only_the_latest_request_gets_a_result() -> None:
    live = LiveRisk()

    async def race() -> list[object]:
        first = asyncio.create_task(live.compute(TABLE, 3, 5))
        await asyncio.sleep(0)
        second = asyncio.create_task(live.compute(TABLE, 2, 5))
        return list(await asyncio.gather(first, second))

    try:
        first, second = asyncio.run(race())
    finally:
        live.close()
    assert first is None
    assert second is not None and second.reporting_length == 2


def test_error_of_the_latest_request_is_raised() -> None:
    live = LiveRisk()
    try:
        with pytest.raises(ParameterError):
            asyncio.run(live.compute(TABLE, 9, 5))
    finally:
        live.close()
