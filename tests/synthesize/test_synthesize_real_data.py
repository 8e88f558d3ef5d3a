"""End to end on the bundled ACS extract: measure, then synthesize."""

from __future__ import annotations

import itertools
from importlib.resources import as_file, files

import pandas as pd
import pytest

from synthcase.measure import DPSettings, measure_marginals
from synthcase.prepare import BinSpec, ReadOptions, load_table
from synthcase.synthesize import SynthesisSettings, synthesize_from_aggregates

COLUMNS = ("AGEP", "SEX", "MSP", "EDU", "PINCP_DECILE", "HOUSING_TYPE", "PUMA")


@pytest.mark.slow
def test_ma2019_release_and_synthesis_end_to_end() -> None:
    options = ReadOptions(
        null_tokens=("N",),
        columns=COLUMNS,
        bins=(BinSpec.parse("AGEP=0,18,30,45,65,120"),),
    )
    with as_file(files("synthcase") / "data" / "ma2019.csv") as path:
        table = load_table(path, options)
    assert table.n_records == 7634

    settings = DPSettings(epsilon=4.0, reporting_length=3)
    release = measure_marginals(table, settings)
    accountant = release.accountant
    assert accountant.epsilon <= 4.0
    assert accountant.delta <= accountant.plan.delta
    assert accountant.rho <= accountant.plan.rho_total
    aggregates = release.aggregates
    assert aggregates.columns == COLUMNS
    assert [len(c) for c in aggregates.combinations] == [
        r.released for r in release.lengths
    ]
    assert all(c.size > 0 for c in aggregates.counts)

    frame = synthesize_from_aggregates(aggregates, SynthesisSettings(seed=2019))
    # Record count noise at epsilon 0.04 has scale 25: a few hundred is far.
    assert abs(len(frame) - 7634) < 300, len(frame)
    assert list(frame.columns) == list(COLUMNS)

    labels = aggregates.value_labels
    released = {
        frozenset(labels[i] for i in row)
        for combos in aggregates.combinations
        for row in combos.tolist()
    }
    missing = set()
    for row in frame.drop_duplicates().itertuples(index=False):
        present = [
            (column, value)
            for column, value in zip(COLUMNS, row, strict=True)
            if not pd.isna(value)
        ]
        for k in (1, 2, 3):
            missing.update(
                frozenset(c)
                for c in itertools.combinations(present, k)
                if frozenset(c) not in released
            )
    assert not missing, sorted(map(sorted, missing))[:5]
