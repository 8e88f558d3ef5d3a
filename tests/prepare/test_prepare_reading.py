"""Reading CSV and TSV files and DataFrames into text frames."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from synthcase.prepare import ReadOptions, read_frame
from synthcase.prepare.reading import detect_delimiter


def write(tmp_path: Path, name: str, text: str, prefix: bytes = b"") -> Path:
    path = tmp_path / name
    path.write_bytes(prefix + text.encode("utf-8"))
    return path


def as_lists(frame: pd.DataFrame) -> dict[str, list[str]]:
    return {str(c): frame[c].tolist() for c in frame.columns}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("a.csv", "age,sex\n30,F\n41,M\n"),
        ("a.tsv", "age\tsex\n30\tF\n41\tM\n"),
        ("a.csv", "age;sex\n30;F\n41;M\n"),
        ("a.csv", "age|sex\n30|F\n41|M\n"),
        ("a.txt", "age\tsex\n30\tF\n41\tM\n"),
        ("a.csv", "age,sex\r\n30,F\r\n41,M\r\n"),
        ("a.csv", "age , sex\n 30 ,F  \n41, M\n\n"),
        ("a.csv", "\n   \nage,sex\n30,F\n  \n41,M"),
    ],
)
def test_reads_every_supported_layout(tmp_path: Path, name: str, text: str) -> None:
    frame = read_frame(write(tmp_path, name, text), ReadOptions())
    assert as_lists(frame) == {"age": ["30", "41"], "sex": ["F", "M"]}


def test_every_cell_is_text(tmp_path: Path) -> None:
    frame = read_frame(write(tmp_path, "a.csv", "x,y\n007,1.50\n,2\n"), ReadOptions())
    assert all(pd.api.types.is_string_dtype(frame[c]) for c in frame.columns)
    assert as_lists(frame) == {"x": ["007", ""], "y": ["1.50", "2"]}


def test_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "age,sex\n30,F\n", prefix=b"\xef\xbb\xbf")
    assert list(read_frame(path, ReadOptions()).columns) == ["age", "sex"]


def test_quoted_fields_keep_delimiters_quotes_and_newlines(tmp_path: Path) -> None:
    text = 'id,note\n1,"a, b"\n2,"line one\nline two"\n3,"say ""hi"""\n'
    frame = read_frame(write(tmp_path, "a.csv", text), ReadOptions())
    assert frame["note"].tolist() == ["a, b", "line one\nline two", 'say "hi"']


def test_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    text = "weight;height\n70,5;1,80\n82,0;1,75\n"
    frame = read_frame(write(tmp_path, "a.csv", text), ReadOptions())
    assert as_lists(frame) == {"weight": ["70,5", "82,0"], "height": ["1,80", "1,75"]}


def test_explicit_delimiter_overrides_detection(tmp_path: Path) -> None:
    path = write(tmp_path, "a.tsv", "a;b,c\n1;2,3\n")
    assert list(read_frame(path, ReadOptions(delimiter=",")).columns) == ["a;b", "c"]
    assert list(read_frame(path, ReadOptions(delimiter=";")).columns) == ["a", "b,c"]


def test_single_column_file(tmp_path: Path) -> None:
    frame = read_frame(write(tmp_path, "a.csv", "age\n30\n41\n"), ReadOptions())
    assert as_lists(frame) == {"age": ["30", "41"]}


def test_detection_ignores_a_cut_last_record() -> None:
    sample = 'a,b\n1,2\n3,"cut; in the mid'
    assert detect_delimiter(sample, complete=False) == ","


def test_dataframe_input_becomes_stripped_text() -> None:
    source = pd.DataFrame({" age ": [30, None], "sex": [" F", None]})
    frame = read_frame(source, ReadOptions())
    assert as_lists(frame) == {"age": ["30.0", ""], "sex": ["F", ""]}
    assert list(source.columns) == [" age ", "sex"]


def test_columns_are_selected_in_the_order_given(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "a,b,c\n1,2,3\n4,5,6\n")
    frame = read_frame(path, ReadOptions(columns=("c", "a")))
    assert as_lists(frame) == {"c": ["3", "6"], "a": ["1", "4"]}


def test_all_columns_keep_input_order(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "z,a,m\n1,2,3\n")
    assert list(read_frame(path, ReadOptions()).columns) == ["z", "a", "m"]


def test_record_limit_keeps_the_first_records(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "a\n1\n2\n3\n4\n")
    assert read_frame(path, ReadOptions(record_limit=2))["a"].tolist() == ["1", "2"]
    source = pd.DataFrame({"a": ["1", "2", "3"]})
    assert read_frame(source, ReadOptions(record_limit=5))["a"].tolist() == [
        "1",
        "2",
        "3",
    ]


def test_record_limit_stops_before_a_later_ragged_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "a,b\n1,2\n3\n")
    assert read_frame(path, ReadOptions(record_limit=1))["a"].tolist() == ["1"]


def test_info_log_names_file_and_columns_but_no_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "cases.csv", "age,sex\n" + "30,F\n" * 17)
    with caplog.at_level(logging.INFO, logger="synthcase.prepare"):
        read_frame(path, ReadOptions())
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert messages == ["read cases.csv using columns: age, sex"]
    assert not any(ch.isdigit() for ch in messages[0])


def test_doctests() -> None:
    import doctest

    import synthcase.prepare.reading

    result = doctest.testmod(synthcase.prepare.reading)
    assert (result.failed, result.attempted) == (0, 1)
