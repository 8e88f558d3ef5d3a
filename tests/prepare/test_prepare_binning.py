"""Declared bins: validation, labels, the shorthand and value assignment."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import synthcase.prepare.binning
from synthcase.errors import ParameterError
from synthcase.prepare import BinSpec
from synthcase.prepare.binning import MAX_BINS, assign_bins


def test_doctests() -> None:
    result = doctest.testmod(synthcase.prepare.binning)
    assert result.failed == 0
    assert result.attempted >= 6


def test_explicit_edge_labels() -> None:
    spec = BinSpec(column="AGEP", edges=(0, 18, 30, 45, 65, 120))
    assert spec.labels() == (
        "[0,18)",
        "[18,30)",
        "[30,45)",
        "[45,65)",
        "[65,120]",
    )
    assert spec.edges == (0.0, 18.0, 30.0, 45.0, 65.0, 120.0)


def test_equal_width_labels() -> None:
    spec = BinSpec(column="AGEP", lower=0, upper=120, count=4)
    assert spec.labels() == ("[0,30)", "[30,60)", "[60,90)", "[90,120]")
    assert spec.resolved_edges() == (0.0, 30.0, 60.0, 90.0, 120.0)


def test_fractional_and_negative_edges_print_cleanly() -> None:
    assert BinSpec(column="x", lower=0, upper=0.3, count=3).labels() == (
        "[0,0.1)",
        "[0.1,0.2)",
        "[0.2,0.3]",
    )
    assert BinSpec(column="x", edges=(-2.5, 0, 1e6)).labels() == (
        "[-2.5,0)",
        "[0,1000000]",
    )


def test_single_bin() -> None:
    assert BinSpec(column="x", edges=(1, 2)).labels() == ("[1,2]",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "AGEP=0,18,30,45,65,120",
            BinSpec(column="AGEP", edges=(0, 18, 30, 45, 65, 120)),
        ),
        ("AGEP=0..120/12", BinSpec(column="AGEP", lower=0, upper=120, count=12)),
        (" AGEP = 0 , 18 , 65 ", BinSpec(column="AGEP", edges=(0, 18, 65))),
        ("INC=-5000..5000/4", BinSpec(column="INC", lower=-5000, upper=5000, count=4)),
        ("score=0.5..1.5/2", BinSpec(column="score", lower=0.5, upper=1.5, count=2)),
        ("a=b=1,2", BinSpec(column="a=b", edges=(1, 2))),
    ],
)
def test_parse(text: str, expected: BinSpec) -> None:
    assert BinSpec.parse(text) == expected


@pytest.mark.parametrize("text", ["AGEP=0,18,65", "AGEP=0..120/12", "x=-1.5,0,2.25"])
def test_to_text_round_trips(text: str) -> None:
    assert BinSpec.parse(text).to_text() == text


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("AGEP", ["'AGEP'", "COLUMN=E1,E2,...,En", "LOW..HIGH/COUNT"]),
        ("=0,18", ["'=0,18'", "COLUMN=E1"]),
        ("AGEP=", ["'AGEP='", "COLUMN=E1"]),
        ("AGEP=0,x,65", ["'x'", "where a number belongs"]),
        ("AGEP=0..120", ["no bin count", "AGEP=0..120/10"]),
        ("AGEP=0..120/x", ["bin count 'x'", "whole number >= 1"]),
        ("AGEP=0..120/0", ["'AGEP'", "count 0", ">= 1"]),
        ("AGEP=120..0/4", ["'AGEP'", "120.0..0.0", "lower < upper"]),
        ("AGEP=18", ["'AGEP'", "1 edge(s)", "at least two"]),
        ("AGEP=0,30,18", ["'AGEP'", "strictly increasing"]),
        ("AGEP=0,18,18", ["strictly increasing"]),
        ("AGEP=0,inf", ["finite", "out_of_range='clip'"]),
        ("AGEP=nan,1", ["finite"]),
        ("x=1,1.0000000000001,1.0000000000002,2", ["too close together"]),
    ],
)
def test_parse_errors(text: str, fragments: list[str]) -> None:
    with pytest.raises(ParameterError) as caught:
        BinSpec.parse(text)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"column": "a"}, "needs either edges or all of lower, upper and count"),
        ({"column": "a", "lower": 0, "upper": 1}, "count=None"),
        ({"column": "a", "edges": (0, 1), "count": 2}, "give only one form"),
        ({"column": " ", "edges": (0, 1)}, "give the name of a column"),
        ({"column": "a", "edges": ("x", 1)}, "edges must be numbers"),
        ({"column": "a", "lower": 0, "upper": 1, "count": 2.5}, "count 2.5"),
        ({"column": "a", "lower": 0, "upper": 1, "count": True}, "count True"),
    ],
)
def test_constructor_errors(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ParameterError) as caught:
        BinSpec(**kwargs)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


def test_boundary_values_go_to_the_interval_that_starts_there() -> None:
    spec = BinSpec(column="AGEP", edges=(0, 18, 65, 120))
    values = np.array([0, 17.999, 18, 64.5, 65, 119.9, 120], dtype=np.float64)
    index, outside = assign_bins(values, spec, "error")
    assert index.tolist() == [0, 0, 1, 1, 2, 2, 2]
    assert not outside.any()


def test_equal_width_boundaries_match_the_labels() -> None:
    spec = BinSpec.parse("x=0..1/10")
    values = np.array([0.1 * i for i in range(11)], dtype=np.float64)
    index, _ = assign_bins(values, spec, "error")
    labels = [spec.labels()[i] for i in index]
    assert labels[3] == "[0.3,0.4)"
    assert labels[-1] == "[0.9,1]"


@pytest.mark.parametrize(
    ("mode", "expected_index", "expected_outside"),
    [
        ("error", [-1, 0, 1, -1, -1], [True, False, False, True, True]),
        ("absent", [-1, 0, 1, -1, -1], [True, False, False, True, True]),
        ("clip", [0, 0, 1, 1, -1], [False, False, False, False, True]),
    ],
)
def test_out_of_range_modes(
    mode: str, expected_index: list[int], expected_outside: list[bool]
) -> None:
    spec = BinSpec(column="x", edges=(0, 10, 20))
    values = np.array([-1, 5, 20, 20.5, np.nan], dtype=np.float64)
    index, outside = assign_bins(values, spec, mode)  # type: ignore[arg-type]
    assert index.tolist() == expected_index
    assert outside.tolist() == expected_outside


def test_bin_count_at_the_limit_is_accepted() -> None:
    spec = BinSpec.parse(f"age=0..100/{MAX_BINS}")
    assert MAX_BINS == 10_000
    assert len(spec.labels()) == MAX_BINS


def test_too_many_equal_width_bins_are_refused_before_any_edge_is_made() -> None:
    with pytest.raises(ParameterError) as caught:
        BinSpec.parse("age=0..100/20000000")
    assert str(caught.value) == (
        "bin spec for column 'age' has 20000000 bins, more than the limit of "
        "10000; declare fewer, wider bins"
    )


def test_edges_at_the_limit_are_accepted_and_one_more_is_refused() -> None:
    spec = BinSpec(column="x", edges=tuple(range(MAX_BINS)))
    assert len(spec.labels()) == MAX_BINS - 1
    with pytest.raises(ParameterError) as caught:
        BinSpec.parse("x=" + ",".join(map(str, range(MAX_BINS + 1))))
    assert str(caught.value) == (
        "bin spec for column 'x' has 10001 edges, more than the limit of 10000; "
        "declare fewer, wider bins"
    )
