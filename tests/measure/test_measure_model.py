"""The model's DP measurements: accounting, sensitivity, protected content."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math

import numpy as np
import pytest

from synthcase.errors import BudgetError, DataError, ParameterError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.budget import Accountant, BudgetPlan, plan_budget
from synthcase.measure.model import (
    ModelMeasurements,
    ModelSettings,
    NoisyTable,
    estimate_cost,
    measure_model,
)
from synthcase.measure.noise import scale_for_rho
from synthcase.prepare.table import ABSENT, EncodedTable

COLUMNS = ("A", "B", "C", "D")
LABELS = (("a0", "a1"), ("b0", "b1", "b2"), ("c0", "c1"), ("d0", "d1"))


def make_table(records: int = 400, seed: int = 3) -> EncodedTable:
    rng = np.random.default_rng(seed)
    b = rng.integers(0, 3, records)
    a = (b + rng.integers(0, 2, records) * (rng.random(records) < 0.2)) % 2
    c = (b == 2).astype(int)
    d = rng.integers(0, 2, records)
    codes = np.stack([a, b, c, d], axis=1).astype(np.int32)
    codes[::7, 3] = ABSENT
    return EncodedTable(COLUMNS, LABELS, codes)


def released(table: EncodedTable, drop: dict[str, str] | None = None) -> Aggregates:
    """Aggregates releasing every value except those in ``drop``."""
    drop = drop or {}
    items = [
        ([(c, v)], 10)
        for c, labels in zip(table.columns, table.categories, strict=True)
        for v in labels
        if drop.get(c) != v
    ]
    return Aggregates.from_pairs(items, record_count=table.n_records, columns=COLUMNS)


@functools.cache
def _plan(model_share: float, epsilon: float) -> BudgetPlan:
    return plan_budget(
        epsilon=epsilon,
        delta=1e-6,
        rho_record_count=1e-4,
        delta_threshold_share=0.5,
        percentile_share=0.1,
        sigma_proportions=(1.0,),
        model_share=model_share,
    )


def accountant(model_share: float = 0.5, epsilon: float = 2.0) -> Accountant:
    return Accountant(_plan(model_share, epsilon))


def measure(
    table: EncodedTable, settings: ModelSettings | None = None, **kwargs: object
) -> tuple[ModelMeasurements, Accountant]:
    acc = accountant()
    result = measure_model(
        table,
        released(table),
        acc,
        rho=acc.plan.rho_model,
        settings=settings or ModelSettings(merge_below=0.0),
        **kwargs,  # type: ignore[arg-type]
    )
    return result, acc


@pytest.mark.parametrize("thicken", [False, True])
def test_spends_stay_within_the_model_budget(thicken: bool) -> None:
    table = make_table()
    result, acc = measure(
        table, ModelSettings(thicken=thicken, max_clique_size=2, rounds=0)
    )
    labels = [s.label for s in acc.spends]
    assert labels == [
        "model one-way tables",
        "model clique selection (3 noisy-max steps)",
        f"model clique tables ({5 if thicken else 3} tables)",
    ]
    spent = math.fsum(s.rho for s in acc.spends)
    assert spent <= acc.plan.rho_model
    assert spent == pytest.approx(acc.plan.rho_model, rel=1e-6)
    assert result.rho == pytest.approx(spent)
    acc.check()


@pytest.mark.parametrize("thicken", [False, True])
def test_each_vector_of_tables_has_sensitivity_sqrt_of_its_tables(
    thicken: bool,
) -> None:
    table = make_table()
    settings = ModelSettings(
        one_way_share=0.2,
        select_share=0.3,
        max_clique_size=2,
        thicken=thicken,
        rounds=0,
    )
    result, acc = measure(table, settings)
    rho = acc.plan.rho_model
    d, steps = len(COLUMNS), len(COLUMNS) - 1
    # Thickening adds a pair to each of the two non-root pair cliques.
    tables = steps + 2 if thicken else steps
    assert len(result.extra) == tables - steps
    assert result.one_way[0].scale == pytest.approx(
        scale_for_rho(math.sqrt(d), 0.2 * rho), rel=1e-8
    )
    assert result.cliques[0].scale == pytest.approx(
        scale_for_rho(math.sqrt(tables), 0.5 * rho), rel=1e-8
    )
    by_label = {s.label: s.rho for s in acc.spends}
    # OpenDP's map of the Gaussian: sensitivity^2 / (2 scale^2).
    one = result.one_way[0].scale
    assert by_label["model one-way tables"] == pytest.approx(d / (2 * one**2))
    clique = result.cliques[0].scale
    assert by_label[f"model clique tables ({tables} tables)"] == pytest.approx(
        tables / (2 * clique**2)
    )
    assert by_label["model clique selection (3 noisy-max steps)"] == pytest.approx(
        0.3 * rho, rel=1e-6
    )


def test_thickening_keeps_a_junction_tree(noise_off: None) -> None:
    result, _ = measure(make_table(), ModelSettings(max_clique_size=2, thicken=True))
    for i, (clique, parent) in enumerate(
        zip(result.model_cliques, result.parents, strict=True)
    ):
        assert set(result.cliques[i].columns) <= set(clique)
        if parent >= 0:
            assert len(clique) == 3
            assert set(result.separators[i]) <= set(result.model_cliques[parent])
    for t in result.extra:
        assert any(set(t.columns) <= set(c) for c in result.model_cliques)


def test_thickening_keeps_every_clique_within_the_cell_limit(
    noise_off: None,
) -> None:
    # B has 3 values plus other: a triangle through it has 4 * 3 * 3 = 36
    # cells or more, above the limit of 30, so no triangle is made.
    settings = ModelSettings(
        max_clique_size=2, thicken=True, max_clique_cells=30, rounds=0
    )
    result, _ = measure(make_table(), settings)
    sizes = result.merged_sizes
    for clique in result.model_cliques:
        assert math.prod(sizes[c] for c in clique) <= 30
    assert len(result.extra) < 2


def test_measurements_hold_only_protected_tables_and_public_domains() -> None:
    table = make_table()
    result, _ = measure(table)
    fields = {f.name for f in dataclasses.fields(ModelMeasurements)}
    assert fields == {
        "columns",
        "domains",
        "one_way",
        "cliques",
        "parents",
        "separators",
        "model_cliques",
        "extra",
        "merged",
        "settings",
        "rounds",
        "base_cliques",
        "base_parents",
        "start",
        "rho",
    }
    assert result.domains == LABELS
    for t in result.one_way:
        assert isinstance(t, NoisyTable)
        assert t.values.dtype == np.float64
        assert t.values.shape == (len(LABELS[t.columns[0]]) + 1,)
    merged = result.merged_sizes
    for t in result.cliques:
        assert isinstance(t, NoisyTable)
        assert t.values.dtype == np.float64
        assert t.values.shape == tuple(merged[c] for c in t.columns)
        assert t.scale > 0
    for value in vars(result).values():
        assert not isinstance(value, EncodedTable | np.ndarray)
    for cells, labels in zip(result.merged, LABELS, strict=True):
        assert cells.shape == (len(labels) + 1,)
    # Noise is on: the one-way tables are not the true counts.
    true = [
        np.bincount(
            np.where(table.codes[:, j] < 0, len(LABELS[j]), table.codes[:, j]),
            minlength=len(LABELS[j]) + 1,
        )
        for j in range(4)
    ]
    assert any(
        not np.array_equal(t.values, x)
        for t, x in zip(result.one_way, true, strict=True)
    )


def test_structure_is_a_junction_tree_covering_every_column(noise_off: None) -> None:
    result, _ = measure(make_table(), ModelSettings(merge_below=0.0, rounds=0))
    assert len(result.cliques) == len(COLUMNS) - 1
    assert result.parents[0] == -1
    covered = set(result.cliques[0].columns)
    for clique, parent, sep in zip(
        result.cliques[1:], result.parents[1:], result.separators[1:], strict=True
    ):
        assert parent >= 0
        assert set(sep) <= set(result.cliques[parent].columns)
        new = set(clique.columns) - set(sep)
        assert len(new) == 1 and not new & covered
        covered |= new
    assert covered == set(range(len(COLUMNS)))


def test_noise_off_tables_are_exact_with_suppressed_values_in_other(
    noise_off: None,
) -> None:
    table = make_table()
    acc = accountant()
    result = measure_model(
        table,
        released(table, drop={"B": "b1"}),
        acc,
        rho=acc.plan.rho_model,
        settings=ModelSettings(merge_below=0.0),
    )
    assert result.domains[1] == ("b0", "b2")
    b = table.codes[:, 1]
    expected = [np.sum(b == 0), np.sum(b == 2), np.sum(b == 1)]
    np.testing.assert_array_equal(result.one_way[1].values, expected)
    d = table.codes[:, 3]
    np.testing.assert_array_equal(
        result.one_way[3].values, [np.sum(d == 0), np.sum(d == 1), np.sum(d < 0)]
    )
    for clique in result.cliques:
        assert clique.values.sum() == table.n_records


def test_public_domains_replace_released_values(noise_off: None) -> None:
    table = make_table()
    acc = accountant()
    result = measure_model(
        table,
        released(table, drop={"B": "b1"}),
        acc,
        rho=acc.plan.rho_model,
        settings=ModelSettings(merge_below=0.0),
        public_domains={"B": ("b0", "b1", "b2", "b3")},
    )
    assert result.domains[1] == ("b0", "b1", "b2", "b3")
    b = table.codes[:, 1]
    expected = [np.sum(b == k) for k in range(3)] + [0, 0]
    np.testing.assert_array_equal(result.one_way[1].values, expected)


def test_exceeding_the_budget_fails_closed() -> None:
    table = make_table()
    acc = accountant()
    with pytest.raises(BudgetError, match="above the budget"):
        measure_model(
            table,
            released(table),
            acc,
            rho=acc.plan.rho_model * 3,
            settings=ModelSettings(),
        )


@pytest.mark.parametrize("rho", [0.0, -1.0])
def test_no_model_budget_is_refused(rho: float) -> None:
    table = make_table()
    with pytest.raises(BudgetError, match="model_share above 0"):
        measure_model(
            table, released(table), accountant(), rho=rho, settings=ModelSettings()
        )


def test_cost_cap_refuses_before_spending() -> None:
    table = make_table()
    acc = accountant()
    settings = ModelSettings(max_model_cells=20, rounds=0)
    with pytest.raises(ParameterError) as err:
        measure_model(
            table, released(table), acc, rho=acc.plan.rho_model, settings=settings
        )
    message = str(err.value)
    assert "the model may need 108 cells" in message
    assert "above max_model_cells 20" in message
    assert "raise max_model_cells" in message
    assert acc.spends == []


def test_estimate_cost_bounds_the_model() -> None:
    settings = ModelSettings(max_clique_size=3, max_clique_cells=50, rounds=0)
    cost = estimate_cost([4, 5, 3, 2], settings)
    assert cost.cells == 3 * 50
    assert cost.seconds > 0 and cost.bytes > 0
    small = estimate_cost([2, 2, 2], ModelSettings(max_clique_size=2, rounds=0))
    assert small.cells == 2 * 4
    # Rounds may grow the model up to round_cells and fit it once per round.
    grown = estimate_cost(
        [4, 5, 3, 2], dataclasses.replace(settings, rounds=4, round_cells=10_000)
    )
    assert grown.cells == 10_000
    assert grown.seconds > cost.seconds
    # A lower cost cap also caps what the rounds may grow.
    capped = dataclasses.replace(settings, rounds=4, max_model_cells=3_000)
    assert estimate_cost([4, 5, 3, 2], capped).cells == 3_000


def test_columns_must_match_the_aggregates() -> None:
    table = make_table()
    other = EncodedTable(("A", "B", "C", "E"), LABELS, table.codes)
    with pytest.raises(DataError, match="measure the model on the table"):
        measure_model(
            other, released(table), accountant(), rho=0.1, settings=ModelSettings()
        )


def test_unknown_public_domain_column_is_refused() -> None:
    table = make_table()
    with pytest.raises(ParameterError, match="public_domains names"):
        measure_model(
            table,
            released(table),
            accountant(),
            rho=0.1,
            settings=ModelSettings(),
            public_domains={"Z": ("1",)},
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"one_way_share": 0.0}, "one_way_share is 0.0; it must be in"),
        ({"select_share": 1.0}, "select_share is 1.0; it must be in"),
        ({"one_way_share": 0.5, "select_share": 0.5}, "must stay below 1"),
        ({"max_clique_size": 5}, "max_clique_size is 5; it must be 2, 3 or 4"),
        ({"max_clique_cells": 0}, "max_clique_cells is 0"),
        ({"max_model_cells": 0}, "max_model_cells is 0"),
        ({"iterations": -1}, "iterations is -1"),
        ({"merge_below": -1.0}, "merge_below is -1.0"),
        ({"noise_penalty": float("inf")}, "noise_penalty is inf"),
        ({"thicken": "yes"}, "thicken is 'yes'; it must be true, false"),
        ({"thicken_below": -0.1}, "thicken_below is -0.1"),
        ({"rounds": -1}, "rounds is -1; it must be a whole number from 0 to 1000"),
        ({"rounds": 1001}, "rounds is 1001; it must be a whole number from 0"),
        ({"rounds": True}, "rounds is True"),
        ({"round_share": 0.0}, "round_share is 0.0; it must be in"),
        (
            {"one_way_share": 0.4, "select_share": 0.3, "round_share": 0.3},
            "plus round_share 0.3 is 1; together they must stay below 1",
        ),
        ({"round_cells": 0}, "round_cells is 0"),
        ({"max_clique_size": 2.0}, "max_clique_size is 2.0; it must be 2, 3 or 4"),
        ({"iterations": True}, "iterations is True; it must be a whole number"),
        ({"round_share": 0.7}, "so round_share must be below 0.6 with these"),
        ({"round_iterations": 0}, "round_iterations is 0"),
    ],
)
def test_settings_are_validated(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        ModelSettings(**kwargs)  # type: ignore[arg-type]


def test_selection_respects_the_clique_limits(noise_off: None) -> None:
    table = make_table()
    for size, cells in itertools.product((2, 3), (12, 100)):
        result, _ = measure(
            table, ModelSettings(max_clique_size=size, max_clique_cells=cells)
        )
        for clique in result.cliques:
            assert len(clique.columns) <= size
            assert clique.values.size <= max(cells, 12)


def test_rare_values_share_one_cell(noise_off: None) -> None:
    table = make_table()
    acc = accountant()
    result = measure_model(
        table,
        released(table),
        acc,
        rho=acc.plan.rho_model,
        settings=ModelSettings(merge_below=1.0),
        public_domains={"B": ("b0", "b1", "b2", "x", "y", "z")},
    )
    # x, y, z hold no record: one merged cell after b0..b2, then other.
    np.testing.assert_array_equal(result.merged[1], [0, 1, 2, 3, 3, 3, 4])
    for clique in result.cliques:
        if 1 in clique.columns:
            axis = clique.columns.index(1)
            assert clique.values.shape[axis] == 5
            assert clique.values.take(3, axis=axis).sum() == 0
