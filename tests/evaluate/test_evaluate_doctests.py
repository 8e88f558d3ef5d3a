"""The examples in the evaluate modules' docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "charts",
    "cells",
    "counting",
    "distances",
    "fidelity",
    "kmarginal",
    "links",
    "percentiles",
    "records",
    "shared",
    "summary",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"synthcase.evaluate.{name}")
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0
    assert failed == 0
