"""The model's adaptive rounds: accounting, choice and the grown tree."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from synthcase.measure import _model_adaptive as adaptive
from synthcase.measure._model_adaptive import ROUND_SENSITIVITY
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.budget import Accountant, plan_budget
from synthcase.measure.model import ModelMeasurements, ModelSettings, measure_model
from synthcase.measure.noise import scale_for_rho
from synthcase.prepare.table import EncodedTable
from synthcase.synthesize.model_based import fit_model

COLUMNS = ("A", "B", "C", "D")
LABELS = (("a0", "a1"), ("b0", "b1"), ("c0", "c1"), ("d0", "d1", "d2"))


def xor_table(records: int = 2000, seed: int = 11) -> EncodedTable:
    """C is A xor B: every pair is independent, the triple is not."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, records)
    b = rng.integers(0, 2, records)
    d = rng.integers(0, 3, records)
    codes = np.stack([a, b, a ^ b, d], axis=1).astype(np.int32)
    return EncodedTable(COLUMNS, LABELS, codes)


def released(table: EncodedTable) -> Aggregates:
    items = [
        ([(c, v)], 10)
        for c, labels in zip(table.columns, table.categories, strict=True)
        for v in labels
    ]
    return Aggregates.from_pairs(items, record_count=table.n_records, columns=COLUMNS)


def accountant(epsilon: float = 4.0) -> Accountant:
    return Accountant(
        plan_budget(
            epsilon=epsilon,
            delta=1e-6,
            rho_record_count=1e-4,
            delta_threshold_share=0.5,
            percentile_share=0.1,
            sigma_proportions=(1.0,),
            model_share=0.5,
        )
    )


def tree_of_pairs(**kwargs: object) -> ModelSettings:
    return ModelSettings(
        max_clique_size=2,
        thicken=False,
        merge_below=0.0,
        **kwargs,  # type: ignore[arg-type]
    )


def measure_xor(
    settings: ModelSettings, epsilon: float = 4.0
) -> tuple[ModelMeasurements, Accountant]:
    """Measure the xor table with the whole model budget of a fresh plan."""
    table = xor_table()
    acc = accountant(epsilon)
    result = measure_model(
        table, released(table), acc, rho=acc.plan.rho_model, settings=settings
    )
    return result, acc


def test_rounds_spend_their_planned_share_and_no_more() -> None:
    table = xor_table()
    acc = accountant()
    rho = acc.plan.rho_model
    settings = tree_of_pairs(rounds=3, round_share=0.4)
    result = measure_model(table, released(table), acc, rho=rho, settings=settings)
    labels = [s.label for s in acc.spends]
    assert labels[:3] == [
        "model one-way tables",
        "model clique selection (3 noisy-max steps)",
        "model clique tables (3 tables)",
    ]
    assert labels[3:] == [
        f"model round {k} (noisy max and one table)" for k in (1, 2, 3)
    ]
    # Each round: a tenth of its share for the noisy max (sensitivity 1),
    # the rest for one table (L2 sensitivity 1), as OpenDP's maps give them.
    per_round = 0.4 * rho / 3
    select_scale = scale_for_rho(ROUND_SENSITIVITY, 0.1 * per_round)
    table_scale = scale_for_rho(1.0, 0.9 * per_round)
    expected = (ROUND_SENSITIVITY / select_scale) ** 2 / 2 + 1 / (2 * table_scale**2)
    for spend in acc.spends[3:]:
        assert spend.rho == pytest.approx(expected, rel=1e-9)
    assert acc.spends[2].rho == pytest.approx(0.2 * rho, rel=1e-6)
    spent = math.fsum(s.rho for s in acc.spends)
    assert spent <= rho
    assert spent == pytest.approx(rho, rel=1e-6)
    assert result.rho == pytest.approx(spent)
    assert result.rounds == 3
    assert [t.scale for t in result.extra] == [pytest.approx(table_scale)] * 3
    acc.check()


