"""Links per subject and marginal distances, by hand and against pandas."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from synthcase.errors import DataError
from synthcase.evaluate import LinkBin, MarginalDistance
from synthcase.evaluate.distances import marginal_distances, summarize_distances
from synthcase.evaluate.links import compare_links_per_subject
from synthcase.evaluate.shared import encode_shared
from synthcase.prepare.linked import LinkBins

BINS = LinkBins((1, 2, 3, 5, 10))
"""Bins 1, 2, 3-4 and 5+."""


def test_links_per_subject_by_hand() -> None:
    sensitive = np.array([1, 1, 1, 2, 3, 4, 9, 1])
    synthetic = np.array([1, 2, 2, 3, 3, 6])
    out = compare_links_per_subject(sensitive, synthetic, BINS, [5, 0, 3, -1])

    assert out.bins == (
        LinkBin("1", 4, 0.5, 5, 1, 1 / 6),
        LinkBin("2", 1, 0.125, 0, 2, 2 / 6),
        LinkBin("3-4", 2, 0.25, 3, 2, 2 / 6),
        LinkBin("5+", 1, 0.125, -1, 1, 1 / 6),
    )
    # Half of |1/2 - 1/6| + |1/8 - 1/3| + |1/4 - 1/3| + |1/8 - 1/6| = 2/3.
    assert out.binned_distance == pytest.approx(1 / 3)
    # Numbers 1, 2, 3, 4, 6, 9: half of 1/3 + 5/24 + 5/24 + 1/8 + 1/6 + 1/8.
    assert out.exact_distance == pytest.approx(7 / 12)
    assert (out.sensitive_subjects, out.synthetic_subjects) == (8, 6)
    assert (out.sensitive_links, out.synthetic_links) == (22, 17)
    assert out.sensitive_mean == 2.75
    assert out.synthetic_mean == pytest.approx(17 / 6)
    assert out.sensitive_single_share == 0.5
    assert out.synthetic_single_share == pytest.approx(1 / 6)


def test_links_per_subject_without_synthetic_subjects() -> None:
    out = compare_links_per_subject(np.array([1, 2]), np.zeros(0, np.int64), BINS)
    assert out.binned_distance is None
    assert out.exact_distance is None
    assert out.synthetic_mean is None
    assert [b.synthetic_share for b in out.bins] == [None] * 4
    assert [b.protected_subjects for b in out.bins] == [None] * 4


def test_links_per_subject_refuses_what_no_release_holds() -> None:
    with pytest.raises(DataError, match="a synthetic subject has 0 links"):
        compare_links_per_subject(np.array([1]), np.array([0, 2]), BINS)
    with pytest.raises(DataError, match="3 counts for 4 bins"):
        compare_links_per_subject(np.array([1]), np.array([1]), BINS, [1, 2, 3])


def slow_tvd(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str]) -> float:
    """Total variation distance with absent cells as a value, in pandas."""
    a = real[columns].fillna("").value_counts(normalize=True)
    b = synthetic[columns].fillna("").value_counts(normalize=True)
    both = pd.concat([a, b], axis=1).fillna(0.0)
    return float((both.iloc[:, 0] - both.iloc[:, 1]).abs().sum() / 2)


def random_frame(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    values = {"A": ["a", "b", "c", None], "B": ["x", "y", None], "C": ["1", "2"]}
    return pd.DataFrame(
        {k: rng.choice(np.array(v, dtype=object), rows) for k, v in values.items()}
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_marginal_distances_match_pandas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    real, synthetic = random_frame(rng, 50), random_frame(rng, 37)
    shared = encode_shared(real, synthetic)
    pairs = list(itertools.combinations(range(3), 2))
    out = marginal_distances(
        shared.sensitive, shared.synthetic, {"one": [(0,), (1,), (2,)], "two": pairs}
    )
    names = ["A", "B", "C"]
    expected = [
        *(("one", (c,), slow_tvd(real, synthetic, [c])) for c in names),
        *(
            (
                "two",
                (names[i], names[j]),
                slow_tvd(real, synthetic, [names[i], names[j]]),
            )
            for i, j in pairs
        ),
    ]
    assert [(d.kind, d.columns) for d in out] == [(k, c) for k, c, _ in expected]
    for row, (_, _, distance) in zip(out, expected, strict=True):
        assert row.distance == pytest.approx(distance, abs=1e-12), row


def test_identical_tables_are_at_distance_zero() -> None:
    frame = random_frame(np.random.default_rng(5), 20)
    shared = encode_shared(frame, frame.sample(frac=1.0, random_state=1))
    out = marginal_distances(shared.sensitive, shared.synthetic, {"k": [(0, 1, 2)]})
    assert out[0].distance == pytest.approx(0.0, abs=1e-15)


def test_distances_need_one_column_layout() -> None:
    frame = random_frame(np.random.default_rng(6), 10)
    one = encode_shared(frame, frame).sensitive
    other = encode_shared(frame[["A", "B"]], frame[["A", "B"]]).sensitive
    with pytest.raises(DataError, match="differ from the synthetic columns"):
        marginal_distances(one, other, {"k": [(0,)]})


def test_summaries_keep_kinds_in_order_with_mean_and_worst() -> None:
    rows = [
        MarginalDistance("link", ("L1",), 0.25),
        MarginalDistance("subject x link", ("S", "L1"), 0.5),
        MarginalDistance("link", ("L2",), 0.75),
        MarginalDistance("link", ("L3",), 0.75),
    ]
    out = summarize_distances(rows)
    assert [(k.kind, k.marginals) for k in out] == [
        ("link", 3),
        ("subject x link", 1),
    ]
    assert out[0].mean_distance == pytest.approx(7 / 12)
    # A tie goes to the first marginal.
    assert (out[0].worst_distance, out[0].worst_columns) == (0.75, ("L2",))
    assert summarize_distances([]) == ()
