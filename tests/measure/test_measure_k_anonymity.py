"""k-anonymous aggregates: hand-computed counts, a slow reference, real data."""

from __future__ import annotations

import itertools
from collections import Counter
from importlib.resources import as_file, files
from pathlib import Path

import numpy as np
import pytest

from synthcase.errors import ParameterError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.k_anonymity import (
    K_ANONYMITY_MODES,
    k_anonymity_statement,
    k_anonymous_aggregates,
    k_anonymous_counts,
)
from synthcase.prepare import BinSpec, EncodedTable, ReadOptions, load_table

MA_COLUMNS = (
    "PUMA", "AGEP", "SEX", "MSP", "HISP", "RAC1P", "NOC", "NPF", "HOUSING_TYPE",
    "OWN_RENT", "DENSITY", "INDP_CAT", "EDU", "PINCP_DECILE", "DVET", "DREM",
    "DPHY", "DEYE", "DEAR",
)  # fmt: skip


def table_of(
    rows: list[tuple[str | None, ...]], columns: tuple[str, ...]
) -> EncodedTable:
    categories = tuple(
        tuple(sorted({r[j] for r in rows if r[j] is not None}))
        for j in range(len(columns))
    )
    codes = np.array(
        [
            [-1 if v is None else categories[j].index(v) for j, v in enumerate(r)]
            for r in rows
        ],
        dtype=np.int32,
    ).reshape(len(rows), len(columns))
    return EncodedTable(columns, categories, codes)


def released(aggregates: Aggregates) -> dict[str, int]:
    frame = aggregates.to_frame()
    return dict(zip(frame["selections"], frame["protected_count"], strict=True))


@pytest.fixture(scope="module")
def ma2019() -> EncodedTable:
    with as_file(files("synthcase") / "data" / "ma2019.csv") as path:
        options = ReadOptions(
            null_tokens=("N",),
            columns=MA_COLUMNS,
            bins=(BinSpec.parse("AGEP=0,18,30,45,65,120"),),
        )
        return load_table(Path(path), options)


def test_hand_computed_table() -> None:
    rows = (
        [("a1", "b1")] * 12
        + [("a1", "b2")] * 5
        + [("a2", "b1")] * 3
        + [("a3", None)] * 4
    )
    aggregates = k_anonymous_aggregates(
        table_of(rows, ("A", "B")), resolution=5, reporting_length=2
    )
    # a1: 17 -> 15, b1: 15, b2: 5; a2 (3) and a3 (4) are below k = 5.
    assert aggregates.categories == (("a1",), ("b1", "b2"))
    assert aggregates.record_count == 20  # 24 rounded down
    assert released(aggregates) == {
        "A:a1": 15,
        "B:b1": 15,
        "B:b2": 5,
        "A:a1;B:b1": 10,
        "A:a1;B:b2": 5,
    }
    assert aggregates.to_frame()["length"].tolist() == [1, 1, 1, 2, 2]


def test_suppressed_labels_leave_no_trace() -> None:
    rows = [("common", "x")] * 10 + [("rare-name", "x")] * 9
    aggregates = k_anonymous_aggregates(
        table_of(rows, ("name", "flag")), resolution=10, reporting_length=2
    )
    assert aggregates.categories == (("common",), ("x",))
    assert "rare-name" not in repr(aggregates.to_frame())
    assert released(aggregates) == {
        "name:common": 10,
        "flag:x": 10,
        "name:common;flag:x": 10,
    }


def test_a_table_smaller_than_k_releases_nothing() -> None:
    aggregates = k_anonymous_aggregates(
        table_of([("a", "b")] * 9, ("A", "B")), resolution=10, reporting_length=2
    )
    assert aggregates.record_count == 0
    assert aggregates.categories == ((), ())
    assert [c.shape for c in aggregates.combinations] == [(0, 1), (0, 2)]


def slow_reference(table: EncodedTable, k: int, length: int) -> dict[str, int]:
    """Count every combination with a Python loop over the records."""
    counts: Counter[tuple[tuple[str, str], ...]] = Counter()
    for record in table.decode():
        present = [(c, v) for c, v in zip(table.columns, record, strict=True) if v]
        for size in range(1, length + 1):
            counts.update(itertools.combinations(present, size))
    return {
        ";".join(f"{c}:{v}" for c, v in combo): n // k * k
        for combo, n in counts.items()
        if n >= k
    }


@pytest.mark.parametrize("k", [2, 3, 7])
def test_matches_a_slow_reference_loop(k: int) -> None:
    rng = np.random.default_rng(k)
    codes = rng.integers(-1, 3, size=(300, 5)).astype(np.int32)
    categories = tuple(("p", "q", "r") for _ in range(5))
    table = EncodedTable(("A", "B", "C", "D", "E"), categories, codes)
    aggregates = k_anonymous_aggregates(table, resolution=k, reporting_length=3)
    assert released(aggregates) == slow_reference(table, k, 3)
    assert aggregates.record_count == 300 // k * k


