"""Settings of the k-anonymity synthesizers: every constraint and message."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synthcase.errors import ParameterError
from synthcase.prepare import EncodedTable
from synthcase.synthesize._kanon_settings import KAnonymitySettings


def small_table(subjects: bool = False) -> EncodedTable:
    codes = np.zeros((20, 3), dtype=np.int32)
    return EncodedTable(
        ("A", "B", "C"),
        (("a",), ("b",), ("c",)),
        codes,
        subject_ids=np.arange(20) // 2 if subjects else None,
    )


def test_defaults() -> None:
    settings = KAnonymitySettings()
    assert (settings.resolution, settings.reporting_length) == (10, 3)
    assert settings.seed is None
    assert settings.oversampling_ratio is None and settings.tries == 10
    assert settings.use_synthetic_counts is False
    assert settings.weight_percentile == 95.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.resolution = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        KAnonymitySettings(5)  # type: ignore[misc]


def test_tries_follow_the_ratio() -> None:
    assert KAnonymitySettings(oversampling_ratio=0.1).tries == 10
    given = KAnonymitySettings(oversampling_ratio=0.1, oversampling_tries=3)
    assert given.tries == 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"resolution": 1}, r"resolution is 1; .*>= 2.*--resolution 10"),
        ({"resolution": 2.0}, r"resolution is 2\.0; it must be a whole number"),
        ({"resolution": True}, r"resolution is True"),
        ({"reporting_length": 0}, r"reporting_length is 0; .*--reporting-length 3"),
        ({"seed": -1}, r"seed is -1; it must be a whole number >= 0"),
        ({"seed": 1.5}, r"seed is 1\.5"),
        ({"oversampling_ratio": -0.1}, r"oversampling_ratio is -0\.1; .* >= 0"),
        ({"oversampling_ratio": float("inf")}, r"oversampling_ratio is inf"),
        ({"oversampling_ratio": float("nan")}, r"oversampling_ratio is nan"),
        ({"oversampling_tries": 3}, r"no oversampling_ratio is given"),
        (
            {"oversampling_ratio": 0.1, "oversampling_tries": 0},
            r"oversampling_tries is 0; it must be a whole number >= 1",
        ),
        ({"use_synthetic_counts": "yes"}, r"use_synthetic_counts is 'yes'"),
        ({"weight_percentile": 101}, r"weight_percentile is 101; .* 0\.\.100"),
        ({"weight_percentile": float("nan")}, r"weight_percentile is nan"),
    ],
)
def test_invalid_settings(values: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        KAnonymitySettings(**values)  # type: ignore[arg-type]


def test_boundaries_are_accepted() -> None:
    KAnonymitySettings(resolution=2, reporting_length=1, seed=0)
    KAnonymitySettings(oversampling_ratio=0.0, oversampling_tries=1)
    KAnonymitySettings(weight_percentile=0.0)
    KAnonymitySettings(weight_percentile=100.0)


@pytest.mark.parametrize(
    ("settings", "mode", "message"),
    [
        (
            KAnonymitySettings(oversampling_ratio=0.1),
            "row-seeded",
            r"oversampling_ratio applies to the value-seeded mode only, not "
            r"row-seeded",
        ),
        (
            KAnonymitySettings(oversampling_ratio=0.1),
            "aggregate-seeded",
            r"value-seeded mode only",
        ),
        (
            KAnonymitySettings(use_synthetic_counts=True),
            "unseeded",
            r"use_synthetic_counts applies to the aggregate-seeded mode only",
        ),
        (
            KAnonymitySettings(reporting_length=4),
            "row-seeded",
            r"reporting_length is 4; .* in 1\.\.3",
        ),
    ],
)
def test_options_of_other_modes_are_refused(
    settings: KAnonymitySettings, mode: str, message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        settings.check(small_table(), mode)


def test_each_mode_accepts_its_own_options() -> None:
    table = small_table()
    KAnonymitySettings(oversampling_ratio=0.1).check(table, "value-seeded")
    KAnonymitySettings(use_synthetic_counts=True).check(table, "aggregate-seeded")


def test_several_rows_per_subject_are_refused() -> None:
    with pytest.raises(ParameterError, match="counts rows, so a group of k rows"):
        KAnonymitySettings().check(small_table(subjects=True), "row-seeded")
