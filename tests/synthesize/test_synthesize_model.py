"""Model-based synthesis: exact recovery, sampling, constraints, cost caps."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pandas as pd
import pytest

from synthcase.errors import ParameterError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.budget import Accountant, BudgetPlan, plan_budget
from synthcase.measure.model import ModelMeasurements, ModelSettings, measure_model
from synthcase.prepare.table import ABSENT, EncodedTable
from synthcase.synthesize.model_based import (
    FittedModel,
    _shares,
    fit_model,
    sample_model,
)

COLUMNS = ("A", "B", "C", "D")
LABELS = (("a0", "a1"), ("b0", "b1", "b2"), ("c0", "c1"), ("d0", "d1", "d2"))

# A joint that factorises over the tree A - B, B - C, B - D exactly:
# count(a, b, c, d) = WB[b] * WA[b][a] * WC[b][c] * WD[b][d].
WB = (1, 2, 1)
WA = ((6, 1), (1, 1), (2, 5))
WC = ((7, 1), (2, 6), (4, 4))
WD = ((5, 1, 1), (1, 5, 1), (1, 1, 5))


def tree_table() -> EncodedTable:
    rows = []
    for a, b, c, d in itertools.product(range(2), range(3), range(2), range(3)):
        count = WB[b] * WA[b][a] * WC[b][c] * WD[b][d]
        rows.extend([(a, b, c, d)] * count)
    return EncodedTable(COLUMNS, LABELS, np.array(rows, dtype=np.int32))


def released(
    table: EncodedTable, pairs: list[tuple[tuple[str, str], ...]] | None = None
) -> Aggregates:
    items: list[tuple[list[tuple[str, str]], int]] = [
        ([(c, v)], 10)
        for c, labels in zip(table.columns, table.categories, strict=True)
        for v in labels
    ]
    items += [(list(p), 5) for p in pairs or []]
    return Aggregates.from_pairs(
        items,
        record_count=table.n_records,
        columns=table.columns,
        reporting_length=2 if pairs else 1,
    )


@functools.cache
def _plan(epsilon: float) -> BudgetPlan:
    return plan_budget(
        epsilon=epsilon,
        delta=1e-6,
        rho_record_count=1e-4,
        delta_threshold_share=0.5,
        percentile_share=0.1,
        sigma_proportions=(1.0,),
        model_share=0.9,
    )


def measure(
    table: EncodedTable,
    settings: ModelSettings | None = None,
    epsilon: float = 50.0,
    aggregates: Aggregates | None = None,
) -> ModelMeasurements:
    acc = Accountant(_plan(epsilon))
    return measure_model(
        table,
        aggregates or released(table),
        acc,
        rho=acc.plan.rho_model,
        settings=settings or ModelSettings(),
    )


def joint(model: FittedModel) -> np.ndarray:
    """The model's full joint distribution, by brute force (small models)."""
    grid = np.zeros(model.sizes)
    for cell in itertools.product(*(range(s) for s in model.sizes)):
        p = 1.0
        for i, clique in enumerate(model.cliques):
            m = model.marginals[i]
            value = m[tuple(cell[c] for c in clique)]
            parent = model.parents[i]
            if parent >= 0:
                sep = [c for c in clique if c in model.cliques[parent]]
                axes = tuple(k for k, c in enumerate(clique) if c not in sep)
                value /= m.sum(axis=axes)[tuple(cell[c] for c in sep)]
            p *= value
        grid[cell] = p
    return grid


def test_noise_off_recovers_a_tree_joint_exactly(noise_off: None) -> None:
    table = tree_table()
    measurements = measure(table, ModelSettings(max_clique_size=2, thicken=False))
    model = fit_model(measurements)
    truth = np.zeros(model.sizes)
    np.add.at(truth, tuple(table.codes.T), 1.0)
    truth /= truth.sum()
    np.testing.assert_allclose(joint(model), truth, atol=1e-9)
    assert model.total == pytest.approx(table.n_records)