def test_a_round_finds_the_dependence_no_pair_shows(noise_off: None) -> None:
    table = xor_table()
    settings = tree_of_pairs(rounds=1)
    result, _ = measure_xor(settings)
    # The tree of pairs cannot hold A xor B; the round measures the triple.
    assert [t.columns for t in result.extra] == [(0, 1, 2)]
    assert any({0, 1, 2} <= set(c) for c in result.model_cliques)
    assert result.base_cliques != result.model_cliques
    model = fit_model(result)
    inside = next(i for i, c in enumerate(model.cliques) if {0, 1, 2} <= set(c))
    clique = model.cliques[inside]
    axes = tuple(k for k, c in enumerate(clique) if c not in (0, 1, 2))
    fitted = model.marginals[inside].sum(axis=axes) if axes else model.marginals[inside]
    codes = table.codes.astype(np.int64)
    true = np.zeros((2, 2, 2))
    np.add.at(true, (codes[:, 0], codes[:, 1], codes[:, 2]), 1)
    # The model's cells hold the other cell too; values are 0..1 here.
    np.testing.assert_allclose(fitted[:2, :2, :2], true / len(codes), atol=0.01)
    # A xor B: the impossible half of the cube is (nearly) empty.
    assert fitted[0, 0, 1] + fitted[0, 1, 0] + fitted[1, 0, 0] + fitted[1, 1, 1] < 0.02
    # Without the last round's model to start from, the fit starts from the
    # base tree's and reaches the same distribution.
    again = fit_model(dataclasses.replace(result, start=()))
    np.testing.assert_allclose(
        again.marginals[inside], model.marginals[inside], atol=0.01
    )


def test_without_rounds_the_triple_stays_independent(noise_off: None) -> None:
    result, _ = measure_xor(tree_of_pairs(rounds=0))
    assert result.rounds == 0 and result.extra == ()
    assert result.base_cliques == result.model_cliques
    model = fit_model(result)
    # No clique holds A, B and C: the model makes C independent of (A, B),
    # so the impossible half of the cube gets about half of the records.
    assert not any({0, 1, 2} <= set(c) for c in model.cliques)


def test_a_model_at_its_cell_limit_still_spends_its_rounds(noise_off: None) -> None:
    settings = tree_of_pairs(rounds=2, round_cells=1)
    result, acc = measure_xor(settings)
    # No set may grow the model, but sets a clique holds add nothing: the
    # rounds measure those again and the budget is spent as planned.
    assert result.rounds == 2
    assert result.model_cliques == result.base_cliques
    for t in result.extra:
        assert any(set(t.columns) <= set(c) for c in result.base_cliques)
    assert math.fsum(s.rho for s in acc.spends) == pytest.approx(
        acc.plan.rho_model, rel=1e-6
    )


def test_more_than_52_columns_are_measured(noise_off: None) -> None:
    # einsum takes axis labels below 52 only; column numbers go beyond.
    rng = np.random.default_rng(4)
    columns = tuple(f"c{j}" for j in range(56))
    labels = tuple(("0", "1") for _ in columns)
    codes = rng.integers(0, 2, (300, 56)).astype(np.int32)
    codes[:, 55] = codes[:, 0] ^ codes[:, 54]
    table = EncodedTable(columns, labels, codes)
    items = [([(c, v)], 10) for c in columns for v in ("0", "1")]
    aggregates = Aggregates.from_pairs(items, record_count=300, columns=columns)
    acc = accountant(epsilon=8.0)
    result = measure_model(
        table,
        aggregates,
        acc,
        rho=acc.plan.rho_model,
        settings=tree_of_pairs(rounds=1),
    )
    assert result.rounds == 1
    assert fit_model(result).cells > 0


def test_the_kept_tables_may_be_recounted_without_changing_a_round(
    noise_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = xor_table()
    picks = []
    for cache in (adaptive.CACHE_BYTES, 0):
        monkeypatch.setattr(adaptive, "CACHE_BYTES", cache)
        acc = accountant()
        result = measure_model(
            table,
            released(table),
            acc,
            rho=acc.plan.rho_model,
            settings=tree_of_pairs(rounds=3),
        )
        picks.append([t.columns for t in result.extra])
    assert picks[0] == picks[1]


def test_the_grown_tree_holds_every_measured_table() -> None:
    result, _ = measure_xor(tree_of_pairs(rounds=4), epsilon=8.0)
    for t in (*result.cliques, *result.extra):
        assert any(set(t.columns) <= set(c) for c in result.model_cliques)
    for base in result.base_cliques:
        assert any(set(base) <= set(c) for c in result.model_cliques)
    for i, (clique, parent) in enumerate(
        zip(result.model_cliques, result.parents, strict=True)
    ):
        assert parent < i
        expected = tuple(
            c for c in clique if parent >= 0 and c in result.model_cliques[parent]
        )
        assert result.separators[i] == expected
    # The final fit starts from the last round's model, one table per clique.
    sizes = result.merged_sizes
    assert [m.shape for m in result.start] == [
        tuple(sizes[c] for c in clique) for clique in result.model_cliques
    ]
    assert all(m.sum() == pytest.approx(1.0) for m in result.start)
    structure = result.structure()
    measured = list(itertools.chain.from_iterable(e["measured"] for e in structure))
    assert len(measured) == len(result.cliques) + len(result.extra)
    assert all(len(e["noise_scales"]) == len(e["measured"]) for e in structure)
