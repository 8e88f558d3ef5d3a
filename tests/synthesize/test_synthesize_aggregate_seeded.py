"""Aggregate-seeded synthesis: never a combination the aggregates lack."""

from __future__ import annotations

import itertools
from importlib.resources import as_file, files
from typing import Any

import numpy as np
import pandas as pd
import pytest

import synthcase.synthesize
from synthcase.errors import ParameterError
from synthcase.measure import Aggregates, DPSettings, measure_marginals
from synthcase.measure.noise import NoiseSwitch
from synthcase.prepare import ABSENT, BinSpec, EncodedTable, ReadOptions, load_table
from synthcase.synthesize import SynthesisSettings, synthesize_from_aggregates

Combination = frozenset[tuple[str, str]]

ROWS = (
    ["a1 b1 c1 d1"] * 8
    + ["a1 b2 c1 _"] * 7
    + ["a2 _ c2 d1"] * 6
    + ["a2 b2 c1 d2"] * 4
    + ["a1 b2 _ d2"] * 3
    + ["a3 b1 c2 d1"]
)


def make_table(columns: str, rows: list[str]) -> EncodedTable:
    """A table from rows like ``"a1 b1 _"``; ``_`` is absent."""
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


def released_set(aggregates: Aggregates) -> set[Combination]:
    labels = aggregates.value_labels
    return {
        frozenset(labels[i] for i in row)
        for combos in aggregates.combinations
        for row in combos.tolist()
    }


def missing_combinations(
    frame: pd.DataFrame, aggregates: Aggregates
) -> list[Combination]:
    """Combinations of length <= R held by some synthetic record but not released."""
    released = released_set(aggregates)
    missing = []
    for row in frame.drop_duplicates().itertuples(index=False):
        present = [
            (column, value)
            for column, value in zip(frame.columns, row, strict=True)
            if not pd.isna(value)
        ]
        for k in range(1, aggregates.reporting_length + 1):
            for combination in itertools.combinations(present, k):
                if frozenset(combination) not in released:
                    missing.append(frozenset(combination))
    return missing


@pytest.fixture(scope="module")
def exact_aggregates() -> Aggregates:
    """Aggregates of ``ROWS`` measured with noise off (exact, thresholded)."""
    previous = NoiseSwitch.enabled
    NoiseSwitch.enabled = False
    try:
        settings = DPSettings(
            epsilon=50.0,
            delta=1e-6,
            reporting_length=3,
            percentile=100,
            fabrication_mode="custom-fixed",
            thresholds={2: 0, 3: 0},
        )
        return measure_marginals(make_table("ABCD", ROWS), settings).aggregates
    finally:
        NoiseSwitch.enabled = previous


@pytest.fixture(scope="module")
def ma2019_table() -> EncodedTable:
    options = ReadOptions(
        null_tokens=("N",),
        columns=("AGEP", "SEX", "MSP", "EDU", "PINCP_DECILE", "HOUSING_TYPE", "PUMA"),
        bins=(BinSpec.parse("AGEP=0,18,30,45,65,120"),),
    )
    with as_file(files("synthcase") / "data" / "ma2019.csv") as path:
        return load_table(path, options)


@pytest.fixture(scope="module", params=[0.5, 8.0], ids=["eps-0.5", "eps-8"])
def ma2019_aggregates(
    request: pytest.FixtureRequest, ma2019_table: EncodedTable
) -> Aggregates:
    settings = DPSettings(epsilon=request.param, reporting_length=3)
    return measure_marginals(ma2019_table, settings).aggregates


def test_sorted_all_matches_the_public_names() -> None:
    exported = synthcase.synthesize.__all__
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(synthcase.synthesize).items()
        if not name.startswith("_") and not isinstance(value, type(synthcase))
    }
    assert set(exported) == public


def test_exact_aggregates_give_only_released_combinations(
    exact_aggregates: Aggregates,
) -> None:
    frame = synthesize_from_aggregates(exact_aggregates, SynthesisSettings(seed=1))
    assert len(frame) == exact_aggregates.record_count == len(ROWS)
    assert list(frame.columns) == ["A", "B", "C", "D"]
    assert missing_combinations(frame, exact_aggregates) == []
    # Values are released labels; absent cells are missing values.
    allowed = {label for labels in exact_aggregates.categories for label in labels}
    cells = {v for v in frame.to_numpy().ravel().tolist() if not pd.isna(v)}
    assert cells <= allowed
    assert "a3" not in cells


