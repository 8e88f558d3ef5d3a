"""Declared value lists: validation, the shorthand, encoding and config."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import synthcase.prepare.values
from synthcase.cli.config import build_read
from synthcase.errors import DataError, ParameterError
from synthcase.prepare import ABSENT, BinSpec, ReadOptions, ValueList, encode
from synthcase.prepare.values import MAX_VALUES


def test_doctests() -> None:
    result = doctest.testmod(synthcase.prepare.values)
    assert result.failed == 0
    assert result.attempted == 2


def test_parse_strips_and_keeps_the_declared_order() -> None:
    entry = ValueList.parse(" EDU = 9, 1 ,5 ")
    assert entry.column == "EDU"
    assert entry.values == ("9", "1", "5")
    assert ValueList.parse(entry.to_text()) == entry


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("SEX", "not of the form"),
        ("=1,2", "not of the form"),
        ("SEX=", "empty value"),
        ("SEX=1,,2", "empty value"),
        ("SEX=1,2,1", "repeats '1'"),
    ],
)
def test_parse_errors_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(ParameterError, match=fragment):
        ValueList.parse(text)


def test_constructor_checks() -> None:
    with pytest.raises(ParameterError, match="single string"):
        ValueList("SEX", "12")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="is empty"):
        ValueList("SEX", ())
    with pytest.raises(ParameterError, match="surrounding whitespace"):
        ValueList("SEX", ("1 ",))
    with pytest.raises(ParameterError, match="more than the limit"):
        ValueList("X", tuple(str(i) for i in range(MAX_VALUES + 1)))


def test_options_refuse_two_lists_or_a_list_on_a_binned_column() -> None:
    with pytest.raises(ParameterError, match="more than once"):
        ReadOptions(values=(ValueList.parse("A=1"), ValueList.parse("A=2")))
    with pytest.raises(ParameterError, match="both bins and a value list"):
        ReadOptions(bins=(BinSpec.parse("A=0,10"),), values=(ValueList.parse("A=1,2"),))
    with pytest.raises(ParameterError, match="not among the selected columns"):
        ReadOptions(columns=("B",), values=(ValueList.parse("A=1,2"),))
    with pytest.raises(ParameterError, match="ValueList objects"):
        ReadOptions(values=("A=1,2",))  # type: ignore[arg-type]


def test_public_domains_join_bins_and_lists() -> None:
    options = ReadOptions(
        bins=(BinSpec.parse("AGE=0,18,65"),), values=(ValueList.parse("SEX=2,1"),)
    )
    assert options.public_domains == {
        "AGE": ("[0,18)", "[18,65]"),
        "SEX": ("2", "1"),
    }


FRAME = pd.DataFrame({"SEX": ["1", "2", "N", "", " 1 ", "2"], "X": list("abcabc")})


def test_declared_values_are_the_categories_in_order() -> None:
    options = ReadOptions(null_tokens=("N",), values=(ValueList.parse("SEX=3,2,1"),))
    table = encode(FRAME, options)
    # The declared list, with "3" that no record holds, in the declared order.
    assert table.categories[0] == ("3", "2", "1")
    np.testing.assert_array_equal(table.codes[:, 0], [2, 1, ABSENT, ABSENT, 2, 1])
    # Undeclared columns keep the values of the records.
    assert table.categories[1] == ("a", "b", "c")


def test_an_undeclared_value_is_refused_with_the_fix() -> None:
    options = ReadOptions(values=(ValueList.parse("SEX=1,2"),))
    with pytest.raises(DataError) as err:
        encode(FRAME, options)
    message = str(err.value)
    assert "'N' in record 3" in message
    assert "2 declared values" in message
    assert "--out-of-range absent" in message
    # A null token would blank the text in every column: not advised.
    assert "null-token" not in message


def test_out_of_range_absent_marks_undeclared_values_absent() -> None:
    options = ReadOptions(values=(ValueList.parse("SEX=1,2"),), out_of_range="absent")
    table = encode(FRAME, options)
    np.testing.assert_array_equal(table.codes[:, 0], [0, 1, ABSENT, ABSENT, 0, 1])


def test_a_declared_column_missing_from_the_data_is_named() -> None:
    with pytest.raises(DataError, match="values names column 'AGE'"):
        encode(FRAME, ReadOptions(values=(ValueList.parse("AGE=1,2"),)))


def test_declared_columns_are_exempt_from_the_category_limit() -> None:
    frame = pd.DataFrame({"C": [str(i) for i in range(5)]})
    with pytest.raises(DataError, match="more than the limit"):
        encode(frame, ReadOptions(max_categories=3))
    declared = ValueList("C", tuple(str(i) for i in range(5)))
    table = encode(frame, ReadOptions(max_categories=3, values=(declared,)))
    assert table.categories[0] == ("0", "1", "2", "3", "4")


def test_config_accepts_texts_and_a_table() -> None:
    texts = build_read({"values": ["SEX=1,2", "EDU=1,2,3"]})
    table = build_read({"values": {"SEX": ["1", "2"], "EDU": [1, 2, 3]}})
    assert texts.values == table.values
    assert texts.value_lists == {"SEX": ("1", "2"), "EDU": ("1", "2", "3")}
    assert build_read({"values": "SEX=1,2"}).value_lists == {"SEX": ("1", "2")}
    with pytest.raises(ParameterError, match=r"values\.SEX"):
        build_read({"values": {"SEX": "1,2"}})


def test_declared_and_binned_columns_are_marked_public() -> None:
    frame = pd.DataFrame({"AGE": ["3", "40"], "SEX": ["1", "2"], "X": ["a", "b"]})
    options = ReadOptions(
        bins=(BinSpec.parse("AGE=0,18,120"),), values=(ValueList.parse("SEX=1,2"),)
    )
    table = encode(frame, options)
    assert table.public == (True, True, False)
    assert table.select(["X", "SEX"]).public == (False, True)
    assert encode(frame, ReadOptions()).public == ()
    assert not encode(frame, ReadOptions()).is_public(0)


def test_a_declared_value_that_is_also_absent_is_refused() -> None:
    with pytest.raises(ParameterError, match="also an absent marker"):
        ReadOptions(null_tokens=("N",), values=(ValueList.parse("MSP=N,1,2"),))
    with pytest.raises(ParameterError, match="zero is absent"):
        ReadOptions(absent_zero=True, values=(ValueList.parse("OWN=0.0,1,2"),))
    with pytest.raises(ParameterError, match="zero is absent"):
        ReadOptions(absent_zero=("OWN",), values=(ValueList.parse("OWN=00,1"),))
    # Zero elsewhere, or a text that only looks like a token, is fine.
    ReadOptions(absent_zero=("X",), values=(ValueList.parse("OWN=0,1"),))
    ReadOptions(null_tokens=("N",), values=(ValueList.parse("MSP=n,NA"),))


def test_values_of_the_wrong_type_get_a_parameter_error() -> None:
    assert ReadOptions(values=None).values == ()  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="sequence of ValueList"):
        ReadOptions(values=5)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="values is 5"):
        build_read({"values": 5})


def test_a_config_file_serves_a_column_subset() -> None:
    config = {"bins": ["AGEP=0,18,120"], "values": ["SEX=1,2", "EDU=1,2"]}
    read = build_read(config, columns="SEX,MSP")
    assert read.bins == ()
    assert read.value_lists == {"SEX": ("1", "2")}
    # A declaration given as a flag is still checked against the selection.
    with pytest.raises(ParameterError, match="not among the selected columns"):
        build_read({}, columns="SEX", values=("EDU=1,2",))


def test_a_table_value_that_is_not_text_or_whole_is_refused() -> None:
    for odd in (True, 1.0):
        with pytest.raises(ParameterError, match="text the cells hold"):
            build_read({"values": {"SEX": [odd, "2"]}})
