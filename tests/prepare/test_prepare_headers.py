"""Header lines: a record taken for column names, names given for headerless files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from synthcase.errors import DataError, ParameterError
from synthcase.prepare import ReadOptions, load_table, read_frame

ADULT = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "uci-adult" / "adult.data"
)


def write(tmp_path: Path, text: str, name: str = "cases.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("first_line", "number"),
    [
        ("39,State-gov,77516", "39"),
        ("State-gov, 77516 ,x", "77516"),
        ("a,1.5,b", "1.5"),
        ("a,b,-2", "-2"),
        ("a,+3,.5", "+3"),
        ("a,1e3,b", "1e3"),
    ],
)
def test_first_line_with_a_number_is_refused(
    tmp_path: Path, first_line: str, number: str
) -> None:
    path = write(tmp_path, f"{first_line}\nsecret,Private,215646\n")
    with pytest.raises(DataError) as caught:
        read_frame(path, ReadOptions())
    message = str(caught.value)
    assert message == (
        "the first line of 'cases.csv' looks like a record, not column names "
        f"(column {number!r} is a number); add a header line naming the columns, "
        "or pass the names with --names a,b,c"
    )
    # Only the first numeric name is shown, nothing else of the record.
    assert "State-gov" not in message and "secret" not in message


@pytest.mark.parametrize(
    "header", ["age,sex,2019a", "x1,y2,z", "inf,nan,total", "1st,2nd,3rd", "a,b,c"]
)
def test_names_that_merely_hold_digits_are_accepted(
    tmp_path: Path, header: str
) -> None:
    frame = read_frame(write(tmp_path, f"{header}\n1,2,3\n"), ReadOptions())
    assert list(frame.columns) == header.split(",")


def test_a_dataframe_with_numeric_column_names_is_accepted() -> None:
    frame = read_frame(pd.DataFrame({0: ["a"], 1: ["b"]}), ReadOptions())
    assert list(frame.columns) == ["0", "1"]


def test_names_read_every_line_as_a_record(tmp_path: Path) -> None:
    path = write(tmp_path, "39, State-gov, 77516\n50, Private, 83311\n")
    options = ReadOptions(names=("age", "work", "weight"))
    frame = read_frame(path, options)
    assert {c: frame[c].tolist() for c in frame.columns} == {
        "age": ["39", "50"],
        "work": ["State-gov", "Private"],
        "weight": ["77516", "83311"],
    }


def test_names_combine_with_columns_and_record_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "1,F\n2,M\n3,F\n")
    options = ReadOptions(names=("n", "sex"), columns=("sex",), record_limit=2)
    table = load_table(path, options)
    assert table.columns == ("sex",)
    assert table.categories == (("F", "M"),)
    assert table.codes[:, 0].tolist() == [0, 1]


def test_names_are_ignored_for_a_dataframe() -> None:
    frame = read_frame(pd.DataFrame({"a": ["1"]}), ReadOptions(names=("x", "y")))
    assert list(frame.columns) == ["a"]


@pytest.mark.parametrize(
    ("names", "count"), [(("a", "b"), 2), (("a", "b", "c", "d"), 4)]
)
def test_names_count_must_match_the_fields(
    tmp_path: Path, names: tuple[str, ...], count: int
) -> None:
    path = write(tmp_path, "39,State-gov,77516\n")
    with pytest.raises(DataError) as caught:
        read_frame(path, ReadOptions(names=names))
    message = str(caught.value)
    for fragment in ["line 1", "has 3 fields", f"names gives {count} names", "--names"]:
        assert fragment in message
    assert "State-gov" not in message


def test_names_are_validated_when_built() -> None:
    with pytest.raises(ParameterError, match="names names 'a' more than once"):
        ReadOptions(names=("a", "a"))
    with pytest.raises(ParameterError, match="names is empty"):
        ReadOptions(names=())


@pytest.mark.skipif(not ADULT.is_file(), reason="UCI adult data not present")
def test_headerless_real_file_is_refused_then_read_with_names() -> None:
    with pytest.raises(DataError, match="column '39' is a number"):
        read_frame(ADULT, ReadOptions(record_limit=5))
    names = (
        "age", "workclass", "fnlwgt", "education", "education_num",
        "marital_status", "occupation", "relationship", "race", "sex",
        "capital_gain", "capital_loss", "hours_per_week", "native_country",
        "income",
    )  # fmt: skip
    options = ReadOptions(names=names, columns=("workclass", "sex"), record_limit=5)
    frame = read_frame(ADULT, options)
    assert frame["workclass"].tolist()[0] == "State-gov"
    assert frame["sex"].tolist()[0] == "Male"