def test_real_data_gives_only_released_combinations(
    ma2019_aggregates: Aggregates,
) -> None:
    frame = synthesize_from_aggregates(ma2019_aggregates, SynthesisSettings(seed=7))
    assert len(frame) == ma2019_aggregates.record_count
    assert list(frame.columns) == list(ma2019_aggregates.columns)
    missing = missing_combinations(frame, ma2019_aggregates)
    assert missing == [], missing[:5]


# Tolerances per epsilon: (mean, worst) error of single-value shares, as a
# share of the records; about twice the largest seen over ten runs.
TOLERANCES = {0.5: (0.05, 0.2), 8.0: (0.01, 0.1)}


def test_single_value_frequencies_follow_the_protected_counts(
    request: pytest.FixtureRequest, ma2019_aggregates: Aggregates
) -> None:
    aggregates = ma2019_aggregates
    mean_tolerance, worst_tolerance = TOLERANCES[
        request.node.callspec.params["ma2019_aggregates"]
    ]
    frame = synthesize_from_aggregates(aggregates, SynthesisSettings(seed=3))
    labels = aggregates.value_labels
    errors = []
    for row, count in zip(
        aggregates.combinations[0].tolist(), aggregates.counts[0].tolist(), strict=True
    ):
        column, label = labels[row[0]]
        synthetic = int((frame[column] == label).sum())
        errors.append(abs(synthetic - count) / aggregates.record_count)
    # Values that go with absent cells (children: no marital status, no
    # income) are drawn less than their protected counts, since records grow
    # as long as some value fits; that sets the worst error.
    worst = max(range(len(errors)), key=errors.__getitem__)
    summary = (
        f"mean {np.mean(errors):.4f}, max {errors[worst]:.4f} "
        f"at {labels[aggregates.combinations[0][worst, 0]]}"
    )
    assert np.mean(errors) < mean_tolerance, summary
    assert errors[worst] < worst_tolerance, summary


def test_same_seed_same_records_other_seed_other_records(
    exact_aggregates: Aggregates,
) -> None:
    first = synthesize_from_aggregates(exact_aggregates, SynthesisSettings(seed=11))
    again = synthesize_from_aggregates(exact_aggregates, SynthesisSettings(seed=11))
    other = synthesize_from_aggregates(exact_aggregates, SynthesisSettings(seed=12))
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_same_seed_is_reproducible_on_real_data(
    ma2019_aggregates: Aggregates,
) -> None:
    settings = SynthesisSettings(seed=5, records=800)
    first = synthesize_from_aggregates(ma2019_aggregates, settings)
    again = synthesize_from_aggregates(ma2019_aggregates, settings)
    pd.testing.assert_frame_equal(first, again)


@pytest.mark.parametrize("records", [0, 1, 37, 1000])
def test_the_number_of_records_asked_for_is_made(
    exact_aggregates: Aggregates, records: int
) -> None:
    frame = synthesize_from_aggregates(
        exact_aggregates, SynthesisSettings(records=records, seed=2, batch_size=16)
    )
    assert len(frame) == records
    assert list(frame.columns) == ["A", "B", "C", "D"]
    assert missing_combinations(frame, exact_aggregates) == []


def test_synthetic_counts_mode_keeps_the_guarantee(
    ma2019_aggregates: Aggregates,
) -> None:
    plain = synthesize_from_aggregates(
        ma2019_aggregates, SynthesisSettings(seed=4, records=1500)
    )
    balanced = synthesize_from_aggregates(
        ma2019_aggregates,
        SynthesisSettings(seed=4, records=1500, use_synthetic_counts=True),
    )
    assert len(balanced) == 1500
    assert missing_combinations(balanced, ma2019_aggregates) == []
    assert not balanced.equals(plain)


@pytest.mark.parametrize("percentile", [0.0, 100.0])
def test_weight_percentile_edges_keep_the_guarantee(
    ma2019_aggregates: Aggregates, percentile: float
) -> None:
    frame = synthesize_from_aggregates(
        ma2019_aggregates,
        SynthesisSettings(seed=8, records=1000, weight_percentile=percentile),
    )
    assert len(frame) == 1000
    assert missing_combinations(frame, ma2019_aggregates) == []
    # Records grow beyond the reporting length.
    assert frame.notna().sum(axis=1).max() > 3


