"""The four k-anonymity synthesizers: exact outputs, guarantees, real data.

The guarantees are checked here with code independent of the synthesizers:
the number of sensitive rows holding a synthetic record is counted with plain
boolean row masks, and combinations of up to R values with the exact counter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from importlib.resources import as_file, files
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from synthcase.errors import ParameterError
from synthcase.measure.combinations import (
    CombinationSpace,
    ValueIndex,
    count_combinations,
)
from synthcase.measure.k_anonymity import k_anonymous_aggregates
from synthcase.prepare import BinSpec, EncodedTable, ReadOptions, load_table
from synthcase.synthesize._kanon_aggregate_seeded import (
    synthesize_k_aggregate_seeded,
)
from synthcase.synthesize._kanon_settings import KAnonymitySettings
from synthcase.synthesize.row_seeded import synthesize_row_seeded
from synthcase.synthesize.unseeded import synthesize_unseeded
from synthcase.synthesize.value_seeded import synthesize_value_seeded

Synthesizer = Callable[[EncodedTable, KAnonymitySettings], pd.DataFrame]
Codes = npt.NDArray[np.int32]

MODES: dict[str, Synthesizer] = {
    "row-seeded": synthesize_row_seeded,
    "value-seeded": synthesize_value_seeded,
    "unseeded": synthesize_unseeded,
    "aggregate-seeded": synthesize_k_aggregate_seeded,
}
WHOLE_RECORD_MODES = ("row-seeded", "value-seeded", "unseeded")
ROUNDED_COUNT_MODES = ("row-seeded", "value-seeded")

MA_COLUMNS = (
    "PUMA", "AGEP", "SEX", "MSP", "HISP", "RAC1P", "NOC", "NPF", "HOUSING_TYPE",
    "OWN_RENT", "DENSITY", "INDP_CAT", "EDU", "PINCP_DECILE", "DVET", "DREM",
    "DPHY", "DEYE", "DEAR",
)  # fmt: skip
TX_COLUMNS = (
    "PUMA", "AGEP", "SEX", "MSP", "HISP", "RAC1P", "HOUSING_TYPE", "OWN_RENT",
    "EDU", "PINCP_DECILE", "DREM", "DEAR",
)  # fmt: skip
NIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "nist-dce"


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


def encode(table: EncodedTable, frame: pd.DataFrame) -> Codes:
    """The synthetic labels as codes of the sensitive table (-1 absent)."""
    assert tuple(frame.columns) == table.columns
    codes = np.full(frame.shape, -1, dtype=np.int32)
    for j, labels in enumerate(table.categories):
        lookup = {label: i for i, label in enumerate(labels)}
        for i, cell in enumerate(frame.iloc[:, j].tolist()):
            if cell is not pd.NA:
                codes[i, j] = lookup[cell]
    return codes


def multiset(frame: pd.DataFrame) -> Counter[tuple[str | None, ...]]:
    return Counter(
        tuple(None if v is pd.NA else v for v in row)
        for row in frame.itertuples(index=False)
    )


def support(table: EncodedTable, codes: Codes) -> npt.NDArray[np.int64]:
    """Sensitive rows holding every value of each synthetic record."""
    masks = {
        (j, c): np.packbits(table.codes[:, j] == c)
        for j in range(table.n_columns)
        for c in range(len(table.categories[j]))
    }
    everyone = np.packbits(np.ones(table.n_records, dtype=bool))
    unique, inverse = np.unique(codes, axis=0, return_inverse=True)
    held = np.empty(unique.shape[0], dtype=np.int64)
    for i, row in enumerate(unique):
        both = everyone.copy()
        for j in np.flatnonzero(row >= 0):
            both &= masks[(int(j), int(row[j]))]
        held[i] = int(np.bitwise_count(both).sum())
    return held[inverse.reshape(-1)]


def combination_counts(
    table: EncodedTable, codes: Codes, length: int
) -> tuple[dict[int, int], dict[int, int]]:
    """Exact counts by key of the sensitive and the synthetic combinations."""
    space = CombinationSpace.build(
        ValueIndex.from_cardinalities(table.cardinalities), length
    )
    synthetic = EncodedTable(table.columns, table.categories, codes)
    sensitive_keys, sensitive_counts = count_combinations(table, space)
    synthetic_keys, synthetic_counts = count_combinations(synthetic, space)
    return (
        dict(zip(sensitive_keys.tolist(), sensitive_counts.tolist(), strict=True)),
        dict(zip(synthetic_keys.tolist(), synthetic_counts.tolist(), strict=True)),
    )


def check_guarantees(
    table: EncodedTable, frame: pd.DataFrame, mode: str, k: int, length: int
) -> Codes:
    """Assert the documented guarantee of ``mode``; return the codes."""
    codes = encode(table, frame)
    assert (codes >= 0).any(axis=1).all(), "empty records are dropped"
    for size in range(1, length + 1):
        sensitive, synthetic = combination_counts(table, codes, size)
        rare = {key for key in synthetic if sensitive.get(key, 0) < k}
        assert not rare, f"{mode}: {len(rare)} combinations of {size} held < {k} times"
    if mode in WHOLE_RECORD_MODES and len(codes):
        held = support(table, codes)
        assert held.min() >= k, f"{mode}: a whole record is held {held.min()} times"
    if mode in ROUNDED_COUNT_MODES:
        for j in range(table.n_columns):
            sensitive = np.bincount(
                table.codes[:, j][table.codes[:, j] >= 0],
                minlength=len(table.categories[j]),
            )
            synthetic = np.bincount(
                codes[:, j][codes[:, j] >= 0], minlength=len(table.categories[j])
            )
            assert synthetic.tolist() == (sensitive // k * k).tolist(), table.columns[j]
    return codes


@pytest.fixture(scope="module")
def ma2019() -> EncodedTable:
    with as_file(files("synthcase") / "data" / "ma2019.csv") as path:
        options = ReadOptions(
            null_tokens=("N",),
            columns=MA_COLUMNS,
            bins=(BinSpec.parse("AGEP=0,18,30,45,65,120"),),
        )
        return load_table(Path(path), options)


@pytest.fixture(scope="module")
def tx2019() -> EncodedTable:
    path = NIST / "tx2019.csv"
    if not path.is_file():
        pytest.skip(f"NIST excerpt {path} is not on this machine")
    options = ReadOptions(
        null_tokens=("N",),
        columns=TX_COLUMNS,
        record_limit=3000,
        bins=(BinSpec.parse("AGEP=0,18,30,45,65,120"),),
    )
    return load_table(path, options)


# --- hand-made tables with exact outputs -------------------------------------

TWO_GROUPS = [("a", "x")] * 12 + [("a", "y")] * 3


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mode", ROUNDED_COUNT_MODES)
def test_two_groups_exact_output(mode: str, seed: int) -> None:
    # a: 15, x: 12 -> 10, y: 3 -> 0 (k = 5). Every record holds a; x only
    # with a, since (a, x) is held 12 times; y never, since it is held 3 times.
    table = table_of(TWO_GROUPS, ("A", "B"))
    settings = KAnonymitySettings(resolution=5, reporting_length=2, seed=seed)
    frame = MODES[mode](table, settings)
    assert multiset(frame) == {("a", "x"): 10, ("a", None): 5}


def test_two_groups_unseeded() -> None:
    table = table_of(TWO_GROUPS, ("A", "B"))
    settings = KAnonymitySettings(resolution=5, reporting_length=2, seed=3)
    frame = synthesize_unseeded(table, settings)
    # At most 15 records (the k-rounded count); a record following a y row
    # keeps a only if it visits column A first; y itself is always merged.
    assert set(multiset(frame)) <= {("a", "x"), ("a", None)}
    assert 10 <= len(frame) <= 15


@pytest.mark.parametrize("mode", list(MODES))
def test_identical_records_come_back_whole(mode: str) -> None:
    table = table_of([("a", "x", "p")] * 23, ("A", "B", "C"))
    frame = MODES[mode](table, KAnonymitySettings(resolution=10, seed=0))
    # 23 records rounded down to 20 in every mode.
    assert multiset(frame) == {("a", "x", "p"): 20}


@pytest.mark.parametrize("mode", list(MODES))
def test_fewer_records_than_k_give_an_empty_frame(mode: str) -> None:
    table = table_of([("a", "x")] * 9, ("A", "B"))
    frame = MODES[mode](table, KAnonymitySettings(resolution=10, reporting_length=2))
    assert frame.shape == (0, 2)
    assert list(frame.columns) == ["A", "B"]


def correlated_table(seed: int, n: int = 400) -> EncodedTable:
    """Records near a few prototypes, with noise and absent cells."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 4, size=(5, 6))
    codes = prototypes[rng.integers(0, 5, size=n)]
    noise = rng.random(codes.shape) < 0.2
    codes = np.where(noise, rng.integers(-1, 4, size=codes.shape), codes)
    columns = tuple("ABCDEF")
    categories = tuple(tuple(f"{c}{i}" for i in range(4)) for c in columns)
    return EncodedTable(columns, categories, codes.astype(np.int32))


