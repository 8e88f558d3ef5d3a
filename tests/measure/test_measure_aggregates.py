"""Aggregates: lookups, the TSV file, escaping and read errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthcase.errors import DataError
from synthcase.measure import Aggregates
from synthcase.measure.aggregates import (
    escape_part,
    format_combination,
    parse_combination,
)

Pairs = list[tuple[str, str]]

# Names and values with every character the file format must escape.
A, B, C = "age;group", "sex:code", "note\\path"
A1, A2 = "0:18", "18;65"
B1, B2 = "f", "m\tx"
C1 = "a\\b\nc"

ITEMS: list[tuple[Pairs, int]] = [
    ([(A, A1)], 40),
    ([(A, A2)], 25),
    ([(B, B1)], 33),
    ([(B, B2)], 31),
    ([(C, C1)], 12),
    ([(A, A1), (B, B1)], 20),
    ([(A, A1), (B, B2)], 19),
    ([(A, A2), (B, B1)], 12),
    ([(A, A1), (C, C1)], 7),
    ([(B, B2), (C, C1)], 7),
    ([(A, A1), (B, B2), (C, C1)], 5),
]


def make_aggregates() -> Aggregates:
    return Aggregates.from_pairs(ITEMS, record_count=64, columns=[A, B, C])


def as_dict(aggregates: Aggregates) -> dict[frozenset[tuple[str, str]], int]:
    labels = aggregates.value_labels
    result = {}
    for combos, counts in zip(aggregates.combinations, aggregates.counts, strict=True):
        for row, count in zip(combos.tolist(), counts.tolist(), strict=True):
            result[frozenset(labels[i] for i in row)] = int(count)
    return result


def test_from_pairs_keeps_every_count() -> None:
    aggregates = make_aggregates()
    assert aggregates.columns == (A, B, C)
    assert aggregates.reporting_length == 3
    assert aggregates.record_count == 64
    assert as_dict(aggregates) == {frozenset(p): n for p, n in ITEMS}
    assert aggregates.count_of({A: A1}) == 40
    assert aggregates.count_of({B: B2, A: A1}) == 19
    assert aggregates.count_of({A: A1, B: B2, C: C1}) == 5
    assert aggregates.count_of({A: A2, C: C1}) is None
    assert aggregates.count_of({A: "unknown"}) is None


def test_lookup_gives_minus_one_for_missing_combinations() -> None:
    aggregates = make_aggregates()
    offsets = aggregates.index.offsets
    a1, a2 = offsets[0], offsets[0] + 1
    b1 = offsets[1]
    c1 = offsets[2]
    ids = np.array([[a1, b1], [a2, c1], [a2, b1]], dtype=np.int64)
    assert aggregates.lookup(ids).tolist() == [20, -1, 12]
    assert aggregates.lookup(np.zeros((0, 2), np.int64)).tolist() == []


@pytest.mark.parametrize(
    "text",
    ["plain", "a;b", "a:b", "a\\b", "tab\there", "new\nline", "", "\\;:\\\\"],
)
def test_escaping_round_trips(text: str) -> None:
    escaped = escape_part(text)
    assert "\t" not in escaped and "\n" not in escaped
    pairs = [(text, text), ("other", text)]
    assert parse_combination(format_combination(pairs)) == pairs


def test_tsv_round_trip_keeps_every_combination(tmp_path: Path) -> None:
    aggregates = make_aggregates()
    path = tmp_path / "aggregates.tsv"
    aggregates.write_tsv(path)
    back = Aggregates.read_tsv(path, columns=[A, B, C])
    assert back.columns == (A, B, C)
    assert back.record_count == 64
    assert back.reporting_length == 3
    assert as_dict(back) == as_dict(aggregates)
    assert back.to_frame().equals(aggregates.to_frame())
    # Written again, the file is byte for byte the same.
    again = tmp_path / "again.tsv"
    back.write_tsv(again)
    assert again.read_bytes() == path.read_bytes()


def test_tsv_layout_header_record_count_then_length_and_count(tmp_path: Path) -> None:
    path = tmp_path / "aggregates.tsv"
    make_aggregates().write_tsv(path)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "selections\tprotected_count"
    assert lines[1] == "record_count\t64"
    assert lines[-1] == ""
    rows = [line.split("\t") for line in lines[2:-1]]
    assert all(len(r) == 2 for r in rows)
    assert len(rows) == len(ITEMS)
    keys = [(len(parse_combination(sel)), -int(count)) for sel, count in rows]
    assert keys == sorted(keys)
    assert rows[0] == [format_combination([(A, A1)]), "40"]
    assert rows[0][0] == "age\\;group:0\\:18"


def test_frame_is_ordered_by_length_then_count() -> None:
    frame = make_aggregates().to_frame()
    assert list(frame.columns) == ["selections", "protected_count", "length"]
    assert frame["length"].tolist() == [1] * 5 + [2] * 5 + [3]
    for _, part in frame.groupby("length"):
        counts = part["protected_count"].tolist()
        assert counts == sorted(counts, reverse=True)


def test_read_without_columns_takes_the_order_of_appearance(tmp_path: Path) -> None:
    path = tmp_path / "aggregates.tsv"
    make_aggregates().write_tsv(path)
    back = Aggregates.read_tsv(path)
    assert back.columns == (A, B, C)
    assert as_dict(back) == as_dict(make_aggregates())


def test_a_longer_reporting_length_than_found_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "aggregates.tsv"
    make_aggregates().write_tsv(path)
    back = Aggregates.read_tsv(path, columns=[A, B, C], reporting_length=4)
    assert back.reporting_length == 4
    assert back.combinations[3].shape == (0, 4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A", "has an item without 'column:value'"),
        ("", "has an item without 'column:value'"),
        ("A:b;", "has an item without 'column:value'"),
        ("A:b;;C:d", "has an item without 'column:value'"),
        ("A:b;C", "has an item without 'column:value'"),
        ("A:b\\", "has a dangling backslash"),
        ("A:b\\x", "has a dangling backslash"),
    ],
)
def test_bad_combinations_are_data_errors(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_combination(text)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "selections\tprotected_count\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"does not start with 'selections<TAB>protected_count'"),
        ("a,b\n1,2\n", r"does not start with 'selections<TAB>protected_count'"),
        (HEADER + "A:a\t3\n", r"has no 'record_count' row"),
        (HEADER + "record_count\t9\nA:a\tthree\n", r"line 3: expected"),
        (HEADER + "record_count\t9\nA:a 3\n", r"line 3: expected"),
        (HEADER + "record_count\t9\nA\t3\n", r"line 3: .*without 'column:value'"),
        (HEADER + "record_count\t9\nA:a\t3\nA:a;B:b\t2\n", r"has no count of its own"),
    ],
)
def test_bad_files_are_data_errors_with_the_place(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path / "aggregates.tsv", text)
    with pytest.raises(DataError, match=message):
        Aggregates.read_tsv(path)


def test_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"aggregates file .*nope.tsv' does not exist"):
        Aggregates.read_tsv(tmp_path / "nope.tsv")


def test_unknown_columns_and_too_long_combinations_are_data_errors(
    tmp_path: Path,
) -> None:
    path = tmp_path / "aggregates.tsv"
    make_aggregates().write_tsv(path)
    with pytest.raises(DataError, match=r"not among the columns"):
        Aggregates.read_tsv(path, columns=[A, B])
    with pytest.raises(DataError, match=r"longer than the reporting length 2"):
        Aggregates.read_tsv(path, columns=[A, B, C], reporting_length=2)


def test_blank_lines_and_a_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    text = "\ufeff" + HEADER + "record_count\t9\n\nA:a\t3\r\n"
    back = Aggregates.read_tsv(write(tmp_path / "a.tsv", text))
    assert back.record_count == 9
    assert back.count_of({"A": "a"}) == 3


def test_an_infinite_count_is_a_data_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.tsv", HEADER + "record_count\t9\nA:a\tinf\n")
    with pytest.raises(DataError, match="line 3"):
        Aggregates.read_tsv(path)


def test_a_fractional_count_is_a_data_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.tsv", HEADER + "record_count\t9\nA:a\t2.7\n")
    with pytest.raises(DataError, match="whole count"):
        Aggregates.read_tsv(path)


def test_a_combination_with_one_column_twice_is_a_data_error(tmp_path: Path) -> None:
    text = HEADER + "record_count\t5\nA:a1\t3\nA:a2\t2\nB:b1\t2\nA:a1;A:a2\t1\n"
    path = write(tmp_path / "a.tsv", text)
    with pytest.raises(DataError, match=r"'A:a1;A:a2' names a column twice"):
        Aggregates.read_tsv(path)


def test_a_combination_written_twice_is_a_data_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.tsv", HEADER + "record_count\t5\nA:a\t3\nA:a\t2\n")
    with pytest.raises(DataError, match="'A:a' is listed twice"):
        Aggregates.read_tsv(path)
