"""DPSettings: validation, modes, sigma proportions and fabrication etas."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from synthcase.errors import ParameterError
from synthcase.measure import AccuracyMode, DPSettings, FabricationMode
from synthcase.measure.settings import parse_sigma_proportions, parse_thresholds

BAD_SETTINGS: list[Any] = [
    pytest.param({"epsilon": 0}, r"epsilon is 0; it must be in \(0, inf\)", id="eps-0"),
    pytest.param({"epsilon": -1}, r"epsilon is -1; it must be in", id="eps-neg"),
    pytest.param({"epsilon": math.inf}, r"epsilon is inf", id="eps-inf"),
    pytest.param({"epsilon": math.nan}, r"epsilon is nan", id="eps-nan"),
    pytest.param(
        {"delta": 0.0}, r"delta is 0.0; it must be in \(0, 0.01\)", id="delta-0"
    ),
    pytest.param(
        {"delta": 0.5}, r"delta is 0.5; it must be in \(0, 0.01\)", id="delta-half"
    ),
    pytest.param({"epsilon": 1000.0}, r"above 100", id="epsilon-huge"),
    pytest.param({"epsilon": True}, r"epsilon is True", id="epsilon-bool"),
    pytest.param({"delta": math.nan}, r"delta is nan", id="delta-nan"),
    pytest.param(
        {"reporting_length": 0}, r"reporting_length is 0; .* >= 1", id="length-0"
    ),
    pytest.param(
        {"reporting_length": 2.5}, r"reporting_length is 2.5", id="length-float"
    ),
    pytest.param({"percentile": 0}, r"percentile is 0; .* 1\.\.100", id="pct-0"),
    pytest.param({"percentile": 101}, r"percentile is 101", id="pct-101"),
    pytest.param(
        {"percentile_share": 0.0}, r"percentile_share is 0.0", id="pct-share-0"
    ),
    pytest.param(
        {"percentile_share": 1.0}, r"percentile_share is 1.0", id="pct-share-1"
    ),
    pytest.param(
        {"record_count_share": 0.0}, r"record_count_share is 0.0", id="count-share-0"
    ),
    pytest.param(
        {"record_count_share": 1.0}, r"record_count_share is 1.0", id="count-share-1"
    ),
    pytest.param(
        {"delta_threshold_share": 0.0},
        r"delta_threshold_share is 0.0",
        id="delta-share-0",
    ),
    pytest.param(
        {"delta_threshold_share": 1.0},
        r"delta_threshold_share is 1.0; it must be in \(0, 1\), for example "
        r"--delta-threshold-share",
        id="delta-share-1",
    ),
    pytest.param(
        {"accuracy_mode": "custom"}, r"'custom' needs sigma proportions", id="custom-0"
    ),
    pytest.param(
        {"accuracy_mode": "custom", "sigma_proportions": (1.0, 0.5)},
        r"2 sigma proportions given for reporting length 3",
        id="custom-short",
    ),
    pytest.param(
        {"accuracy_mode": "custom", "sigma_proportions": (1.0, -0.5, 0.3)},
        r"sigma proportions \[1.0, -0.5, 0.3\] must all be finite and > 0",
        id="custom-negative",
    ),
    pytest.param(
        {"accuracy_mode": "custom", "sigma_proportions": (1.0, 0.0, 0.3)},
        r"must all be finite and > 0",
        id="custom-zero",
    ),
    pytest.param(
        {"accuracy_mode": "custom", "sigma_proportions": (1.0, math.inf, 0.3)},
        r"must all be finite and > 0",
        id="custom-inf",
    ),
    pytest.param(
        {"sigma_proportions": (1.0, 1.0, 1.0)},
        r"only used with accuracy mode 'custom'",
        id="proportions-without-custom",
    ),
    pytest.param(
        {"fabrication_mode": "custom-adaptive", "thresholds": {1: 0.5}},
        r"threshold is given for length 1; thresholds apply to lengths 2\.\.3",
        id="threshold-length-1",
    ),
    pytest.param(
        {"fabrication_mode": "custom-fixed", "thresholds": {4: 5.0}},
        r"threshold is given for length 4",
        id="threshold-beyond-R",
    ),
    pytest.param(
        {"fabrication_mode": "custom-adaptive", "thresholds": {2: 0.0}},
        r"adaptive threshold 0.0 for length 2 must be in \(0, 1\]",
        id="adaptive-0",
    ),
    pytest.param(
        {"fabrication_mode": "custom-adaptive", "thresholds": {3: 1.5}},
        r"adaptive threshold 1.5 for length 3",
        id="adaptive-1.5",
    ),
    pytest.param(
        {"fabrication_mode": "custom-adaptive", "thresholds": {3: math.nan}},
        r"adaptive threshold nan",
        id="adaptive-nan",
    ),
    pytest.param(
        {"fabrication_mode": "custom-fixed", "thresholds": {2: -1.0}},
        r"fixed threshold -1.0 for length 2 must be >= 0",
        id="fixed-negative",
    ),
    pytest.param(
        {"fabrication_mode": "custom-fixed", "thresholds": {2: math.nan}},
        r"fixed threshold nan",
        id="fixed-nan",
    ),
    pytest.param(
        {"thresholds": {2: 0.5}},
        r"only used with fabrication modes 'custom-fixed' and 'custom-adaptive'",
        id="thresholds-progressive",
    ),
    pytest.param(
        {"fabrication_mode": "minimize", "thresholds": {2: 0.5}},
        r"only used with fabrication modes",
        id="thresholds-minimize",
    ),
    pytest.param(
        {"accuracy_mode": "fast"},
        r"accuracy mode 'fast' is unknown; choose one of prioritize-long, "
        r"prioritize-short, balanced, custom",
        id="unknown-accuracy",
    ),
    pytest.param(
        {"fabrication_mode": "none"},
        r"fabrication mode 'none' is unknown; choose one of uncontrolled, "
        r"progressive, balanced, minimize, custom-fixed, custom-adaptive",
        id="unknown-fabrication",
    ),
    pytest.param({"max_candidates": 0}, r"max_candidates is 0", id="candidates-0"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_SETTINGS)
def test_bad_settings_are_refused_with_advice(
    changes: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"epsilon": 1.0, **changes}
    with pytest.raises(ParameterError, match=message):
        DPSettings(**arguments)


def test_defaults_and_string_modes_become_enums() -> None:
    settings = DPSettings(
        epsilon=2.0, accuracy_mode="balanced", fabrication_mode="minimize"
    )
    assert settings.accuracy_mode is AccuracyMode.BALANCED
    assert settings.fabrication_mode is FabricationMode.MINIMIZE
    default = DPSettings(epsilon=1.0)
    assert default.reporting_length == 3
    assert default.delta is None
    assert default.accuracy_mode is AccuracyMode.PRIORITIZE_LONG
    assert default.fabrication_mode is FabricationMode.PROGRESSIVE


def test_settings_are_frozen_and_keyword_only() -> None:
    settings = DPSettings(epsilon=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.epsilon = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        DPSettings(1.0)  # type: ignore[misc]


def test_thresholds_are_copied_when_built() -> None:
    given = {2: 0.2}
    settings = DPSettings(
        epsilon=1.0, fabrication_mode="custom-adaptive", thresholds=given
    )
    given[3] = 0.9
    assert settings.thresholds == {2: 0.2}


@pytest.mark.parametrize(
    ("mode", "length", "expected"),
    [
        ("prioritize-long", 1, (1.0,)),
        ("prioritize-long", 3, (1.0, 1 / 2, 1 / 3)),
        ("prioritize-long", 4, (1.0, 1 / 2, 1 / 3, 1 / 4)),
        ("prioritize-short", 1, (1.0,)),
        ("prioritize-short", 3, (1 / 3, 1 / 2, 1.0)),
        ("prioritize-short", 4, (1 / 4, 1 / 3, 1 / 2, 1.0)),
        ("balanced", 3, (1.0, 1.0, 1.0)),
    ],
)
def test_accuracy_modes_give_the_documented_sigma_proportions(
    mode: str, length: int, expected: tuple[float, ...]
) -> None:
    settings = DPSettings(epsilon=1.0, reporting_length=length, accuracy_mode=mode)
    assert settings.resolved_sigma_proportions() == pytest.approx(expected)


def test_custom_sigma_proportions_are_used_as_given() -> None:
    settings = DPSettings(
        epsilon=1.0, accuracy_mode="custom", sigma_proportions=(2.0, 0.5, 0.25)
    )
    assert settings.resolved_sigma_proportions() == (2.0, 0.5, 0.25)


@pytest.mark.parametrize(
    ("mode", "length", "expected"),
    [
        ("progressive", 2, {2: 0.1}),
        ("progressive", 3, {2: 0.1, 3: 1.0}),
        ("progressive", 4, {2: 0.1, 3: 0.55, 4: 1.0}),
        ("progressive", 5, {2: 0.1, 3: 0.4, 4: 0.7, 5: 1.0}),
        ("balanced", 2, {2: 0.55}),
        ("balanced", 3, {2: 0.55, 3: 1.0}),
        ("balanced", 4, {2: 0.55, 3: 1.0, 4: 1.0}),
        ("minimize", 2, {2: 0.01}),
        ("minimize", 3, {2: 0.01, 3: 0.01}),
        ("minimize", 4, {2: 0.01, 3: 0.01, 4: 0.01}),
        ("uncontrolled", 2, {2: 1.0}),
        ("uncontrolled", 3, {2: 1.0, 3: 1.0}),
        ("uncontrolled", 4, {2: 1.0, 3: 1.0, 4: 1.0}),
        ("uncontrolled", 1, {}),
    ],
)
def test_fabrication_modes_give_the_documented_etas(
    mode: str, length: int, expected: dict[int, float]
) -> None:
    settings = DPSettings(epsilon=1.0, reporting_length=length, fabrication_mode=mode)
    etas = settings.adaptive_etas()
    assert etas is not None
    assert etas.keys() == expected.keys()
    for k, eta in expected.items():
        assert etas[k] == pytest.approx(eta, abs=1e-12), k
        assert 0 < etas[k] <= 1


def test_custom_adaptive_etas_default_to_one_for_lengths_not_given() -> None:
    settings = DPSettings(
        epsilon=1.0,
        reporting_length=4,
        fabrication_mode="custom-adaptive",
        thresholds={3: 0.2},
    )
    assert settings.adaptive_etas() == {2: 1.0, 3: 0.2, 4: 1.0}
    assert settings.fixed_thresholds() == {2: 0.0, 3: 0.2, 4: 0.0}


def test_custom_fixed_thresholds_are_used_as_given() -> None:
    settings = DPSettings(
        epsilon=1.0,
        reporting_length=3,
        fabrication_mode="custom-fixed",
        thresholds={2: 10, 3: 20.5},
    )
    assert settings.adaptive_etas() is None
    assert settings.fixed_thresholds() == {2: 10.0, 3: 20.5}


def test_fixed_thresholds_default_to_zero_for_lengths_not_given() -> None:
    settings = DPSettings(
        epsilon=1.0, fabrication_mode="custom-fixed", thresholds={2: 5.0}
    )
    assert settings.fixed_thresholds() == {2: 5.0, 3: 0.0}


def test_custom_fabrication_needs_thresholds() -> None:
    with pytest.raises(ParameterError, match="needs thresholds"):
        DPSettings(epsilon=1.0, fabrication_mode="custom-fixed")


def test_shorthands_are_parsed() -> None:
    assert parse_thresholds("2:0.1, 3:0.55,") == {2: 0.1, 3: 0.55}
    assert parse_thresholds("") == {}
    assert parse_sigma_proportions("1,0.5,0.25") == (1.0, 0.5, 0.25)
    assert parse_sigma_proportions([1, 2]) == (1.0, 2.0)


@pytest.mark.parametrize("text", ["2=0.1", "two:0.1", "2:x", "2"])
def test_bad_threshold_shorthands_name_the_item(text: str) -> None:
    with pytest.raises(ParameterError, match=r"is not LENGTH:VALUE; write for"):
        parse_thresholds(text)


def test_bad_sigma_proportion_shorthand_is_refused() -> None:
    with pytest.raises(ParameterError, match=r"'1,a' are not numbers"):
        parse_sigma_proportions("1,a")
