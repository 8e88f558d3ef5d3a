"""NIST's k-marginal score and the 3-way score on tables of labels."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import synthcase.evaluate.cells as cells
from synthcase.errors import DataError, ParameterError
from synthcase.evaluate import k_marginal_score, three_way_score
from synthcase.evaluate.kmarginal import marginal_tuples
from synthcase.evaluate.percentiles import percentile_bins


def _random_frame(rng: np.random.Generator, rows: int, columns: int) -> pd.DataFrame:
    data = {}
    for j in range(columns):
        values = rng.choice(["a", "b", "c", "d"][: 2 + j % 3], size=rows).astype(object)
        values[rng.random(rows) < 0.15] = None
        data[f"C{j}"] = values
    data["PUMA"] = rng.choice(["P1", "P2", "P3"], size=rows)
    return pd.DataFrame(data)


def _reference(
    target: pd.DataFrame, synthetic: pd.DataFrame, marginals: list[list[str]]
) -> float:
    """SDNist's formula with pandas: densities by groupby, absent kept."""
    total = 0.0
    for columns in marginals:
        p = target.fillna("<absent>").groupby(columns).size() / len(target)
        q = synthetic.fillna("<absent>").groupby(columns).size() / len(synthetic)
        total += 0.5 * p.subtract(q, fill_value=0).abs().sum()
    return 1000 * (1 - total / len(marginals))


def test_identical_tables_score_1000() -> None:
    frame = _random_frame(np.random.default_rng(1), 300, 6)
    assert k_marginal_score(frame, frame) == pytest.approx(1000.0)
    assert three_way_score(frame, frame) == pytest.approx(1000.0)
    # Row order does not matter either.
    assert k_marginal_score(frame, frame.iloc[::-1]) == pytest.approx(1000.0)


def test_known_distance_of_two_pairs() -> None:
    target = pd.DataFrame({"A": ["x", "x", "y", "y"], "B": ["u", "v", "u", "v"]})
    # Every target cell has 1/4; the synthetic one puts 1/2 on (x,u) and on
    # (y,u): TVD = 0.5 * (4 * 1/4) = 1/2.
    synthetic = pd.DataFrame({"A": ["x", "x", "y", "y"], "B": ["u", "u", "u", "u"]})
    assert k_marginal_score(target, synthetic, group_column=None) == 500.0
    # Moving one record of four from (x,v) to (x,u): TVD 1/4.
    closer = pd.DataFrame({"A": ["x", "x", "y", "y"], "B": ["u", "u", "u", "v"]})
    assert k_marginal_score(target, closer) == pytest.approx(750.0)
    assert three_way_score(target, closer) == pytest.approx(750.0)


def test_group_column_joins_every_pair() -> None:
    target = pd.DataFrame(
        {"PUMA": ["P1", "P1", "P2", "P2"], "X": ["x", "x", "y", "y"],
         "Y": ["u", "u", "v", "v"]}
    )  # fmt: skip
    synthetic = pd.DataFrame(
        {"PUMA": ["P1", "P2", "P2", "P2"], "X": ["x", "y", "y", "x"],
         "Y": ["u", "v", "v", "u"]}
    )  # fmt: skip
    # One marginal, PUMA x X x Y: p = (P1,x,u) 1/2, (P2,y,v) 1/2; q = (P1,x,u)
    # 1/4, (P2,y,v) 1/2, (P2,x,u) 1/4; TVD = 0.5 * (1/4 + 0 + 1/4) = 1/4.
    assert k_marginal_score(target, synthetic) == pytest.approx(750.0)
    # Without the group: pairs PUMA-X (TVD 1/4), PUMA-Y (1/4), X-Y (0).
    plain = k_marginal_score(target, synthetic, group_column=None)
    assert plain == pytest.approx(1000 * (1 - (0.25 + 0.25 + 0) / 3))


def test_absent_is_a_category_of_its_own() -> None:
    target = pd.DataFrame({"A": ["x", None]})
    synthetic = pd.DataFrame({"A": ["x", "x"]})
    # One column: its own marginal. p = x 1/2, absent 1/2; q = x 1.
    assert k_marginal_score(target, synthetic) == pytest.approx(500.0)
    blank = pd.DataFrame({"A": ["x", " "]})  # an empty text is absent too
    assert k_marginal_score(target, blank) == pytest.approx(1000.0)