@pytest.mark.parametrize("k", [2, 5, 12])
@pytest.mark.parametrize("mode", list(MODES))
def test_guarantees_on_random_tables(mode: str, k: int) -> None:
    for seed in range(3):
        table = correlated_table(seed)
        settings = KAnonymitySettings(resolution=k, reporting_length=3, seed=seed)
        frame = MODES[mode](table, settings)
        check_guarantees(table, frame, mode, k, 3)


@pytest.mark.parametrize("mode", list(MODES))
def test_output_format(mode: str) -> None:
    table = correlated_table(7)
    frame = MODES[mode](table, KAnonymitySettings(resolution=5, seed=1))
    assert list(frame.columns) == list(table.columns)
    assert all(dtype is np.dtype(object) for dtype in frame.dtypes)
    assert frame.index.tolist() == list(range(len(frame)))
    assert frame.isna().to_numpy().any()
    for j, column in enumerate(table.columns):
        labels = set(frame[column].dropna())
        assert labels <= set(table.categories[j])


@pytest.mark.parametrize("mode", list(MODES))
def test_a_seed_makes_the_output_reproducible(mode: str) -> None:
    table = correlated_table(3)
    first = MODES[mode](table, KAnonymitySettings(resolution=4, seed=11))
    again = MODES[mode](table, KAnonymitySettings(resolution=4, seed=11))
    other = MODES[mode](table, KAnonymitySettings(resolution=4, seed=12))
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


