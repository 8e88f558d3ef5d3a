"""Sensitive, synthetic and aggregate labels on one category list per column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthcase.errors import DataError
from synthcase.evaluate import encode_shared
from synthcase.evaluate.shared import encode_labels
from synthcase.measure import Aggregates, CombinationSpace
from synthcase.prepare import EncodedTable


def test_sensitive_labels_come_first_then_new_ones_sorted(
    sensitive: EncodedTable, synthetic: pd.DataFrame, aggregates: Aggregates
) -> None:
    extra = Aggregates.from_pairs(
        [([("B", "b9")], 1), ([("B", "b0")], 1)], record_count=2, columns=("A", "B")
    )
    shared = encode_shared(sensitive, synthetic, extra)
    assert shared.categories == (("a1", "a2"), ("b1", "b2", "b0", "b3", "b9"))
    assert shared.sensitive.codes.tolist() == sensitive.codes.tolist()
    assert shared.synthetic.codes.tolist() == [[0, 0], [0, 1], [1, 1], [1, 3]]
    assert shared.index.offsets.tolist() == [0, 2]


def test_aggregate_combinations_in_shared_ids(
    sensitive: EncodedTable, synthetic: pd.DataFrame, aggregates: Aggregates
) -> None:
    # Aggregates listing B before A number their values the other way round.
    swapped = Aggregates.from_pairs(
        [
            ([("B", "b2")], 3),
            ([("A", "a2")], 2),
            ([("B", "b2"), ("A", "a2")], 1),
        ],
        record_count=5,
        columns=("B", "A"),
    )
    shared = encode_shared(sensitive, synthetic, swapped)
    # Shared ids: a1 0, a2 1, b1 2, b2 3, b3 4.
    assert shared.aggregate_ids(swapped, 1).tolist() == [[3], [1]]
    assert shared.aggregate_ids(swapped, 2).tolist() == [[1, 3]]
    space = CombinationSpace.build(shared.index, 2)
    assert space.keys_from_ids(shared.aggregate_ids(swapped, 2)).size == 1
    assert shared.aggregate_ids(swapped, 3).shape == (0, 3)


def test_keeps_the_synthetic_columns_in_their_order() -> None:
    sensitive = pd.DataFrame({"A": ["1", "2"], "B": ["x", None], "C": ["u", "v"]})
    synthetic = pd.DataFrame({"C": ["v", ""], "A": [2, 3]})
    shared = encode_shared(sensitive, synthetic)
    assert shared.columns == ("C", "A")
    assert shared.categories == (("u", "v"), ("1", "2", "3"))
    assert shared.sensitive.codes.tolist() == [[0, 0], [1, 1]]
    assert shared.synthetic.codes.tolist() == [[1, 1], [-1, 2]]


def test_subject_ids_are_kept() -> None:
    table = EncodedTable(
        ("A",), (("x",),), np.zeros((2, 1), np.int32), subject_ids=np.array([4, 4])
    )
    shared = encode_shared(table, pd.DataFrame({"A": ["x"]}))
    assert shared.sensitive.subject_ids is not None
    assert shared.sensitive.subject_ids.tolist() == [4, 4]


def test_errors(sensitive: EncodedTable) -> None:
    with pytest.raises(DataError, match="name a column twice"):
        encode_shared(sensitive, pd.DataFrame([["a1", "a1"]], columns=["A", "A"]))
    other = Aggregates.from_pairs([([("Z", "z")], 1)], record_count=1)
    with pytest.raises(DataError, match="aggregates name column 'Z'"):
        encode_shared(sensitive, pd.DataFrame({"A": ["a1"]}), other)
    with pytest.raises(DataError, match="column 'A' holds 'q', which is not among"):
        encode_labels(pd.DataFrame({"A": ["q"]}), [["p"]])