def test_noise_off_recovers_a_tree_joint_through_triangles(noise_off: None) -> None:
    table = tree_table()
    model = fit_model(measure(table, ModelSettings(max_clique_size=2, thicken=True)))
    assert all(len(c) == 3 for c in model.cliques[1:])
    truth = np.zeros(model.sizes)
    np.add.at(truth, tuple(table.codes.T), 1.0)
    np.testing.assert_allclose(joint(model), truth / truth.sum(), atol=1e-9)


def test_noise_off_recovers_with_triples_too(noise_off: None) -> None:
    table = tree_table()
    model = fit_model(measure(table, ModelSettings(max_clique_size=3)))
    truth = np.zeros(model.sizes)
    np.add.at(truth, tuple(table.codes.T), 1.0)
    np.testing.assert_allclose(joint(model), truth / truth.sum(), atol=1e-9)


def test_noisy_fit_is_a_consistent_distribution() -> None:
    model = fit_model(measure(tree_table(), epsilon=0.5))
    for i, clique in enumerate(model.cliques):
        assert model.marginals[i].min() >= 0
        assert model.marginals[i].sum() == pytest.approx(1.0)
        parent = model.parents[i]
        if parent < 0:
            continue
        sep = [c for c in clique if c in model.cliques[parent]]
        mine = model.marginals[i].sum(
            axis=tuple(k for k, c in enumerate(clique) if c not in sep)
        )
        theirs = model.marginals[parent].sum(
            axis=tuple(k for k, c in enumerate(model.cliques[parent]) if c not in sep)
        )
        np.testing.assert_allclose(mine, theirs, atol=1e-9)


def test_sampling_is_reproducible_with_a_seed(noise_off: None) -> None:
    model = fit_model(measure(tree_table()))
    first = sample_model(model, 300, seed=11)
    again = sample_model(model, 300, seed=11)
    other = sample_model(model, 300, seed=12)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_records_are_complete_labels_in_column_order(noise_off: None) -> None:
    table = tree_table()
    model = fit_model(measure(table))
    frame = sample_model(model, 500, seed=1)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 500
    assert not frame.isna().any().any()
    for column, labels in zip(COLUMNS, LABELS, strict=True):
        assert set(frame[column]) <= set(labels)


def test_sampled_tables_follow_the_model(noise_off: None) -> None:
    table = tree_table()
    model = fit_model(measure(table))
    frame = sample_model(model, 20_000, seed=5)
    real = pd.DataFrame(table.decode(), columns=list(COLUMNS))
    for pair in itertools.combinations(COLUMNS, 2):
        p = real.value_counts(list(pair), normalize=True)
        q = frame.value_counts(list(pair), normalize=True)
        tvd = 0.5 * p.sub(q, fill_value=0).abs().sum()
        assert tvd < 0.02, (pair, tvd)


def test_absent_values_come_back_as_missing(noise_off: None) -> None:
    table = tree_table()
    codes = table.codes.copy()
    codes[::3, 2] = ABSENT
    model = fit_model(measure(EncodedTable(COLUMNS, LABELS, codes)))
    frame = sample_model(model, 3000, seed=2)
    share = frame["C"].isna().mean()
    assert share == pytest.approx(np.mean(codes[:, 2] == ABSENT), abs=0.02)
    assert frame.drop(columns="C").notna().all().all()


