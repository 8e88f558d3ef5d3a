"""evaluate_release on a table small enough to count by hand.

Sensitive records (A, B): (a1,b1) (a1,b1) (a1,b2) (a2,b2) (a2,-).
Synthetic records: (a1,b1) (a1,b2) (a2,b2) (a2,b3).
Aggregates: a1 4, a2 2, b1 2, b2 3, (a1,b1) 2, (a2,b1) 1.
Every expected number below was worked out on paper from these.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthcase.errors import DataError, ParameterError
from synthcase.evaluate import Evaluation, evaluate_release
from synthcase.measure import Aggregates
from synthcase.prepare import EncodedTable, to_frame


@pytest.fixture
def evaluation(
    sensitive: EncodedTable, synthetic: pd.DataFrame, aggregates: Aggregates
) -> Evaluation:
    return evaluate_release(
        sensitive, synthetic, aggregates, reporting_length=2, resolution=3
    )


def test_aggregates_by_length(evaluation: Evaluation) -> None:
    assert evaluation.aggregates_fidelity is not None
    one, two = evaluation.aggregates_fidelity.by_length
    assert (one.sensitive_combinations, one.released_combinations) == (4, 4)
    assert (one.suppressed, one.fabricated) == (0, 0)
    assert one.mean_absolute_error == pytest.approx(0.5)  # |4-3| and |3-2| of 4
    assert one.mean_preservation == pytest.approx(1.0)  # released >= true
    assert one.mean_proportional_error == pytest.approx(5 / 24)  # (1/3 + 1/2) / 4
    assert (two.sensitive_combinations, two.released_combinations) == (3, 2)
    assert (two.suppressed, two.suppressed_share) == (2, pytest.approx(2 / 3))
    assert (two.fabricated, two.fabricated_share) == (1, pytest.approx(1 / 2))
    assert two.mean_absolute_error == pytest.approx(3 / 4)  # 0, 1, 1, 1
    assert two.mean_preservation == pytest.approx(1 / 3)  # 1, 0, 0
    assert two.mean_proportional_error == pytest.approx(2 / 3)  # 0, 1, 1
    assert evaluation.aggregates_fidelity.mean_preservation == pytest.approx(5 / 7)
    assert evaluation.aggregates_fidelity.mean_absolute_error == pytest.approx(5 / 8)


def test_aggregates_by_bucket(evaluation: Evaluation) -> None:
    assert evaluation.aggregates_fidelity is not None
    ones, twos = evaluation.aggregates_fidelity.by_bucket
    # True count 1: (a1,b2) and (a2,b2), both suppressed.
    assert (ones.bucket, ones.lowest, ones.highest, ones.combinations) == (
        "1",
        1,
        1,
        2,
    )
    assert ones.mean_preservation == 0.0
    assert ones.mean_proportional_error == 1.0
    # True count 2-3: a1 (3), a2, b1, b2, (a1,b1) (2 each).
    assert (twos.bucket, twos.combinations) == ("2-3", 5)
    assert twos.mean_preservation == pytest.approx(1.0)
    assert twos.mean_proportional_error == pytest.approx(1 / 6)  # (1/3 + 1/2) / 5


def test_synthetic_by_length(evaluation: Evaluation) -> None:
    one, two = evaluation.synthetic_fidelity.by_length
    assert (one.released_combinations, one.suppressed, one.fabricated) == (5, 0, 1)
    assert one.fabricated_share == pytest.approx(1 / 5)  # b3
    assert one.mean_absolute_error == pytest.approx(3 / 5)  # a1, b1, b3 off by 1
    assert one.mean_preservation == pytest.approx(19 / 24)  # 2/3, 1, 1/2, 1
    assert one.mean_proportional_error == pytest.approx(5 / 24)
    assert (two.released_combinations, two.fabricated) == (4, 1)  # (a2,b3)
    assert two.mean_absolute_error == pytest.approx(1 / 2)
    assert two.mean_preservation == pytest.approx(5 / 6)  # 1/2, 1, 1
    assert two.mean_proportional_error == pytest.approx(1 / 6)


def test_leakage(evaluation: Evaluation) -> None:
    one, two = evaluation.synthetic_leakage
    # Rare (< 3): a2, b1, b2 in the sensitive records; all five values in the
    # synthetic ones.
    assert (one.sensitive_rare, one.synthetic_rare, one.leaked) == (3, 5, 3)
    assert one.share_of_sensitive_rare == 1.0
    assert one.share_of_synthetic_rare == pytest.approx(3 / 5)
    assert (two.sensitive_rare, two.synthetic_rare, two.leaked) == (3, 4, 3)
    assert two.share_of_synthetic_rare == pytest.approx(3 / 4)


def test_sensitive_risk(evaluation: Evaluation) -> None:
    risk = evaluation.sensitive_risk
    assert risk.unit == "record"
    up_to_one, up_to_two = risk.by_length
    assert (up_to_one.unique_share, up_to_one.rare_share) == (0.0, 1.0)
    # Records 3 and 4 hold (a1,b2) and (a2,b2), each held once.
    assert (up_to_two.unique_share, up_to_two.rare_share) == (0.4, 1.0)
    # Six rare combinations: a2, b1, b2, (a1,b1), (a1,b2), (a2,b2).
    assert [(v.column, v.value, v.rare_combinations) for v in risk.values] == [
        ("B", "b2", 3),
        ("A", "a1", 2),
        ("A", "a2", 2),
        ("B", "b1", 2),
    ]
    assert risk.values[0].share == 0.5
    assert [(c.column, c.rare_combinations) for c in risk.columns] == [
        ("B", 5),
        ("A", 4),
    ]


def test_records_and_scores(evaluation: Evaluation) -> None:
    # Synthetic preservation over all seven: (2/3 + 1 + 1/2 + 1 + 1/2 + 1 + 1) / 7.
    assert evaluation.synthetic_fidelity.mean_preservation == pytest.approx(17 / 21)
    assert evaluation.records.record_expansion == pytest.approx(4 / 5)
    assert evaluation.records.sensitive_filled_share == pytest.approx(4 / 5)
    assert evaluation.records.synthetic_filled_share == 1.0
    # One pair (A,B), absent a value of its own: |.4-.25| + .05 + .05 + .2 + .25.
    assert evaluation.k_marginal == pytest.approx(650.0)
    assert evaluation.three_way == pytest.approx(650.0)  # fewer than 3 columns
    assert evaluation.group_column is None


def test_summary_sentences(evaluation: Evaluation) -> None:
    assert evaluation.summary == (
        "In the sensitive data, 40.0% of records hold a combination of up to 2 "
        "values that no other record holds, and 100.0% hold one that fewer than 3 "
        "records share; the column in the most rare combinations is B.",
        "The aggregates keep 71.4% of the sensitive counts on average (mean "
        "absolute error 0.6 per combination), suppress 28.6% of the sensitive "
        "combinations and fabricate 16.7% of theirs.",
        "Of the 6 combinations of up to 2 values that fewer than 3 sensitive "
        "records share, 100.0% (6) appear as rare combinations in the synthetic "
        "data too, where 22.2% of the combinations are fabricated.",
        "The synthetic data score 650 of 1000 on NIST's k-marginal measure and 650 "
        "on 3-way marginals, keep 81.0% of the sensitive counts on average and "
        "hold 0.80 times as many records as the sensitive data.",
    )


def test_to_dict_is_json_and_marked_sensitive(evaluation: Evaluation) -> None:
    data = evaluation.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert "sensitive data" in data["status"]
    assert data["scores"]["k_marginal"] == pytest.approx(650.0)
    assert data["sensitive_risk"]["unique_share"] == 0.4
    assert data["aggregates_fidelity"]["by_length"][1]["suppressed"] == 2


def test_frame_input_matches_encoded_input(
    sensitive: EncodedTable,
    synthetic: pd.DataFrame,
    aggregates: Aggregates,
    evaluation: Evaluation,
) -> None:
    from_frame = evaluate_release(
        to_frame(sensitive), synthetic, aggregates, reporting_length=2, resolution=3
    )
    assert from_frame.to_dict() == evaluation.to_dict()


def test_row_order_does_not_matter(
    sensitive: EncodedTable, synthetic: pd.DataFrame, evaluation: Evaluation
) -> None:
    shuffled = EncodedTable(
        sensitive.columns, sensitive.categories, sensitive.codes[[4, 2, 0, 3, 1]]
    )
    again = evaluate_release(
        shuffled, synthetic.iloc[::-1], None, reporting_length=2, resolution=3
    )
    assert again.synthetic_fidelity == evaluation.synthetic_fidelity
    assert again.sensitive_risk == evaluation.sensitive_risk
    assert again.aggregates_fidelity is None
    assert again.summary[1] == "No aggregates were evaluated."


def test_subjects_count_once(synthetic: pd.DataFrame) -> None:
    # Subject 7 owns two records with (a1,b1): the combination is held by one
    # subject, so it is unique at the subject level although two records hold it.
    table = EncodedTable(
        ("A", "B"),
        (("a1", "a2"), ("b1", "b2")),
        np.array([[0, 0], [0, 0], [1, 1], [1, 1], [1, 1]], dtype=np.int32),
        subject_ids=np.array([7, 7, 1, 2, 3]),
    )
    result = evaluate_release(table, synthetic, None, reporting_length=2)
    risk = result.sensitive_risk
    assert risk.unit == "subject"
    assert risk.by_length[-1].unique_share == pytest.approx(1 / 4)
    assert result.synthetic_leakage[1].sensitive_rare == 2  # (a1,b1) by 1, (a2,b2) by 3
    # Fidelity compares record counts, as the aggregates count records.
    assert result.synthetic_fidelity.by_length[1].sensitive_combinations == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reporting_length": 0}, "reporting_length is 0; it must be"),
        ({"reporting_length": 3}, "reporting_length 3 is longer than the 2"),
        ({"reporting_length": 2, "resolution": 0}, "resolution is 0; it must be"),
    ],
)
def test_parameter_errors(
    sensitive: EncodedTable,
    synthetic: pd.DataFrame,
    kwargs: dict[str, int],
    message: str,
) -> None:
    with pytest.raises(ParameterError, match=message):
        evaluate_release(sensitive, synthetic, None, **kwargs)


def test_unknown_synthetic_column(sensitive: EncodedTable) -> None:
    with pytest.raises(DataError, match="name column 'C', which the sensitive"):
        evaluate_release(
            sensitive, pd.DataFrame({"C": ["x"]}), None, reporting_length=1
        )


def test_empty_synthetic_has_no_scores(sensitive: EncodedTable) -> None:
    empty = pd.DataFrame({"A": pd.Series([], dtype="string")})
    result = evaluate_release(sensitive, empty, None, reporting_length=1)
    assert result.k_marginal is None and result.three_way is None
    assert result.records.record_expansion == 0.0
    assert result.synthetic_fidelity.by_length[0].suppressed == 2


def test_progress_and_log_hold_no_figures(
    sensitive: EncodedTable,
    synthetic: pd.DataFrame,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[tuple[str, float]] = []
    with caplog.at_level("DEBUG", logger="synthcase.evaluate"):
        evaluate_release(
            sensitive,
            synthetic,
            None,
            reporting_length=2,
            resolution=3,
            progress=lambda stage, done: calls.append((stage, done)),
        )
    fractions = [done for _, done in calls]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1
    assert all(stage.startswith("evaluating") for stage, _ in calls)
    # The audit log names the settings, never a count, share or score.
    assert [r.getMessage() for r in caplog.records] == [
        "evaluated the release against the sensitive records: lengths 1..2, "
        "resolution 3, 2 columns (figures are sensitive, not logged)"
    ]