def test_row_order_and_table_numbering_do_not_matter() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(-1, 4, size=(200, 4)).astype(np.int32)
    table = EncodedTable(("A", "B", "C", "D"), (("u", "v", "w", "z"),) * 4, codes)
    shuffled = EncodedTable(table.columns, table.categories, codes[::-1].copy())
    first = k_anonymous_aggregates(table, resolution=4, reporting_length=3)
    second = k_anonymous_aggregates(shuffled, resolution=4, reporting_length=3)
    assert released(first) == released(second)
    # The table-numbered counts hold the same numbers, keys sorted.
    counts = k_anonymous_counts(table, resolution=4, reporting_length=3)
    for (keys, held), length_counts in zip(counts, first.counts, strict=True):
        assert (np.diff(keys) > 0).all()
        assert sorted(held.tolist()) == sorted(length_counts.tolist())


def test_round_trips_through_the_aggregates_file(tmp_path: Path) -> None:
    rows = [("a", "x")] * 12 + [("b", "x")] * 6 + [("b", "y")] * 5
    aggregates = k_anonymous_aggregates(
        table_of(rows, ("A", "B")), resolution=5, reporting_length=2
    )
    aggregates.write_tsv(tmp_path / "aggregates.tsv")
    back = Aggregates.read_tsv(tmp_path / "aggregates.tsv", columns=("A", "B"))
    assert released(back) == released(aggregates)
    assert back.record_count == 20


@pytest.mark.parametrize(
    ("resolution", "length", "message"),
    [
        (1, 2, r"resolution is 1; it must be >= 2.*--resolution 10"),
        (0, 2, r"resolution is 0; it must be >= 2"),
        (2.5, 2, r"resolution is 2\.5; it must be a whole number >= 2"),
        (True, 2, r"resolution is True; it must be a whole number"),
        (10, 0, r"reporting_length is 0; it must be a whole number in 1\.\.2"),
        (10, 3, r"reporting_length is 3; .* in 1\.\.2 .*--reporting-length"),
    ],
)
def test_parameter_errors(resolution: object, length: object, message: str) -> None:
    table = table_of([("a", "b")] * 20, ("A", "B"))
    with pytest.raises(ParameterError, match=message):
        k_anonymous_aggregates(table, resolution=resolution, reporting_length=length)  # type: ignore[arg-type]


def test_refuses_tables_with_several_rows_per_subject() -> None:
    base = table_of([("a", "b")] * 20, ("A", "B"))
    linked = EncodedTable(
        base.columns, base.categories, base.codes, subject_ids=np.arange(20) // 2
    )
    with pytest.raises(ParameterError, match="k-anonymity counts rows"):
        k_anonymous_aggregates(linked, resolution=5, reporting_length=1)


@pytest.mark.slow
def test_full_ma2019_release(ma2019: EncodedTable) -> None:
    k, r = 10, 3
    aggregates = k_anonymous_aggregates(ma2019, resolution=k, reporting_length=r)
    assert aggregates.record_count == 7630  # 7634 rounded down
    assert aggregates.reporting_length == r
    for counts in aggregates.counts:
        assert counts.size > 0
        assert (counts >= k).all() and (counts % k == 0).all()
    # Every released count brackets the true count: c <= true < c + k.
    index = aggregates.index
    value_column = index.value_column
    rng = np.random.default_rng(0)
    for combos, counts in zip(aggregates.combinations, aggregates.counts, strict=True):
        for row in rng.choice(combos.shape[0], size=50, replace=False):
            held = np.ones(ma2019.n_records, dtype=bool)
            for v in combos[row]:
                j = int(value_column[v])
                label = aggregates.categories[j][int(v - index.offsets[j])]
                held &= ma2019.codes[:, j] == ma2019.categories[j].index(label)
            assert counts[row] <= held.sum() < counts[row] + k
    # Values under k are gone: the singles are exactly the values held >= k times.
    for j, labels in enumerate(aggregates.categories):
        present = ma2019.codes[:, j][ma2019.codes[:, j] >= 0]
        frequent = np.flatnonzero(np.bincount(present) >= k)
        assert labels == tuple(ma2019.categories[j][c] for c in frequent)


@pytest.mark.parametrize("mode", K_ANONYMITY_MODES)
def test_statement_names_k_and_what_is_not_protected(mode: str) -> None:
    text = k_anonymity_statement(10, 3, mode)
    flat = " ".join(text.split())
    assert text.startswith("# Privacy statement")
    assert "k = 10" in text
    assert "group of fewer than 10 people" in flat
    assert "a listed 20" in flat and "20 to 29 people" in flat
    assert f"*{mode}* mode" in flat
    for limit in (
        "Facts shared by a whole group",
        "not differential",
        "Outside knowledge",
    ):
        assert limit in text
    if mode == "aggregate-seeded":
        assert "Combinations of more than 3" in text
    else:
        assert "however long" in text
    assert all(len(line) <= 88 for line in text.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((10, 3, "dp"), r"mode 'dp' is unknown; choose one of row-seeded"),
        ((1, 3, "unseeded"), r"resolution is 1; it must be a whole number >= 2"),
        ((10, 0, "unseeded"), r"reporting_length is 0"),
    ],
)
def test_statement_errors(args: tuple[int, int, str], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        k_anonymity_statement(*args)
