"""evaluate_release on the bundled NIST excerpt (Massachusetts 2019)."""

from __future__ import annotations

from importlib.resources import as_file, files

import numpy as np
import pytest

from synthcase.evaluate import evaluate_release, k_marginal_score, three_way_score
from synthcase.measure import Aggregates, CombinationSpace, ValueIndex
from synthcase.measure.combinations import count_combinations
from synthcase.prepare import BinSpec, EncodedTable, ReadOptions, load_table, to_frame

pytestmark = pytest.mark.slow

COLUMNS = ("PUMA", "AGEP", "SEX", "MSP", "RAC1P", "OWN_RENT", "EDU", "PINCP_DECILE")


@pytest.fixture(scope="module")
def table() -> EncodedTable:
    options = ReadOptions(
        null_tokens=("N",), columns=COLUMNS, bins=(BinSpec.parse("AGEP=0..100/10"),)
    )
    with as_file(files("synthcase") / "data" / "ma2019.csv") as path:
        return load_table(path, options)


def _exact_counts(table: EncodedTable, length: int) -> list[tuple]:
    index = ValueIndex.from_cardinalities(table.cardinalities)
    return [
        count_combinations(table, CombinationSpace.build(index, k))
        for k in range(1, length + 1)
    ]


def test_thresholded_aggregates_and_a_copy(table: EncodedTable) -> None:
    # Aggregates keeping the exact counts of at least 10 records: nothing is
    # fabricated, exactly the combinations below 10 are suppressed, and every
    # count from 16 up is kept whole.
    counts = _exact_counts(table, 3)
    index = ValueIndex.from_cardinalities(table.cardinalities)
    combos = tuple(
        CombinationSpace.build(index, k).ids_from_keys(keys[held >= 10])
        for k, (keys, held) in enumerate(counts, start=1)
    )
    kept = tuple(held[held >= 10] for _, held in counts)
    aggregates = Aggregates(
        table.columns, table.categories, combos, kept, table.n_records
    )
    evaluation = evaluate_release(
        table, to_frame(table), aggregates, reporting_length=3
    )

    assert evaluation.aggregates_fidelity is not None
    for row, (keys, held) in zip(
        evaluation.aggregates_fidelity.by_length, counts, strict=True
    ):
        assert row.sensitive_combinations == keys.size
        assert row.fabricated == 0
        assert row.suppressed == int((held < 10).sum())
    for bucket in evaluation.aggregates_fidelity.by_bucket:
        if bucket.lowest >= 16:
            assert (bucket.mean_preservation, bucket.mean_proportional_error) == (1, 0)
        if bucket.highest <= 7:
            assert bucket.mean_preservation == 0.0

    # The synthetic records are the sensitive ones: every count is kept and
    # every rare combination stays rare.
    assert evaluation.k_marginal == pytest.approx(1000.0)
    assert evaluation.three_way == pytest.approx(1000.0)
    assert evaluation.group_column == "PUMA"
    for row in evaluation.synthetic_fidelity.by_length:
        assert (row.suppressed, row.fabricated, row.mean_absolute_error) == (0, 0, 0)
    assert all(
        row.share_of_sensitive_rare == 1.0 for row in evaluation.synthetic_leakage
    )
    risk = evaluation.sensitive_risk
    assert 0 < risk.by_length[0].unique_share <= risk.by_length[-1].unique_share
    assert risk.by_length[-1].unique_share <= risk.by_length[-1].rare_share <= 1
    assert len(risk.values) == 10 and len(risk.columns) == len(COLUMNS)


def test_resample_scores_below_a_copy(table: EncodedTable) -> None:
    rng = np.random.default_rng(0)
    sensitive = to_frame(table)
    resample = sensitive.iloc[rng.integers(0, len(sensitive), len(sensitive))]
    score = k_marginal_score(sensitive, resample)
    # A bootstrap resample of 7,634 records scores in the 900s.
    assert 900 < score < 1000, score
    assert 900 < three_way_score(sensitive, resample) < 1000
    evaluation = evaluate_release(table, resample, None, reporting_length=2)
    assert evaluation.k_marginal == pytest.approx(score)
