"""The DP marginals mechanism: exact with noise off, accounted, consistent."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from statistics import NormalDist

import numpy as np
import pytest

from synthcase.errors import BudgetError, ParameterError
from synthcase.measure import (
    Aggregates,
    DPSettings,
    MarginalsRelease,
    measure_marginals,
)
from synthcase.measure.noise import (
    NoiseSwitch,
    gaussian_threshold,
    threshold_for_delta,
)
from synthcase.prepare import ABSENT, EncodedTable

Combination = tuple[tuple[str, str], ...]

# Counts near the length-1 threshold of epsilon 50 (8 for these records),
# so some values pass and some are hidden.
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


def records(table: EncodedTable) -> list[list[tuple[str, str]]]:
    return [
        [(table.columns[j], v) for j, v in enumerate(row) if v is not None]
        for row in table.decode()
    ]


def reference_counts(table: EncodedTable, length: int) -> dict[Combination, int]:
    counts: Counter[Combination] = Counter()
    for record in records(table):
        counts.update(itertools.combinations(record, length))
    return dict(counts)


def released(aggregates: Aggregates, length: int) -> dict[Combination, int]:
    labels = aggregates.value_labels
    combos = aggregates.combinations[length - 1]
    counts = aggregates.counts[length - 1]
    return {
        tuple(labels[i] for i in row): int(c)
        for row, c in zip(combos.tolist(), counts.tolist(), strict=True)
    }


def exact_settings(**changes: object) -> DPSettings:
    length = int(changes.get("reporting_length", 3))  # type: ignore[call-overload]
    arguments: dict[str, object] = {
        "epsilon": 50.0,
        "delta": 1e-6,
        "reporting_length": length,
        "percentile": 100,
        "fabrication_mode": "custom-fixed",
        "thresholds": {k: 0 for k in range(2, length + 1)},
    }
    arguments.update(changes)
    return DPSettings(**arguments)  # type: ignore[arg-type]


def assert_consistent(aggregates: Aggregates) -> None:
    """Every sub-combination of a released combination is released, larger."""
    for k in range(2, aggregates.reporting_length + 1):
        shorter = released(aggregates, k - 1)
        for combination, count in released(aggregates, k).items():
            for sub in itertools.combinations(combination, k - 1):
                assert sub in shorter, (combination, sub)
                assert count <= shorter[sub], (combination, count, sub, shorter[sub])


@pytest.fixture(scope="module")
def exact_release() -> MarginalsRelease:
    """The release of ``ROWS`` with noise off (shared: each run takes a while)."""
    previous = NoiseSwitch.enabled
    NoiseSwitch.enabled = False
    try:
        return measure_marginals(make_table("ABCD", ROWS), exact_settings())
    finally:
        NoiseSwitch.enabled = previous


def test_noise_off_releases_exact_counts_of_what_passes_the_thresholds(
    exact_release: MarginalsRelease,
) -> None:
    table = make_table("ABCD", ROWS)
    release = exact_release
    aggregates = release.aggregates
    first = release.lengths[0]
    assert first.length == 1
    assert first.contribution_bound == 4  # the largest record, percentile 100

    expected: dict[Combination, int] = {
        c: n for c, n in reference_counts(table, 1).items() if n >= first.threshold
    }
    # The fixture is built so that the threshold hides some values only.
    assert 0 < len(expected) < len(reference_counts(table, 1))
    assert released(aggregates, 1) == expected
    for k in (2, 3):
        # Fixed threshold 0: every combination some record holds whose
        # sub-combinations were all released.
        shorter = expected
        expected = {
            c: n
            for c, n in reference_counts(table, k).items()
            if all(s in shorter for s in itertools.combinations(c, k - 1))
        }
        assert expected, k
        assert released(aggregates, k) == expected, k

    assert aggregates.record_count == table.n_records
    assert first.threshold == 8
    assert aggregates.count_of({"A": "a1"}) == 18
    assert aggregates.count_of({"A": "a1", "C": "c1"}) == 15
    assert aggregates.count_of({"B": "b1", "D": "d1"}) == 9
    assert aggregates.count_of({"A": "a1", "B": "b1", "C": "c1"}) == 8
    assert aggregates.count_of({"A": "a2", "B": "b2", "C": "c1"}) == 4
    assert aggregates.count_of({"A": "a3"}) is None  # one record: hidden
    assert aggregates.count_of({"C": "c2"}) is None  # 7, below 8: hidden
    assert aggregates.count_of({"A": "a2", "B": "b1"}) is None  # count 0
    assert_consistent(aggregates)


def test_hidden_values_leave_no_label_in_the_aggregates(
    exact_release: MarginalsRelease,
) -> None:
    aggregates = exact_release.aggregates
    assert aggregates.columns == ("A", "B", "C", "D")
    labels = {label for column in aggregates.categories for label in column}
    assert "a3" not in labels
    assert all(labels_of_column for labels_of_column in aggregates.categories)


def test_a_value_exactly_at_the_length_one_threshold_is_released(
    noise_off: None,
) -> None:
    # The threshold depends on the bound and the plan, not on the counts:
    # learn it once, then build a table with counts at and just below it.
    probe = make_table("ABC", ["x1 y1 z1"] * 30)
    threshold = int(measure_marginals(probe, exact_settings()).lengths[0].threshold)
    assert threshold >= 2
    rows = ["x1 y1 z1"] * threshold + ["x2 y1 z1"] * (threshold - 1)
    release = measure_marginals(make_table("ABC", rows), exact_settings())
    assert release.lengths[0].threshold == threshold
    singles = released(release.aggregates, 1)
    assert singles[(("A", "x1"),)] == threshold
    assert (("A", "x2"),) not in singles


def test_length_one_threshold_and_scale_follow_the_plan(
    exact_release: MarginalsRelease,
) -> None:
    release = exact_release
    plan = release.accountant.plan
    for report in release.lengths:
        k = report.length
        expected_scale = plan.sigmas[k - 1] * math.sqrt(report.contribution_bound)
        assert expected_scale <= report.noise_scale <= expected_scale * (1 + 1e-15)
        assert report.rho == pytest.approx(plan.rho_lengths[k - 1], rel=1e-9)
        assert report.rho <= plan.rho_lengths[k - 1] * (1 + 1e-12)
    first = release.lengths[0]
    assert first.threshold == threshold_for_delta(
        first.contribution_bound, first.noise_scale, plan.delta_threshold
    )
    _, _, delta = gaussian_threshold(
        {}, first.contribution_bound, first.noise_scale, int(first.threshold)
    )
    assert first.delta == delta <= plan.delta_threshold
    assert [r.delta for r in release.lengths[1:]] == [0.0, 0.0]


def candidate_counts_per_record(
    table: EncodedTable, aggregates: Aggregates, length: int
) -> list[int]:
    """Per record: how many of its combinations were candidates at ``length``.

    Candidates of length 1 are all values; of length ``k >= 2``, the
    combinations whose every sub-combination of length ``k - 1`` was released.
    """
    shorter = set(released(aggregates, length - 1)) if length > 1 else None
    result = []
    for record in records(table):
        held = itertools.combinations(record, length)
        if shorter is None:
            result.append(sum(1 for _ in held))
        else:
            result.append(
                sum(
                    all(s in shorter for s in itertools.combinations(c, length - 1))
                    for c in held
                )
            )
    return result


@pytest.mark.parametrize("percentile", [40, 60, 90])
def test_contribution_bound_is_the_lower_percentile_of_records(
    noise_off: None, percentile: int
) -> None:
    table = make_table("ABCD", ROWS)
    release = measure_marginals(table, exact_settings(percentile=percentile))
    assert release.lengths, "length 1 must be measured"
    for report in release.lengths:
        per_record = candidate_counts_per_record(
            table, release.aggregates, report.length
        )
        expected = np.quantile(per_record, percentile / 100, method="lower")
        assert report.contribution_bound == int(expected), report


def test_contribution_bound_at_percentile_100_is_the_largest_record(
    exact_release: MarginalsRelease,
) -> None:
    table = make_table("ABCD", ROWS)
    for report in exact_release.lengths:
        per_record = candidate_counts_per_record(
            table, exact_release.aggregates, report.length
        )
        assert report.contribution_bound == max(per_record)


def test_bounding_keeps_counts_within_the_exact_counts(noise_off: None) -> None:
    # A bound below the largest record drops combinations of large records,
    # never adds any.
    table = make_table("ABCD", ROWS)
    release = measure_marginals(table, exact_settings(percentile=40))
    for k in range(1, 4):
        exact = reference_counts(table, k)
        for combination, count in released(release.aggregates, k).items():
            assert 0 < count <= exact[combination], combination


@pytest.mark.parametrize(
    ("mode", "thresholds"),
    [
        ("uncontrolled", {}),
        ("progressive", {}),
        ("balanced", {}),
        ("minimize", {}),
        ("custom-adaptive", {2: 0.3, 3: 0.8}),
    ],
)
def test_adaptive_thresholds_are_scale_times_the_normal_quantile(
    noise_off: None, mode: str, thresholds: dict[int, float]
) -> None:
    table = make_table("ABCD", ROWS * 3)
    settings = exact_settings(fabrication_mode=mode, thresholds=thresholds)
    release = measure_marginals(table, settings)
    etas = settings.adaptive_etas()
    assert etas is not None
    assert [r.length for r in release.lengths] == [1, 2, 3]
    for report in release.lengths[1:]:
        eta = etas[report.length]
        expected = report.noise_scale * NormalDist().inv_cdf(1 - eta / 2)
        assert report.threshold == pytest.approx(expected, rel=1e-12, abs=1e-12)
        if eta == 1.0:
            assert report.threshold == 0.0
        # Noise off: released counts are exactly those above the threshold.
        counts = released(release.aggregates, report.length).values()
        assert all(c > report.threshold for c in counts)


def test_fixed_thresholds_are_used_as_given(noise_off: None) -> None:
    table = make_table("ABCD", ROWS * 3)
    release = measure_marginals(table, exact_settings(thresholds={2: 14, 3: 9.5}))
    reports = {r.length: r for r in release.lengths}
    assert reports[2].threshold == 14
    assert reports[3].threshold == 9.5
    pairs = released(release.aggregates, 2)
    exact_pairs = reference_counts(table, 2)
    singles = released(release.aggregates, 1)
    assert pairs == {
        c: n
        for c, n in exact_pairs.items()
        if n > 14 and all((s,) in singles for s in c)
    }
    assert all(n > 9.5 for n in released(release.aggregates, 3).values())


@pytest.mark.parametrize("epsilon", [0.5, 4.0])
def test_accounting_stays_within_the_target(epsilon: float) -> None:
    table = make_table("ABCD", ROWS * 20)
    settings = DPSettings(epsilon=epsilon, delta=1e-6, reporting_length=3)
    release = measure_marginals(table, settings)
    accountant = release.accountant
    assert accountant.epsilon <= epsilon
    assert accountant.delta <= 1e-6
    assert accountant.rho <= accountant.plan.rho_total
    assert accountant.spends[0].label.endswith("count")
    privacy = release.privacy()
    assert privacy["epsilon"] == accountant.epsilon
    assert privacy["neighbouring"].startswith("add or remove one privacy unit")
    assert [r["length"] for r in privacy["lengths"]] == [
        r.length for r in release.lengths
    ]


def test_noise_on_counts_are_consistent_and_closed_under_subsets() -> None:
    table = make_table("ABCD", ROWS * 10)
    settings = DPSettings(
        epsilon=2.0, delta=1e-6, reporting_length=3, fabrication_mode="uncontrolled"
    )
    aggregates = measure_marginals(table, settings).aggregates
    assert aggregates.reporting_length == 3
    assert aggregates.counts[0].size > 0
    for counts in aggregates.counts:
        assert np.all(counts > 0)
    assert_consistent(aggregates)


def test_default_delta_comes_from_the_protected_record_count(noise_off: None) -> None:
    table = make_table("ABCD", ROWS * 5)
    release = measure_marginals(table, exact_settings(delta=None))
    n = table.n_records
    assert release.accountant.plan.delta == pytest.approx(1 / (n * math.log(n)))
    assert release.accountant.delta <= release.accountant.plan.delta


def test_too_few_records_for_a_default_delta_is_a_budget_error(
    noise_off: None,
) -> None:
    table = make_table("AB", ["a b", "a b"])
    with pytest.raises(BudgetError, match="pass delta explicitly"):
        measure_marginals(table, exact_settings(delta=None, reporting_length=2))


def test_reporting_length_beyond_the_columns_is_a_parameter_error() -> None:
    table = make_table("AB", ["a b"] * 5)
    with pytest.raises(ParameterError, match="longer than the 2 columns"):
        measure_marginals(table, DPSettings(epsilon=1.0, delta=1e-6))


def test_too_many_candidates_stop_the_run_with_advice(noise_off: None) -> None:
    table = make_table("ABCD", ROWS * 3)
    with pytest.raises(ParameterError, match="more than 3 candidate combinations"):
        measure_marginals(table, exact_settings(max_candidates=3))


def test_reporting_length_one_releases_single_values(noise_off: None) -> None:
    table = make_table("ABCD", ROWS)
    release = measure_marginals(table, exact_settings(reporting_length=1))
    assert release.aggregates.reporting_length == 1
    assert [r.length for r in release.lengths] == [1]
    assert release.lengths[0].candidates is None
    threshold = release.lengths[0].threshold
    assert released(release.aggregates, 1) == {
        c: n for c, n in reference_counts(table, 1).items() if n >= threshold
    }


def test_an_all_absent_column_is_kept_without_values(noise_off: None) -> None:
    table = make_table("ABCX", [f"{row[:8]} _" for row in ROWS * 2])
    release = measure_marginals(table, exact_settings())
    aggregates = release.aggregates
    assert aggregates.columns == ("A", "B", "C", "X")
    assert aggregates.categories[3] == ()
    assert released(aggregates, 2) == {
        c: n
        for c, n in reference_counts(table, 2).items()
        if all((s,) in released(aggregates, 1) for s in c)
    }


def test_a_tiny_budget_releases_little_and_never_crashes() -> None:
    table = make_table("ABCD", ROWS)
    release = measure_marginals(
        table, DPSettings(epsilon=0.01, delta=1e-6, reporting_length=3)
    )
    aggregates = release.aggregates
    assert aggregates.reporting_length == 3
    assert len(aggregates.counts) == 3
    assert sum(c.size for c in aggregates.counts) <= 3
    assert release.accountant.epsilon <= 0.01


def test_progress_is_reported_up_to_done(noise_off: None) -> None:
    seen: list[tuple[str, float]] = []
    measure_marginals(
        make_table("ABCD", ROWS),
        exact_settings(),
        progress=lambda stage, done: seen.append((stage, done)),
    )
    fractions = [done for _, done in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert all(0 <= f <= 1 for f in fractions)


def linked_table(heavy_rows: int) -> EncodedTable:
    """Thirty subjects with one row "a b" and subject 99 with heavy "x b" rows."""
    codes = np.array([[0, 0]] * 30 + [[1, 0]] * heavy_rows, dtype=np.int32)
    subjects = np.array(list(range(30)) + [99] * heavy_rows)
    return EncodedTable(("A", "B"), (("a", "x"), ("b",)), codes, subjects)


def test_a_linked_table_is_measured_per_subject(noise_off: None) -> None:
    table = linked_table(heavy_rows=5)
    settings = exact_settings(reporting_length=2, link_bound=2)
    release = measure_marginals(table, settings)
    assert release.unit_count == 31
    assert release.link_bound == 2
    # Subject 99 keeps two of its five rows.
    assert release.aggregates.record_count == 32
    singles = released(release.aggregates, 1)
    assert singles[(("A", "a"),)] == 30
    assert singles[(("B", "b"),)] == 32
    # The noise covers one subject changing a count by up to its link bound.
    plan = release.accountant.plan
    first = release.lengths[0]
    repeat = min(2, first.contribution_bound)
    expected = plan.sigmas[0] * math.sqrt(first.contribution_bound * repeat)
    assert expected <= first.noise_scale <= expected * (1 + 1e-12)
    assert release.accountant.epsilon <= settings.epsilon


def test_a_linked_table_chooses_its_link_bound_by_percentile(noise_off: None) -> None:
    table = linked_table(heavy_rows=5)
    release = measure_marginals(table, exact_settings(reporting_length=2))
    # Percentile 100 of rows per subject, without noise: the heaviest subject.
    assert release.link_bound == 5
    assert release.aggregates.record_count == 35
    labels = [s.label for s in release.accountant.spends]
    assert labels[0].endswith("count")
    assert labels[1:3] == ["link bound", "link count"]
    assert release.accountant.epsilon <= 50.0


def test_a_plain_table_has_no_link_bound(exact_release: MarginalsRelease) -> None:
    assert exact_release.link_bound is None
    assert exact_release.unit_count == len(ROWS)