def test_matches_a_pandas_reference() -> None:
    rng = np.random.default_rng(3)
    target = _random_frame(rng, 400, 5)
    synthetic = _random_frame(rng, 250, 5)
    others = [c for c in target.columns if c != "PUMA"]
    grouped = [["PUMA", a, b] for a, b in itertools.combinations(others, 2)]
    assert k_marginal_score(target, synthetic) == pytest.approx(
        _reference(target, synthetic, grouped)
    )
    triples = [list(t) for t in itertools.combinations(target.columns, 3)]
    assert three_way_score(target, synthetic) == pytest.approx(
        _reference(target, synthetic, triples)
    )


def test_sparse_path_matches_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    target, synthetic = _random_frame(rng, 200, 4), _random_frame(rng, 150, 4)
    dense = k_marginal_score(target, synthetic), three_way_score(target, synthetic)
    monkeypatch.setattr(cells, "DENSE_LIMIT", 0)
    sparse = k_marginal_score(target, synthetic), three_way_score(target, synthetic)
    assert sparse == pytest.approx(dense)


def test_thirty_columns_score_random_pairs() -> None:
    columns = [f"C{j}" for j in range(29)] + ["PUMA"]
    tuples = marginal_tuples(columns, "PUMA", pairs=200, seed=0)
    assert len(tuples) == 200 and len(set(tuples)) == 200
    assert all(t[0] == 29 and t[1] < t[2] < 29 for t in tuples)
    assert tuples == marginal_tuples(columns, "PUMA", pairs=200, seed=0)
    assert tuples != marginal_tuples(columns, "PUMA", pairs=200, seed=1)
    # Below 30 columns every pair is scored.
    assert len(marginal_tuples(columns[1:], "PUMA", pairs=200, seed=0)) == 378
    assert len(marginal_tuples(columns[:29], None, pairs=200, seed=0)) == 406


def test_numeric_columns_use_target_percentiles() -> None:
    target, synthetic = percentile_bins(
        pd.Series([str(v) for v in range(1, 21)] + ["", None]),
        pd.Series(["0", "1.5", "20", "99", None]),
    )
    assert target.tolist()[:3] == ["p01", "p02", "p03"]  # rank 1/20 is bin 1
    assert target.tolist()[19:] == ["p19", pd.NA, pd.NA]
    assert synthetic.tolist() == ["p01", "p02", "p19", "p19", pd.NA]

    # Ages 0-99: rank (a+1)/100, bin floor((a+1)/5), so bin 0 holds 0-3, bins
    # 1-18 five ages each (tops 8, 13, ..., 93) and bin 19 holds 94-99.
    ages = pd.DataFrame({"AGEP": [str(a) for a in range(100)]})
    older = pd.DataFrame({"AGEP": [str(a + 5) for a in range(100)]})
    assert k_marginal_score(ages, ages, numeric_columns=["AGEP"]) == 1000.0
    # Ages 5-104 fill bin 1 with 5-8 (4), bins 2-18 with five each and bin 19
    # with 94-104 (11): |diff| = .04 + .01 + .05, TVD .05.
    shifted = k_marginal_score(ages, older, numeric_columns=["AGEP"])
    assert shifted == pytest.approx(950.0)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda t, s: k_marginal_score(t, s, pairs=0), ParameterError, "pairs is 0"),
        (
            lambda t, s: three_way_score(t, s, max_triples=0),
            ParameterError,
            "max_triples is 0",
        ),
        (
            lambda t, s: k_marginal_score(t, s, numeric_columns=["A"]),
            DataError,
            "numeric column 'A' of the target records holds 'x'",
        ),
        (
            lambda t, s: k_marginal_score(t, s, numeric_columns=["Z"]),
            DataError,
            "numeric_columns names 'Z'",
        ),
        (
            lambda t, s: k_marginal_score(t, s.iloc[:0]),
            DataError,
            "the synthetic records are empty",
        ),
        (
            lambda t, s: k_marginal_score(t, s.assign(C=["1"] * 2)),
            DataError,
            "name column 'C', which the sensitive records do not have",
        ),
    ],
)
def test_errors(call, error, message) -> None:  # type: ignore[no-untyped-def]
    target = pd.DataFrame({"A": ["x", "y"], "B": ["1", "2"]})
    with pytest.raises(error, match=message):
        call(target, target.copy())