def test_forbid_unlisted_keeps_only_listed_combinations(noise_off: None) -> None:
    table = tree_table()
    listed = [
        (("A", "a0"), ("B", "b0")),
        (("A", "a1"), ("B", "b1")),
        (("A", "a0"), ("B", "b2")),
        (("B", "b0"), ("C", "c0")),
        (("B", "b1"), ("C", "c1")),
        (("B", "b2"), ("C", "c0")),
        (("B", "b2"), ("C", "c1")),
    ]
    aggregates = released(table, listed)
    model = fit_model(measure(table, aggregates=aggregates))
    free = sample_model(model, 2000, seed=4)
    frame = sample_model(
        model, 2000, seed=4, aggregates=aggregates, forbid_unlisted=True
    )
    allowed = {frozenset(p) for p in listed}

    def unlisted(frame: pd.DataFrame) -> int:
        bad = 0
        for row in frame.itertuples(index=False):
            present = [
                (c, v) for c, v in zip(COLUMNS, row, strict=True) if v is not pd.NA
            ]
            for pair in itertools.combinations(present, 2):
                listed_pair = frozenset(pair) in allowed
                bad += not listed_pair
        return bad

    assert unlisted(free) > 0
    assert unlisted(frame) == 0
    # Columns C and D have no listed pair with A: they fall back to absent.
    assert frame["D"].isna().all()


def test_forbid_unlisted_drops_values_not_released_at_length_one(
    noise_off: None,
) -> None:
    table = tree_table()
    model = fit_model(measure(table))
    items = [
        ([(c, v)], 10)
        for c, labels in zip(COLUMNS, LABELS, strict=True)
        for v in labels
        if (c, v) != ("D", "d1")
    ]
    aggregates = Aggregates.from_pairs(
        items, record_count=table.n_records, columns=COLUMNS
    )
    frame = sample_model(
        model, 1000, seed=3, aggregates=aggregates, forbid_unlisted=True
    )
    assert "d1" not in set(frame["D"].dropna())


def test_forbid_unlisted_needs_the_aggregates(noise_off: None) -> None:
    model = fit_model(measure(tree_table()))
    with pytest.raises(ParameterError, match="pass aggregates="):
        sample_model(model, 10, seed=1, forbid_unlisted=True)


def test_negative_record_count_is_refused(noise_off: None) -> None:
    model = fit_model(measure(tree_table()))
    with pytest.raises(ParameterError, match="records is -1"):
        sample_model(model, -1, seed=1)


def test_fit_refuses_a_model_above_the_cell_cap(noise_off: None) -> None:
    measurements = measure(tree_table())
    capped = ModelMeasurements(
        **{
            **vars(measurements),
            "settings": ModelSettings(max_model_cells=5),
        }
    )
    with pytest.raises(ParameterError, match="above max_model_cells 5"):
        fit_model(capped)


def test_progress_reaches_the_end(noise_off: None) -> None:
    seen: list[tuple[str, float]] = []
    fit_model(measure(tree_table()), progress=lambda s, f: seen.append((s, f)))
    assert seen[-1] == ("fitting the model", 1.0)


def test_a_merged_cell_is_spread_by_the_noisy_counts(noise_off: None) -> None:
    table = tree_table()
    acc = Accountant(_plan(50.0))
    measurements = measure_model(
        table,
        released(table),
        acc,
        rho=acc.plan.rho_model,
        # Every value counts as rare: each column keeps one merged cell.
        settings=ModelSettings(merge_below=1e12),
    )
    np.testing.assert_array_equal(measurements.merged[3], [0, 0, 0, 1])
    frame = sample_model(fit_model(measurements), 6000, seed=9)
    shares = frame["D"].value_counts(normalize=True).sort_index()
    # Noise off: the one-way counts are exact, so the cell splits like the data.
    d = table.codes[:, 3]
    truth = np.bincount(d[d >= 0], minlength=3) / np.sum(d >= 0)
    np.testing.assert_allclose(shares, truth, atol=0.03)


def test_shares_follow_clipped_counts_and_fall_back_to_even() -> None:
    merged = np.array([0, 0, 0, 1, 1, 2])
    noisy = np.array([6.0, 2.0, -3.0, -1.0, -4.0, 5.0])
    np.testing.assert_allclose(_shares(noisy, merged), [0.75, 0.25, 0.0, 0.5, 0.5, 1.0])
