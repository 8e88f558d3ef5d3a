"""Length 1 with declared columns: public values need no threshold."""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist

import numpy as np
import pytest

from synthcase.measure import DPSettings, measure_marginals
from synthcase.measure.marginals import PUBLIC_VALUE_ETA
from synthcase.measure.noise import NoiseSwitch, threshold_for_delta
from synthcase.prepare import ABSENT, EncodedTable


@pytest.fixture
def noise_off():
    NoiseSwitch.enabled = False
    yield
    NoiseSwitch.enabled = True


def table(public: tuple[bool, ...], rows: list[str]) -> EncodedTable:
    """Columns A (values a0..a3) and B (b0, b1) from rows like ``"a1 b0"``."""
    cells = [row.split() for row in rows]
    categories = (("a0", "a1", "a2", "a3"), ("b0", "b1"))
    codes = np.array(
        [
            [ABSENT if c == "_" else categories[j].index(c) for j, c in enumerate(r)]
            for r in cells
        ],
        dtype=np.int32,
    )
    return EncodedTable(("A", "B"), categories, codes, public=public)


# a1 is rare: 25 records. a3 is declared but no record holds it.
ROWS = ["a0 b0"] * 300 + ["a2 b1"] * 200 + ["a1 b1"] * 25 + ["a0 _"] * 50


def settings(**changes: object) -> DPSettings:
    values: dict[str, object] = {
        "epsilon": 1.0,
        "delta": 1e-6,
        "reporting_length": 1,
        "percentile": 100,
    }
    values.update(changes)
    return DPSettings(**values)  # type: ignore[arg-type]


def singles(release) -> dict[str, int]:  # type: ignore[no-untyped-def]
    labels = release.aggregates.value_labels
    return {
        labels[int(row[0])][1]: int(count)
        for row, count in zip(
            release.aggregates.combinations[0].tolist(),
            release.aggregates.counts[0].tolist(),
            strict=True,
        )
    }


def test_a_rare_declared_value_passes_where_the_threshold_hides_it(
    noise_off: None,
) -> None:
    hidden = measure_marginals(table((), ROWS), settings())
    declared = measure_marginals(table((True, False), ROWS), settings())
    first = declared.lengths[0]
    # The rare value sits between the public cut and the delta threshold.
    assert first.public_cut is not None
    assert first.public_cut < 25 < hidden.lengths[0].threshold
    assert "a1" not in singles(hidden)
    assert singles(declared)["a1"] == 25
    # A declared value no record holds stays out (noise off: count 0).
    assert "a3" not in singles(declared)
    # B is not declared: its values still pass through the threshold, for a
    # unit changing one of them.
    plan = declared.accountant.plan
    assert first.threshold == threshold_for_delta(
        1, first.noise_scale, plan.delta_threshold
    )
    assert first.candidates == 4  # the four declared values of A


def test_the_split_scale_and_losses_follow_the_plan(noise_off: None) -> None:
    release = measure_marginals(table((True, False), ROWS), settings())
    plan = release.accountant.plan
    first = release.lengths[0]
    # Bound 2 (two values per record), one declared and one other column:
    # L2^2 of 1 + 1 = 2, the same as the single mechanism's sqrt(bound)^2.
    assert first.contribution_bound == 2
    expected = plan.sigmas[0] * math.sqrt(2)
    assert expected <= first.noise_scale <= expected * (1 + 1e-15)
    assert first.rho <= plan.rho_lengths[0] * (1 + 1e-12)
    assert first.rho == pytest.approx(plan.rho_lengths[0], rel=1e-9)
    # A column of 4 declared values: any of its absent values passes with
    # probability at most eta (union bound over the 4).
    cut = first.noise_scale * NormalDist().inv_cdf(1 - PUBLIC_VALUE_ETA / (2 * 4))
    assert first.public_cut == pytest.approx(cut)
    assert 0 < first.delta <= plan.delta_threshold


def test_all_declared_spends_no_delta_on_a_threshold(noise_off: None) -> None:
    release = measure_marginals(table((True, True), ROWS), settings())
    plan = release.accountant.plan
    assert plan.delta_threshold == 0.0
    assert release.lengths[0].delta == 0.0
    # The whole delta goes to the conversion, within the target.
    assert release.accountant.delta == pytest.approx(1e-6)
    assert release.accountant.epsilon <= 1.0
    assert singles(release)["b1"] == 225


def test_linked_tables_keep_every_value_behind_the_threshold(
    noise_off: None,
) -> None:
    base = table((True, True), ROWS)
    linked = dataclasses.replace(base, subject_ids=np.arange(base.n_records) // 2)
    release = measure_marginals(linked, settings(), distinct_units=True)
    assert release.lengths[0].public_cut is None
    assert release.lengths[0].candidates is None
    assert release.accountant.plan.delta_threshold > 0


def test_noise_on_every_value_is_a_declared_one_or_found() -> None:
    release = measure_marginals(table((True, False), ROWS), settings(epsilon=4))
    first = release.lengths[0]
    assert first.rho <= release.accountant.plan.rho_lengths[0] * (1 + 1e-12)
    assert set(singles(release)) <= {"a0", "a1", "a2", "a3", "b0", "b1"}
    assert release.accountant.epsilon <= 4.0


def test_the_accounting_does_not_tell_whether_an_undeclared_value_exists(
    noise_off: None,
) -> None:
    # Neighbours: B is never present, then one more record holds a B value.
    empty = ["a0 _"] * 400 + ["a2 _"] * 100
    without = measure_marginals(table((True, False), empty), settings())
    with_one = measure_marginals(table((True, False), [*empty, "_ b1"]), settings())
    for release in (without, with_one):
        assert release.lengths[0].delta > 0
    first, second = without.lengths[0], with_one.lengths[0]
    assert (first.rho, first.delta, first.threshold, first.noise_scale) == (
        second.rho,
        second.delta,
        second.threshold,
        second.noise_scale,
    )
    assert without.accountant.epsilon == with_one.accountant.epsilon
    assert without.accountant.delta == with_one.accountant.delta


def test_a_long_value_list_raises_its_own_cut(noise_off: None) -> None:
    many = [f"v{i}" for i in range(1000)]
    rows = ["v0 x"] * 300 + ["v1 y"] * 300
    codes = np.array(
        [[many.index(r.split()[0]), ["x", "y"].index(r.split()[1])] for r in rows],
        dtype=np.int32,
    )
    big = EncodedTable(
        ("A", "B"), (tuple(many), ("x", "y")), codes, public=(True, True)
    )
    release = measure_marginals(big, settings())
    first = release.lengths[0]
    z_long = NormalDist().inv_cdf(1 - PUBLIC_VALUE_ETA / (2 * 1000))
    assert first.public_cut == pytest.approx(first.noise_scale * z_long)
    assert set(singles(release)) == {"v0", "v1", "x", "y"}