@pytest.mark.parametrize("mode", list(MODES))
def test_values_held_fewer_than_k_times_never_appear(mode: str) -> None:
    rows = [("a", "x")] * 30 + [("rare", "x")] * 4 + [("a", "odd")] * 4
    table = table_of(rows, ("A", "B"))
    settings = KAnonymitySettings(resolution=5, reporting_length=2, seed=0)
    frame = MODES[mode](table, settings)
    assert "rare" not in set(frame["A"].dropna())
    assert "odd" not in set(frame["B"].dropna())


def test_unseeded_follows_the_joint_distribution() -> None:
    rows = [("a", "x", "p")] * 600 + [("b", "y", "q")] * 300 + [("a", "y", "q")] * 100
    table = table_of(rows, ("A", "B", "C"))
    frame = synthesize_unseeded(table, KAnonymitySettings(resolution=10, seed=5))
    counts = multiset(frame)
    assert len(frame) == 1000
    # Each record follows one sensitive record; nothing is rare at k = 10.
    assert set(counts) == {("a", "x", "p"), ("b", "y", "q"), ("a", "y", "q")}
    share = counts[("a", "x", "p")] / 1000
    assert 0.55 < share < 0.65, share


def test_value_seeded_oversampling_cap_holds() -> None:
    table = correlated_table(4, n=600)
    k, length = 5, 3
    settings = KAnonymitySettings(
        resolution=k, reporting_length=length, seed=2, oversampling_ratio=0.0
    )
    codes = check_guarantees(
        table, synthesize_value_seeded(table, settings), "value-seeded", k, length
    )
    for size in range(1, length + 1):
        sensitive, synthetic = combination_counts(table, codes, size)
        over = {
            key: (n, sensitive[key] // k * k)
            for key, n in synthetic.items()
            if n > sensitive[key] // k * k
        }
        assert not over, f"length {size}: {list(over.items())[:5]}"


def test_aggregate_seeded_reuses_given_aggregates() -> None:
    table = correlated_table(5)
    settings = KAnonymitySettings(resolution=5, reporting_length=2, seed=4)
    aggregates = k_anonymous_aggregates(table, resolution=5, reporting_length=2)
    given = synthesize_k_aggregate_seeded(table, settings, aggregates=aggregates)
    pd.testing.assert_frame_equal(given, synthesize_k_aggregate_seeded(table, settings))
    assert len(given) == aggregates.record_count


def test_value_seeded_reuses_given_aggregates() -> None:
    table = correlated_table(8)
    settings = KAnonymitySettings(
        resolution=5, reporting_length=3, seed=4, oversampling_ratio=0.0
    )
    aggregates = k_anonymous_aggregates(table, resolution=5, reporting_length=3)
    given = synthesize_value_seeded(table, settings, aggregates=aggregates)
    pd.testing.assert_frame_equal(given, synthesize_value_seeded(table, settings))


@pytest.mark.parametrize(
    "synthesize", [synthesize_k_aggregate_seeded, synthesize_value_seeded]
)
@pytest.mark.parametrize(("resolution", "length"), [(3, 2), (5, 1)])
def test_other_aggregates_are_refused(
    synthesize: Synthesizer, resolution: int, length: int
) -> None:
    table = correlated_table(5)
    settings = KAnonymitySettings(resolution=5, reporting_length=2)
    other = k_anonymous_aggregates(
        table, resolution=resolution, reporting_length=length
    )
    with pytest.raises(ParameterError, match="not k-anonymous aggregates of this"):
        synthesize(table, settings, aggregates=other)  # type: ignore[call-arg]


def test_aggregates_of_another_table_are_refused() -> None:
    table = correlated_table(5)
    renamed = EncodedTable(
        table.columns,
        tuple(tuple(f"x{label}" for label in labels) for labels in table.categories),
        table.codes,
    )
    other = k_anonymous_aggregates(renamed, resolution=5, reporting_length=2)
    with pytest.raises(ParameterError, match="not k-anonymous aggregates of this"):
        synthesize_k_aggregate_seeded(
            table,
            KAnonymitySettings(resolution=5, reporting_length=2),
            aggregates=other,
        )


def test_progress_is_reported() -> None:
    seen: list[tuple[str, float]] = []
    table = correlated_table(6)
    synthesize_row_seeded(
        table,
        KAnonymitySettings(resolution=5, seed=0),
        progress=lambda stage, done: seen.append((stage, done)),
    )
    assert seen and all(0.0 <= done <= 1.0 for _, done in seen)
    assert seen[-1] == ("suppressing surplus values", 1.0)


# --- the NIST excerpts ----------------------------------------------------------


@pytest.mark.slow
def test_row_seeded_on_the_full_ma2019_file(ma2019: EncodedTable) -> None:
    k, length = 10, 3
    frame = synthesize_row_seeded(
        ma2019, KAnonymitySettings(resolution=k, reporting_length=length, seed=0)
    )
    codes = check_guarantees(ma2019, frame, "row-seeded", k, length)
    assert len(codes) > ma2019.n_records // 2
    # Records keep many values: seeded records are grown from real ones.
    assert (codes >= 0).sum(axis=1).mean() > 5


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["value-seeded", "unseeded", "aggregate-seeded"])
def test_modes_on_a_tx2019_excerpt(tx2019: EncodedTable, mode: str) -> None:
    k, length = 10, 3
    settings = KAnonymitySettings(resolution=k, reporting_length=length, seed=0)
    frame = MODES[mode](tx2019, settings)
    codes = check_guarantees(tx2019, frame, mode, k, length)
    if mode != "value-seeded":
        assert len(codes) <= tx2019.n_records // k * k


@pytest.mark.slow
def test_value_seeded_with_oversampling_on_tx2019(tx2019: EncodedTable) -> None:
    k, length, ratio = 10, 2, 0.1
    settings = KAnonymitySettings(
        resolution=k, reporting_length=length, seed=0, oversampling_ratio=ratio
    )
    codes = check_guarantees(
        tx2019, synthesize_value_seeded(tx2019, settings), "value-seeded", k, length
    )
    sensitive, synthetic = combination_counts(tx2019, codes, 2)
    worst = max(n / (sensitive[key] // k * k) for key, n in synthetic.items())
    assert worst <= 1 + ratio, worst
