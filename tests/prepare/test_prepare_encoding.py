"""Encoding text cells as categories: absent cells, bins, ordering, round trip."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthcase.errors import DataError
from synthcase.prepare import (
    ABSENT,
    BinSpec,
    EncodedTable,
    ReadOptions,
    encode,
    to_frame,
)


def frame(**columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype=str)


def test_hand_computed_table() -> None:
    table = encode(
        frame(sex=["F", "M", "", "F"], town=["b", "a", "b", "N"]),
        ReadOptions(null_tokens=("N",)),
    )
    assert table.columns == ("sex", "town")
    assert table.categories == (("F", "M"), ("a", "b"))
    assert table.codes.dtype == np.int32
    assert table.codes.tolist() == [[0, 1], [1, 0], [ABSENT, 1], [0, ABSENT]]


@pytest.mark.parametrize("cell", ["", " ", "\t", "  \n "])
def test_empty_and_whitespace_cells_are_absent(cell: str) -> None:
    table = encode(frame(a=[cell, "x"]), ReadOptions())
    assert table.decode() == [[None], ["x"]]


def test_null_tokens_are_exact_and_case_sensitive() -> None:
    table = encode(frame(a=["N", " N ", "n", "NA"]), ReadOptions(null_tokens=("N",)))
    assert table.decode() == [[None], [None], ["n"], ["NA"]]


def test_zero_is_a_value_unless_declared_absent() -> None:
    table = encode(frame(a=["0", "1"]), ReadOptions())
    assert table.decode() == [["0"], ["1"]]


@pytest.mark.parametrize("zero", ["0", "0.0", "00", "-0", "0e3", " 0 "])
def test_absent_zero_compares_numerically(zero: str) -> None:
    table = encode(frame(a=[zero, "1", "0.5"]), ReadOptions(absent_zero=True))
    assert table.decode() == [[None], ["1"], ["0.5"]]
    assert table.categories == (("0.5", "1"),)


def test_absent_zero_per_column() -> None:
    table = encode(
        frame(a=["0", "1"], b=["0.0", "2"], c=["zero", "0"]),
        ReadOptions(absent_zero=("a", "c")),
    )
    assert table.decode() == [[None, "0.0", "zero"], ["1", "2", None]]


def test_absent_zero_in_every_column() -> None:
    table = encode(frame(a=["0", "1"], b=["0.0", "x"]), ReadOptions(absent_zero=True))
    assert table.decode() == [[None, None], ["1", "x"]]


def test_all_absent_column_is_kept_without_categories() -> None:
    table = encode(frame(a=["", "N"], b=["1", "2"]), ReadOptions(null_tokens=("N",)))
    assert table.columns == ("a", "b")
    assert table.categories == ((), ("1", "2"))
    assert table.codes[:, 0].tolist() == [ABSENT, ABSENT]


def test_numeric_labels_sort_numerically() -> None:
    table = encode(frame(a=["10", "9", "-1", "1.5", "100"]), ReadOptions())
    assert table.categories == (("-1", "1.5", "9", "10", "100"),)


def test_equal_numbers_with_different_texts_stay_apart_in_a_fixed_order() -> None:
    table = encode(frame(a=["1.0", "2", "1"]), ReadOptions())
    assert table.categories == (("1", "1.0", "2"),)


def test_mixed_labels_sort_lexicographically() -> None:
    table = encode(frame(a=["10", "9", "b", "A"]), ReadOptions())
    assert table.categories == (("10", "9", "A", "b"),)


def test_binned_column_lists_every_declared_interval() -> None:
    spec = BinSpec.parse("age=0,18,30,65,120")
    table = encode(frame(age=["17", "18", "120", "", "40"]), ReadOptions(bins=(spec,)))
    assert table.categories == (("[0,18)", "[18,30)", "[30,65)", "[65,120]"),)
    assert table.codes[:, 0].tolist() == [0, 1, 3, ABSENT, 2]


def test_binned_column_with_absent_zero_and_null_token() -> None:
    options = ReadOptions(
        bins=(BinSpec.parse("income=0..100/2"),),
        absent_zero=("income",),
        null_tokens=("N",),
    )
    table = encode(frame(income=["0.0", "N", "50", "49.99"]), options)
    assert table.decode() == [[None], [None], ["[50,100]"], ["[0,50)"]]


def test_binned_column_ignores_max_categories() -> None:
    options = ReadOptions(bins=(BinSpec.parse("x=0..100/50"),), max_categories=2)
    table = encode(frame(x=[str(v) for v in range(100)]), options)
    assert len(table.categories[0]) == 50


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("clip", [["[0,10)"], ["[0,10)"], ["[10,20]"], ["[10,20]"]]),
        ("absent", [[None], ["[0,10)"], ["[10,20]"], [None]]),
    ],
)
def test_out_of_range_modes(mode: str, expected: list[list[str | None]]) -> None:
    options = ReadOptions(bins=(BinSpec.parse("x=0,10,20"),), out_of_range=mode)  # type: ignore[arg-type]
    table = encode(frame(x=["-3", "0", "20", "21"]), options)
    assert table.decode() == expected


def test_out_of_range_error_names_the_column_value_and_declared_range() -> None:
    options = ReadOptions(bins=(BinSpec.parse("x=0,10,20"),))
    with pytest.raises(DataError) as caught:
        encode(frame(x=["5", "21", "-4"]), options)
    message = str(caught.value)
    for fragment in ["'x'", "'21'", "record 2", "[0, 20]", "2 such cells", "clip"]:
        assert fragment in message


def test_non_numeric_binned_cell_is_refused() -> None:
    options = ReadOptions(bins=(BinSpec.parse("age=0,18,120"),))
    with pytest.raises(DataError) as caught:
        encode(frame(age=["30", "unknown", "x", "7"]), options)
    message = str(caught.value)
    for fragment in ["'age'", "'unknown'", "record 2", "2 such cells", "--null-token"]:
        assert fragment in message


def test_too_many_categories_message() -> None:
    values = [str(v) for v in range(1000, 1093)]
    with pytest.raises(DataError) as caught:
        encode(frame(AGEP=values), ReadOptions(max_categories=92))
    message = str(caught.value)
    for fragment in [
        "column 'AGEP' has 93 distinct values",
        "limit of 92",
        "--bin AGEP=EDGE1,EDGE2,...,EDGEn (explicit edges)",
        "--bin AGEP=LOW..HIGH/COUNT (equal width over bounds you declare)",
        "--max-categories",
    ]:
        assert fragment in message
    # The message must not suggest bounds taken from the data, nor edges that
    # only fit an age.
    for data_extreme in ["1000", "1092", "0,18"]:
        assert data_extreme not in message


def test_exactly_max_categories_is_accepted() -> None:
    table = encode(frame(a=["x", "y", "x"]), ReadOptions(max_categories=2))
    assert table.categories == (("x", "y"),)


def test_encode_applies_column_selection_and_record_limit() -> None:
    source = frame(a=["1", "2", "3"], b=["x", "y", "z"])
    table = encode(source, ReadOptions(columns=("b",), record_limit=2))
    assert table.columns == ("b",)
    assert table.decode() == [["x"], ["y"]]


@pytest.mark.parametrize(
    ("columns", "fragment"),
    [(["a", "a"], "more than one column is named 'a'"), (["a", " "], "column 2")],
)
def test_encode_refuses_bad_column_names(columns: list[str], fragment: str) -> None:
    source = pd.DataFrame([["1", "2"]], columns=columns)
    with pytest.raises(DataError, match=fragment):
        encode(source, ReadOptions())


def test_encode_accepts_non_text_frames() -> None:
    table = encode(
        pd.DataFrame({"a": [1, 2, None], "b": ["x", None, " y"]}), ReadOptions()
    )
    assert table.decode() == [["1.0", "x"], ["2.0", None], [None, "y"]]


def test_info_log_shows_declared_bins_only(caplog: pytest.LogCaptureFixture) -> None:
    options = ReadOptions(bins=(BinSpec.parse("x=0,10,20"),), out_of_range="clip")
    with caplog.at_level(logging.INFO, logger="synthcase.prepare"):
        encode(frame(x=["1", "25", "3"], y=["a", "b", "c"]), options)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "binned columns (declared intervals, values outside them: clip): x=0,10,20"
    ]


def test_to_frame_round_trip() -> None:
    source = frame(a=["x", "", "y"], b=["5", "15", "N"])
    options = ReadOptions(bins=(BinSpec.parse("b=0,10,20"),), null_tokens=("N",))
    result = to_frame(encode(source, options))
    assert list(result.columns) == ["a", "b"]
    assert all(dtype == "string" for dtype in result.dtypes)
    assert result["a"].tolist() == ["x", pd.NA, "y"]
    assert result["b"].tolist() == ["[0,10)", "[10,20]", pd.NA]
    again = encode(result, ReadOptions())
    assert again.decode() == encode(source, options).decode()


def test_to_frame_of_an_empty_table() -> None:
    table = EncodedTable(
        columns=("a",), categories=((),), codes=np.empty((0, 1), np.int32)
    )
    result = to_frame(table)
    assert list(result.columns) == ["a"]
    assert len(result) == 0


CELLS = st.sampled_from(["", " ", "N", "0", "0.0", "1", "2", "10", "x", "y z"])


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(CELLS, CELLS), min_size=1, max_size=30),
    data=st.data(),
)
def test_encode_is_invariant_to_row_order(
    rows: list[tuple[str, str]], data: st.DataObject
) -> None:
    permutation = data.draw(st.permutations(range(len(rows))))
    options = ReadOptions(null_tokens=("N",), absent_zero=("b",))
    original = encode(pd.DataFrame(rows, columns=["a", "b"], dtype=str), options)
    shuffled_rows = [rows[i] for i in permutation]
    shuffled = encode(
        pd.DataFrame(shuffled_rows, columns=["a", "b"], dtype=str), options
    )
    assert shuffled.categories == original.categories
    assert shuffled.codes.tolist() == original.codes[list(permutation)].tolist()
