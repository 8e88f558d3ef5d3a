"""Fixtures for the measure tests: noise switched off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from synthcase.measure.noise import NoiseSwitch


@pytest.fixture
def noise_off() -> Iterator[None]:
    """Mechanisms return exact values; scales, thresholds and accounting stay."""
    previous = NoiseSwitch.enabled
    NoiseSwitch.enabled = False
    try:
        yield
    finally:
        NoiseSwitch.enabled = previous