def test_reporting_length_one(noise_off: None) -> None:
    table = make_table("ABCD", ROWS)
    settings = DPSettings(epsilon=50.0, delta=1e-6, reporting_length=1, percentile=100)
    aggregates = measure_marginals(table, settings).aggregates
    frame = synthesize_from_aggregates(aggregates, SynthesisSettings(seed=1))
    assert len(frame) == len(ROWS)
    assert missing_combinations(frame, aggregates) == []
    assert frame.notna().sum(axis=1).max() > 1


def test_nothing_released_beyond_length_one_gives_one_value_records() -> None:
    items = [([("A", "x")], 10), ([("A", "y")], 5), ([("B", "u")], 8)]
    aggregates = Aggregates.from_pairs(
        items, record_count=12, columns=["A", "B", "C"], reporting_length=3
    )
    frame = synthesize_from_aggregates(aggregates, SynthesisSettings(seed=1))
    assert len(frame) == 12
    assert list(frame.columns) == ["A", "B", "C"]
    assert frame.notna().sum(axis=1).max() <= 1
    assert frame["C"].isna().all()
    assert missing_combinations(frame, aggregates) == []


def test_empty_aggregates_give_all_absent_records() -> None:
    aggregates = Aggregates.from_pairs(
        [], record_count=5, columns=["A", "B"], reporting_length=2
    )
    frame = synthesize_from_aggregates(aggregates, SynthesisSettings(seed=1))
    assert frame.shape == (5, 2)
    assert frame.isna().all().all()


@pytest.mark.parametrize("records", [None, 25])
def test_a_tiny_budget_never_crashes(records: int | None) -> None:
    table = make_table("ABCD", ROWS)
    settings = DPSettings(epsilon=0.01, delta=1e-6, reporting_length=3)
    aggregates = measure_marginals(table, settings).aggregates
    frame = synthesize_from_aggregates(
        aggregates, SynthesisSettings(records=records, seed=1)
    )
    expected = max(0, aggregates.record_count) if records is None else records
    assert len(frame) == expected
    assert list(frame.columns) == ["A", "B", "C", "D"]
    assert missing_combinations(frame, aggregates) == []


def test_progress_reaches_done(exact_aggregates: Aggregates) -> None:
    seen: list[float] = []
    synthesize_from_aggregates(
        exact_aggregates,
        SynthesisSettings(seed=1, records=100, batch_size=30),
        progress=lambda stage, done: seen.append(done),
    )
    assert seen == sorted(seen)
    assert seen[-1] == 1.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"records": -1}, r"records is -1; it must be >= 0"),
        ({"weight_percentile": -1}, r"weight_percentile is -1; it must be in 0\.\.100"),
        ({"weight_percentile": 101}, r"weight_percentile is 101"),
        ({"batch_size": 0}, r"batch_size is 0; it must be >= 1"),
    ],
)
def test_bad_synthesis_settings_are_refused(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        SynthesisSettings(**changes)


def not_downward_closed() -> Aggregates:
    """Aggregates holding the triple a-b-d without its pair a-b.

    Such a file can come from another tool or a hand edit; measure_marginals
    never writes one.
    """

    def pairs(*values: str) -> list[tuple[str, str]]:
        return [(v.upper(), v) for v in values]

    items = [
        (pairs("a"), 10),
        (pairs("b"), 10),
        (pairs("c"), 10),
        (pairs("d"), 10),
        (pairs("a", "c"), 5),
        (pairs("a", "d"), 5),
        (pairs("b", "d"), 5),
        (pairs("c", "d"), 5),
        (pairs("a", "b", "d"), 5),
    ]
    return Aggregates.from_pairs(
        items, record_count=10, columns=["A", "B", "C", "D"], reporting_length=3
    )


def test_aggregates_missing_a_sub_combination_are_respected() -> None:
    aggregates = not_downward_closed()
    frame = synthesize_from_aggregates(
        aggregates, SynthesisSettings(seed=1, records=200)
    )
    assert len(frame) == 200
    missing = missing_combinations(frame, aggregates)
    assert missing == [], sorted(map(sorted, set(missing)))[:3]
