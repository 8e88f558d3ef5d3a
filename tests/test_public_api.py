"""The public surface: one sorted __all__ per package, every name importable."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys

import pytest

import synthcase

PACKAGES = [
    "synthcase",
    "synthcase.prepare",
    "synthcase.measure",
    "synthcase.synthesize",
    "synthcase.evaluate",
    "synthcase.report",
]


def isort_key(name: str) -> tuple[int, str]:
    """The order ruff keeps __all__ in: CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=isort_key), name
    for attribute in exported:
        assert hasattr(module, attribute), f"{name}.{attribute}"


def test_public_names_of_the_top_package() -> None:
    public = {n for n in dir(synthcase) if not n.startswith("_")}
    modules = {
        "cli", "errors", "evaluate", "k_anonymity", "linked", "measure",
        "pipeline", "prepare", "progress", "report", "synthesize", "web",
    }  # fmt: skip
    assert public - modules - set(synthcase.__all__) == set()


def test_import_has_no_side_effects() -> None:
    code = (
        "import logging, synthcase;"
        "import sys;"
        "assert not logging.getLogger().handlers;"
        "assert not logging.getLogger('synthcase').handlers;"
        "assert 'nicegui' not in sys.modules;"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr
    assert logging.getLogger("synthcase").level == logging.NOTSET
