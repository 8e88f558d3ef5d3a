"""Every way the read and prepare stage refuses input, with its message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from synthcase.errors import DataError, ParameterError
from synthcase.prepare import BinSpec, ReadOptions, encode, load_table


@pytest.mark.parametrize(
    ("content", "options", "fragments"),
    [
        pytest.param(b"", {}, ["'cases.csv' is empty", "header line"], id="empty"),
        pytest.param(b" \n\n ", {}, ["is empty"], id="blank"),
        pytest.param(
            b"a,b\n",
            {},
            ["no records to release in 'cases.csv'", "header but no rows"],
            id="header-only",
        ),
        pytest.param(
            b"a,b\n1,2\n3,4,5\n",
            {},
            ["line 3", "3 fields", "header has 2", "','", "--delimiter"],
            id="too-many-fields",
        ),
        pytest.param(
            b'a,b\n1,"x\ny"\n3\n',
            {},
            ["line 4", "1 fields", "header has 2"],
            id="too-few-after-quoted-newline",
        ),
        pytest.param(
            b"a,b\n1,2\n\xe9t\xe9,3\n",
            {},
            ["not valid UTF-8", "0xe9", "line 3", "re-save", "UTF-8"],
            id="latin-1",
        ),
        pytest.param(
            "a,b\n1,2\n".encode("utf-16"), {}, ["UTF-16", "re-save"], id="utf-16"
        ),
        pytest.param(
            b"a,b\n1," + b"x" * 200_000 + b"\n",
            {},
            ["line 2", "cannot be split into fields", "quoting"],
            id="field-too-large",
        ),
        pytest.param(
            b"a,b,a\n1,2,3\n",
            {},
            ["more than one column named 'a'", "unique"],
            id="duplicate-columns",
        ),
        pytest.param(
            b"a, ,c\n1,2,3\n", {}, ["column 2", "has no name"], id="unnamed-column"
        ),
        pytest.param(
            b"age,sex\n1,F\n",
            {"columns": ("age", "Sex")},
            [
                "column 'Sex' is not in cases.csv",
                "its columns are age, sex",
                "--columns",
            ],
            id="unknown-column",
        ),
        pytest.param(
            b"age,sex\n1,F\n",
            {"bins": (BinSpec.parse("AGE=0,18,120"),)},
            ["bins names column 'AGE'", "columns are age, sex"],
            id="unknown-bin-column",
        ),
        pytest.param(
            b"age,sex\n1,F\n",
            {"absent_zero": ("Age",)},
            ["absent_zero names column 'Age'"],
            id="unknown-absent-zero-column",
        ),
        pytest.param(
            b"age\n30\nabout 40\n",
            {"bins": (BinSpec.parse("age=0,18,120"),)},
            ["'age'", "'about 40'", "record 2", "not a number"],
            id="non-numeric-binned",
        ),
        pytest.param(
            b"age\n30\n130\n",
            {"bins": (BinSpec.parse("age=0,18,120"),)},
            ["'130'", "outside the declared range [0, 120]", "--out-of-range"],
            id="out-of-range",
        ),
        pytest.param(
            b"id\na\nb\nc\n",
            {"max_categories": 2},
            ["column 'id' has 3 distinct values", "limit of 2", "--bin id="],
            id="too-many-categories",
        ),
    ],
)
def test_bad_files(
    tmp_path: Path, content: bytes, options: dict[str, Any], fragments: list[str]
) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        load_table(path, ReadOptions(**options))
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist; check the path"):
        load_table(tmp_path / "nope.csv", ReadOptions())


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a folder"):
        load_table(tmp_path, ReadOptions())


@pytest.mark.parametrize(
    ("source", "fragments"),
    [
        (
            pd.DataFrame([[1, 2]], columns=["a", "a"]),
            ["more than one column named 'a'"],
        ),
        (pd.DataFrame([[1, 2]], columns=["a", " a "]), ["more than one column named"]),
        (pd.DataFrame([[1, 2]], columns=["a", ""]), ["column 2", "has no name"]),
    ],
)
def test_bad_dataframes(source: pd.DataFrame, fragments: list[str]) -> None:
    with pytest.raises(DataError) as caught:
        load_table(source, ReadOptions())
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        ({"columns": ()}, ["columns is empty"]),
        ({"names": ()}, ["names is empty", "None"]),
        ({"names": "age"}, ["single string 'age'"]),
        ({"names": ("a", "b", "a")}, ["names names 'a' more than once"]),
        ({"names": ("a", "")}, ["non-empty column name"]),
        ({"names": ("a", " b")}, ["surrounding whitespace", "'b'"]),
        ({"columns": "AGEP"}, ["single string 'AGEP'", "('AGEP',)"]),
        ({"columns": ("a", "a")}, ["names 'a' more than once"]),
        ({"columns": ("a", "")}, ["non-empty column name"]),
        ({"record_limit": 0}, ["record_limit is 0", ">= 1", "None"]),
        ({"record_limit": 2.5}, ["record_limit is 2.5"]),
        ({"max_categories": 0}, ["max_categories is 0", ">= 1"]),
        ({"max_categories": True}, ["max_categories is True"]),
        ({"null_tokens": "N"}, ["single string 'N'"]),
        ({"null_tokens": ("",)}, ["non-empty texts", "always absent"]),
        ({"null_tokens": (" N",)}, ["surrounding whitespace", "'N'"]),
        ({"absent_zero": ("a", "a")}, ["absent_zero names 'a' more than once"]),
        ({"delimiter": ""}, ["delimiter is ''", "one character"]),
        ({"delimiter": "\\t"}, ["one character", "'\\\\t'"]),
        ({"delimiter": '"'}, ["other than a quote"]),
        ({"bins": ("AGEP=0,18",)}, ["BinSpec objects", "BinSpec.parse"]),
        (
            {"bins": (BinSpec.parse("a=0,1"), BinSpec.parse("a=0..1/2"))},
            ["column 'a' more than once"],
        ),
        ({"out_of_range": "drop"}, ["'drop'", "error, clip, absent"]),
        (
            {"columns": ("a",), "bins": (BinSpec.parse("b=0,1"),)},
            ["bins names 'b'", "selected columns a", "add it to columns"],
        ),
        (
            {"columns": ("a",), "absent_zero": ("b",)},
            ["absent_zero names 'b'", "selected columns a"],
        ),
    ],
)
def test_bad_options(options: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(ParameterError) as caught:
        ReadOptions(**options)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_options_are_frozen_and_normalised() -> None:
    options = ReadOptions(columns=["a", "b"], absent_zero=["a"], null_tokens=["N"])  # type: ignore[arg-type]
    assert options.columns == ("a", "b")
    assert options.absent_zero == ("a",)
    assert options.null_tokens == ("N",)
    assert options.zero_is_absent("a") and not options.zero_is_absent("b")
    with pytest.raises(AttributeError):
        options.max_categories = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    "source",
    [
        pd.DataFrame({"age": [], "sex": []}, dtype=str),
        pd.DataFrame({"age": pd.Series([], dtype="int64")}),
    ],
)
def test_dataframe_without_records_is_refused(source: pd.DataFrame) -> None:
    with pytest.raises(DataError) as caught:
        load_table(source, ReadOptions())
    assert str(caught.value).startswith(
        "no records to release in the data; the data has a header but no rows"
    )


def test_encode_refuses_a_frame_without_records() -> None:
    with pytest.raises(DataError, match="no records to release in the data"):
        encode(pd.DataFrame({"a": []}, dtype=str), ReadOptions())


def test_unknown_column_of_a_dataframe_names_the_data() -> None:
    source = pd.DataFrame({"age": ["1"], "sex": ["F"]})
    with pytest.raises(DataError) as caught:
        load_table(source, ReadOptions(columns=("nope", "sex", "other")))
    assert str(caught.value) == (
        "columns 'nope', 'other' are not in the data; its columns are age, sex. "
        "Fix the column names given to --columns"
    )


def test_empty_column_selection_is_refused() -> None:
    with pytest.raises(ParameterError, match="columns is empty; name at least one"):
        ReadOptions(columns=())
