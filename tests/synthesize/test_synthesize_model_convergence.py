"""How closely the fitted model reproduces exact tables (noise switched off)."""

from __future__ import annotations

from importlib.resources import as_file, files

import numpy as np
import pytest

from synthcase.measure.marginals import measure_marginals
from synthcase.measure.model import ModelSettings, measure_model
from synthcase.measure.settings import DPSettings
from synthcase.prepare import BinSpec, ReadOptions, load_table
from synthcase.synthesize.model_based import fit_model

COLUMNS = ("PUMA", "AGEP", "SEX", "MSP", "RAC1P", "EDU", "PINCP_DECILE", "DPHY")
AGE_BINS = BinSpec.parse("AGEP=0,18,30,45,65,100")


def worst_distance(settings: ModelSettings) -> float:
    """Largest total variation between a measured table and the fitted model."""
    options = ReadOptions(null_tokens=("N",), columns=COLUMNS, bins=(AGE_BINS,))
    with as_file(files("synthcase") / "data" / "ma2019.csv") as path:
        table = load_table(path, options)
    release = measure_marginals(
        table, DPSettings(epsilon=4.0, delta=1e-6, reporting_length=1, model_share=0.8)
    )
    measurements = measure_model(
        table,
        release.aggregates,
        release.accountant,
        rho=release.accountant.plan.rho_model,
        settings=settings,
        public_domains={AGE_BINS.column: AGE_BINS.labels()},
    )
    model = fit_model(measurements)
    worst = 0.0
    for t in (*measurements.cliques, *measurements.extra):
        i = next(i for i, c in enumerate(model.cliques) if set(t.columns) <= set(c))
        clique = model.cliques[i]
        axes = tuple(k for k, c in enumerate(clique) if c not in t.columns)
        fitted = model.marginals[i].sum(axis=axes) if axes else model.marginals[i]
        distance = 0.5 * np.abs(fitted - t.values / t.values.sum()).sum()
        worst = max(worst, float(distance))
    return worst


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="the default 300 iterations stop before the fit converges "
    "(measured: worst table 0.0097 in total variation; 0.0028 at 3000)",
)
def test_the_default_fit_reproduces_exact_tables(noise_off: None) -> None:
    assert worst_distance(ModelSettings()) < 0.005
