"""How the web app names release methods and their guarantees."""

from __future__ import annotations

import pytest

from synthcase.cli.app import DEFAULT_MODEL_SHARE as CLI_MODEL_SHARE
from synthcase.k_anonymity import K_MODES
from synthcase.web.methods import (
    DEFAULT_METHOD,
    DEFAULT_MODEL_SHARE,
    DP_METHODS,
    METHODS,
    guarantee_text,
    k_mode,
    method_label,
)


def test_every_library_mode_is_offered_once() -> None:
    assert list(METHODS) == [
        "dp-model",
        "dp-aggregate-seeded",
        *(f"k-anonymity-{mode}" for mode in K_MODES),
    ]
    assert DEFAULT_METHOD == "dp-model" and "recommended" in METHODS[DEFAULT_METHOD]
    assert "Synthetic Data Showcase" in METHODS["dp-aggregate-seeded"]
    assert set(DP_METHODS) == {"dp-model", "dp-aggregate-seeded"}


def test_default_model_share_matches_the_command_line() -> None:
    assert DEFAULT_MODEL_SHARE == CLI_MODEL_SHARE == 0.5


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("k-anonymity-row-seeded", "row-seeded"),
        ("k-anonymity-aggregate-seeded", "aggregate-seeded"),
        ("k-anonymity-made-up", None),
        ("dp-model", None),
        ("dp-aggregate-seeded", None),
    ],
)
def test_k_mode(method: str, expected: str | None) -> None:
    assert k_mode(method) == expected


@pytest.mark.parametrize(
    ("mode", "short", "expected"),
    [
        ("dp-model", True, "DP, model"),
        ("dp-aggregate-seeded", True, "DP, counts only"),
        ("k-anonymity-unseeded", True, "k-anonymity, unseeded"),
        ("linked-something", True, "linked-something"),
        ("linked-something", False, "linked-something"),
    ],
)
def test_method_label(mode: str, short: bool, expected: str) -> None:
    assert method_label(mode, short=short) == expected


@pytest.mark.parametrize(
    ("privacy", "expected"),
    [
        (
            {"epsilon": 3.9999999966107347, "delta": 1.2940554293955985e-05},
            "ε 4 · δ 1.294e-05",
        ),
        ({"epsilon": 0.5, "delta": None}, "ε 0.5 · δ automatic"),
        ({"epsilon": 1}, "ε 1 · δ automatic"),
        ({"definition": "k-anonymity", "resolution": 10, "unit": "record"}, "k = 10"),
        ({}, "—"),
    ],
)
def test_guarantee_text(privacy: dict[str, object], expected: str) -> None:
    assert guarantee_text(privacy) == expected


def test_docstring_examples() -> None:
    import doctest

    import synthcase.web.methods

    failed, attempted = doctest.testmod(synthcase.web.methods)
    assert attempted > 0 and failed == 0
