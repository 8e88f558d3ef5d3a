"""The steward's evaluation of a run, when this version of synthcase has one.

Parts of synthcase that a given install may lack (the evaluation, the
showcase page) are imported lazily through :func:`optional`, so the app
still runs and says "not available in this version" instead of failing.

An evaluation compares a release with the sensitive records: it is not
protected by the release's guarantee and stays with the steward.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from synthcase.errors import DataError
from synthcase.web.state import LINKED_MODE, Run

__all__ = ["evaluate_run", "evaluation_available", "optional"]

_lock = threading.Lock()


def optional(module: str, name: str) -> Callable[..., Any] | None:
    """``module.name`` when this version of synthcase has it, else ``None``."""
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if callable(found) else None


def evaluation_available() -> bool:
    """Whether this version of synthcase evaluates a release for the steward."""
    return all(
        optional("synthcase.evaluate", name) is not None
        for name in ("evaluate_release", "write_evaluation")
    )


def evaluate_run(run: Run) -> Any | None:
    """The evaluation of a finished run (computed once, then kept).

    Returns ``None`` when this version of synthcase has no evaluation or the
    run has no synthetic records.

    Raises:
        SynthcaseError: When the evaluation cannot be computed, or the run is
            a linked release, which the evaluation does not compare.
    """
    evaluate = optional("synthcase.evaluate", "evaluate_release")
    release = run.release
    if evaluate is None or release is None or release.synthetic is None:
        return None
    if run.mode == LINKED_MODE:
        # Its counts are of people, its records of rows: the evaluation of
        # one-row-per-person releases would compare unlike tables.
        raise DataError(
            f"run {run.number} is a linked release (one person, several rows); "
            "the evaluation compares releases of one row per person only. Run "
            "without a person identifier to evaluate the method"
        )
    with _lock:
        if run.evaluation is None:
            run.evaluation = evaluate(
                run.table,
                release.synthetic,
                release.aggregates,
                reporting_length=run.reporting_length,
                resolution=run.k,
            )
    return run.evaluation
