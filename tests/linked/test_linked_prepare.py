"""Reading linked files: subject ids, levels, consistency and multi-value cells."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest

from synthcase.errors import DataError, ParameterError
from synthcase.prepare import ABSENT, ReadOptions
from synthcase.prepare.linked import (
    LinkBins,
    LinkedLayout,
    MultiValue,
    check_consistency,
    decide_layout,
    declared_layout,
    join_multi_value,
    link_table,
    load_linked,
    split_multi_value,
    subject_table,
    unit_name,
)

OPTIONS = ReadOptions(subject_id="victim_id")


def cases() -> pd.DataFrame:
    """Three victims: V1 with two links, V2 with three, V3 with one."""
    return pd.DataFrame(
        {
            "victim_id": ["V1", "V1", "V2", "V2", "V2", "V3"],
            "gender": ["Woman", "Woman", "Man", "Man", "Man", "Woman"],
            "region": ["Asia", "Asia", "Europe", "", "Europe", "Asia"],
            "IP_relation": ["Family", "Stranger", "Employer", "Employer", "", "Other"],
            "IP_paid": ["1", "", "", "1", "1", ""],
        }
    )


def test_load_keeps_input_order_and_numbers_subjects() -> None:
    linked = load_linked(cases(), OPTIONS)
    assert linked.input_columns == (
        "victim_id",
        "gender",
        "region",
        "IP_relation",
        "IP_paid",
    )
    assert linked.attributes == ("gender", "region", "IP_relation", "IP_paid")
    assert linked.table.columns == linked.attributes
    assert linked.table.subject_ids is not None
    assert linked.table.subject_ids.tolist() == [0, 0, 1, 1, 1, 2]
    assert linked.sensitive_subject_labels.tolist() == ["V1", "V2", "V3"]


def test_column_selection_keeps_input_order() -> None:
    options = ReadOptions(subject_id="victim_id", columns=("IP_paid", "gender"))
    linked = load_linked(cases(), options)
    assert linked.input_columns == ("victim_id", "gender", "IP_paid")


def test_empty_subject_ids_are_refused_with_count_and_records() -> None:
    frame = cases()
    frame.loc[[1, 4], "victim_id"] = " "
    with pytest.raises(DataError) as caught:
        load_linked(frame, OPTIONS)
    message = str(caught.value)
    assert "2 record(s) have an empty subject id" in message
    assert "records 2, 5" in message


def test_a_missing_subject_id_column_is_named() -> None:
    with pytest.raises(DataError, match="'case_id' is not in the data"):
        load_linked(cases(), ReadOptions(subject_id="case_id"))


def test_a_subject_id_is_required() -> None:
    with pytest.raises(ParameterError, match="--subject-id"):
        load_linked(cases(), ReadOptions())


def test_consistency_counts_varying_subjects_per_column() -> None:
    report = check_consistency(load_linked(cases(), OPTIONS))
    assert report.columns == ("gender", "region", "IP_relation", "IP_paid")
    # Absent is a value of its own: V2's empty region makes it vary.
    assert report.varying == (0, 1, 2, 2)
    assert report.examples == ((), ("V2",), ("V1", "V2"), ("V1", "V2"))
    assert report.subjects == 3
    assert report.multi_row_subjects == 2
    assert report.consistent_columns() == ("gender",)
    assert "region: 1 (V2)" in report.report()


def test_examples_stop_at_five_subjects() -> None:
    ids = [f"S{i}" for i in range(8) for _ in range(2)]
    frame = pd.DataFrame({"id": ids, "colour": ["red", "blue"] * 8})
    report = check_consistency(load_linked(frame, ReadOptions(subject_id="id")))
    assert report.varying == (8,)
    assert report.examples == (("S0", "S1", "S2", "S3", "S4"),)


def test_a_declared_subject_column_that_varies_is_a_data_error() -> None:
    report = check_consistency(load_linked(cases(), OPTIONS))
    report.require_consistent(["gender"])
    with pytest.raises(DataError) as caught:
        report.require_consistent(["gender", "region", "IP_paid"])
    message = str(caught.value)
    assert "'region' varies within 1 subject(s) (for example V2)" in message
    assert "'IP_paid' varies within 2 subject(s) (for example V1, V2)" in message
    assert "declare the column link-level" in message


@pytest.mark.parametrize(
    ("subjects", "links", "expected"),
    [
        (("gender",), None, (("gender",), ("region", "IP_relation", "IP_paid"))),
        (None, ("IP_paid",), (("gender", "region", "IP_relation"), ("IP_paid",))),
        (
            ("region", "gender"),
            ("IP_paid", "IP_relation"),
            (("gender", "region"), ("IP_relation", "IP_paid")),
        ),
    ],
)
def test_one_declared_list_implies_the_other(
    subjects: tuple[str, ...] | None,
    links: tuple[str, ...] | None,
    expected: tuple[tuple[str, ...], tuple[str, ...]],
) -> None:
    attributes = ("gender", "region", "IP_relation", "IP_paid")
    layout = declared_layout(attributes, subjects, links)
    assert layout == LinkedLayout(*expected, detected=False)


def test_nothing_declared_means_detect() -> None:
    assert declared_layout(("a", "b"), None, None) is None


@pytest.mark.parametrize(
    ("subjects", "links", "fragment"),
    [
        (("age",), None, "subject_columns names 'age', not among the attributes"),
        (("a",), ("a", "b"), "'a' is declared both subject-level and link-level"),
        (("a",), ("b",), "'c' is declared neither subject-level nor link-level"),
    ],
)
def test_declared_layout_errors(
    subjects: tuple[str, ...], links: tuple[str, ...] | None, fragment: str
) -> None:
    with pytest.raises(ParameterError, match=fragment):
        declared_layout(("a", "b", "c"), subjects, links)


def test_decided_layout_compares_with_a_share_of_multi_row_subjects() -> None:
    layout = decide_layout(("a", "b", "c"), [0.0, 50.0, 51.0], 1000.0, 0.05)
    assert layout == LinkedLayout(("a", "b"), ("c",), detected=True)
    # Without multi-row subjects (noisy count below zero) only columns with
    # no protected variation at all stay subject-level.
    assert decide_layout(("a", "b"), [-3.0, 2.0], -5.0, 0.05).subject_columns == ("a",)


def test_noise_sized_variation_keeps_a_column_subject_level() -> None:
    # No subject has several rows: nothing can vary, whatever the noise says.
    layout = decide_layout(("a", "b"), [340.0, 500.0], -20.0, 0.05, noise_scale=100.0)
    assert layout.subject_columns == ("a",)
    assert layout.link_columns == ("b",)


def test_a_multi_value_subject_id_is_refused() -> None:
    with pytest.raises(ParameterError, match="subject id column 'victim_id' is"):
        load_linked(cases(), OPTIONS, [MultiValue(column="victim_id")])


def test_subject_table_has_one_consolidated_row_per_subject() -> None:
    linked = load_linked(cases(), OPTIONS)
    layout = LinkedLayout(("gender", "region"), ("IP_relation", "IP_paid"), False)
    bins = LinkBins((1, 2, 3, 10))
    table = subject_table(linked, layout, bins, "links")
    assert table.columns == ("gender", "region", "links")
    assert table.subject_ids is None
    # V2's rows hold Europe, absent, Europe: the present value wins.
    assert table.decode() == [
        ["Woman", "Asia", "2"],
        ["Man", "Europe", "3+"],
        ["Woman", "Asia", "1"],
    ]


def test_link_table_repeats_the_subject_values_on_every_link() -> None:
    linked = load_linked(cases(), OPTIONS)
    layout = LinkedLayout(("region",), ("gender", "IP_relation", "IP_paid"), False)
    table = link_table(linked, layout, LinkBins((1, 2, 3, 10)), "links")
    assert table.columns == ("region", "links", "gender", "IP_relation", "IP_paid")
    assert table.subject_ids is not None
    assert table.subject_ids.tolist() == [0, 0, 1, 1, 1, 2]
    assert [row[0] for row in table.decode()] == ["Asia"] * 2 + ["Europe"] * 3 + [
        "Asia"
    ]
    without = link_table(linked, layout, LinkBins((1, 2, 3, 10)), None)
    assert without.columns == ("region", "gender", "IP_relation", "IP_paid")


def test_link_bins_labels_and_ranges() -> None:
    bins = LinkBins()
    assert bins.labels() == (
        "1",
        "2",
        "3",
        "4",
        "5",
        "6-7",
        "8-10",
        "11-15",
        "16-20",
        "21-30",
        "31-40",
        "41+",
    )
    assert bins.ranges()[-1] == (41, 64)
    assert bins.bin_of(np.array([1, 7, 8, 40, 41, 500])).tolist() == [
        0,
        5,
        6,
        10,
        11,
        11,
    ]
    assert LinkBins.parse("1, 2,5") == LinkBins((1, 2, 5))


@pytest.mark.parametrize("edges", [(1,), (0, 2), (1, 1, 3), (1, 2.5)])
def test_link_bins_must_increase_from_one(edges: tuple[float, ...]) -> None:
    with pytest.raises(ParameterError, match="link bins"):
        LinkBins(edges)  # type: ignore[arg-type]


def test_link_bins_parse_refuses_words() -> None:
    with pytest.raises(ParameterError, match="--link-bins 1,2,3,5,10,41"):
        LinkBins.parse("1,two")


def exploitation() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "victim_id": ["V1", "V1", "V2", "V3"],
            "forms": ["sexual;labour", "labour ; sexual", "", "labour;;N"],
            "IP_role": ["a", "b", "a", "c"],
        }
    )


def test_multi_value_cells_become_presence_columns() -> None:
    options = ReadOptions(subject_id="victim_id", null_tokens=("N",))
    linked = load_linked(exploitation(), options, [MultiValue(column="forms")])
    columns = linked.table.columns
    assert columns[:2] == ("forms[labour]", "forms[sexual]")
    # Padded to max_values, so the shape does not depend on the data.
    assert len(columns) == 10 + 1
    assert linked.origin == ("forms",) * 10 + ("IP_role",)
    assert linked.presence == {
        "forms[labour]": ("forms", "labour"),
        "forms[sexual]": ("forms", "sexual"),
    }
    codes = linked.table.codes
    assert codes[:, 0].tolist() == [0, 0, ABSENT, 0]
    assert codes[:, 1].tolist() == [0, 0, ABSENT, ABSENT]
    assert all(linked.table.categories[j] == () for j in range(2, 10))
    # The order of the values in a cell does not make a subject vary.
    assert check_consistency(linked).varying == (0, 1)


def test_declared_values_fix_the_presence_columns() -> None:
    spec = MultiValue(column="forms", values=("sexual", "labour", "organs"))
    options = ReadOptions(subject_id="victim_id", null_tokens=("N",))
    linked = load_linked(exploitation(), options, [spec])
    assert linked.table.columns[:3] == (
        "forms[sexual]",
        "forms[labour]",
        "forms[organs]",
    )
    assert linked.table.n_columns == 4


def test_an_undeclared_value_is_a_data_error() -> None:
    spec = MultiValue(column="forms", values=("sexual",))
    with pytest.raises(DataError, match="holds 'labour' in record 1"):
        load_linked(exploitation(), OPTIONS, [spec])


def test_too_many_undeclared_values_is_a_data_error() -> None:
    spec = MultiValue(column="forms", max_values=2)
    with pytest.raises(DataError, match="3 distinct values, more than max_values 2"):
        load_linked(exploitation(), OPTIONS, [spec])


def test_zero_parts_are_absent_when_zero_is_absent() -> None:
    frame = pd.DataFrame({"id": ["a", "b"], "codes": ["0;7", "0"]})
    options = ReadOptions(subject_id="id", absent_zero=("codes",))
    linked = load_linked(frame, options, [MultiValue(column="codes", max_values=1)])
    assert linked.presence == {"codes[7]": ("codes", "7")}
    assert linked.table.codes[:, 0].tolist() == [0, ABSENT]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"column": " "}, "is not a column name"),
        ({"column": "f", "delimiter": " "}, "give a visible text"),
        ({"column": "f", "values": ("a", "a")}, "distinct, non-empty values"),
        ({"column": "f", "values": ("a;b",)}, "contains the delimiter"),
        ({"column": "f", "max_values": 0}, "in 1..100"),
    ],
)
def test_multi_value_settings_are_checked(
    kwargs: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ParameterError, match=fragment):
        MultiValue(**kwargs)  # type: ignore[arg-type]


def test_a_binned_multi_value_column_is_refused() -> None:
    from synthcase.prepare import BinSpec

    options = ReadOptions(subject_id="victim_id", bins=(BinSpec.parse("forms=0,1"),))
    with pytest.raises(ParameterError, match="both multi-value and binned"):
        load_linked(exploitation(), options, [MultiValue(column="forms")])


def test_a_value_list_on_a_multi_value_or_id_column_is_refused() -> None:
    from synthcase.prepare import ValueList

    options = ReadOptions(
        subject_id="victim_id", values=(ValueList.parse("forms=labour,sexual"),)
    )
    with pytest.raises(ParameterError, match="both multi-value and with a value"):
        load_linked(exploitation(), options, [MultiValue(column="forms")])
    options = ReadOptions(
        subject_id="victim_id", values=(ValueList.parse("victim_id=V1"),)
    )
    with pytest.raises(ParameterError, match="subject id column 'victim_id' has"):
        load_linked(exploitation(), options, [MultiValue(column="forms")])


def test_join_writes_values_in_presence_order() -> None:
    frame = pd.DataFrame(
        {"f[a]": ["1", pd.NA, "1", pd.NA], "f[b]": ["1", "1", pd.NA, pd.NA]}
    )
    joined = join_multi_value(frame, [("f[b]", "b"), ("f[a]", "a")], "|")
    assert joined.tolist()[:3] == ["b|a", "b", "a"]
    assert joined.isna().tolist() == [False, False, False, True]


def test_split_and_join_round_trip() -> None:
    frame = pd.DataFrame({"f": ["x;y", "", "y"]})
    split, origin, presence = split_multi_value(
        frame, [MultiValue(column="f", max_values=3)], ReadOptions()
    )
    assert origin == ["f", "f", "f"]
    pairs = [(column, value) for column, (_, value) in presence.items()]
    back = join_multi_value(split.replace("", pd.NA), pairs, ";")
    assert back.fillna("").tolist() == ["x;y", "", "y"]


@pytest.mark.parametrize(
    ("name", "unit"),
    [("victim_id", "victim"), ("VictimID", "victim"), ("id", "id"), ("case", "case")],
)
def test_unit_name(name: str, unit: str) -> None:
    assert unit_name(name) == unit


@pytest.mark.parametrize(
    "module",
    ["synthcase.prepare.linked", "synthcase.synthesize.linked", "synthcase.linked"],
)
def test_docstring_examples(module: str) -> None:
    failed, attempted = doctest.testmod(importlib.import_module(module))
    assert attempted > 0
    assert failed == 0
