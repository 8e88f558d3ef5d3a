"""The steward's evaluation of a run, when this version of synthcase has one.

Parts of synthcase that a given install may lack (the evaluation, the
showcase page) are imported lazily through :func:`optional`, so the app
still runs and says "not available in this version" instead of failing.

A flat run is compared record by record
(:func:`synthcase.evaluate.evaluate_release`). A linked run (mode
``dp-linked``) is compared at both of its levels
(:func:`synthcase.evaluate.evaluate_linked_release`): the persons, one row
each, and their links, with the person as the unit of every risk figure.
Its sensitive rows are read again from the run's prepared input with the
run's own read options, exactly as :func:`synthcase.linked.run_linked`
read them.

An evaluation compares a release with the sensitive records: it is not
protected by the release's guarantee and stays with the steward.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from synthcase.linked import LinkedRelease
from synthcase.prepare.linked import load_linked
from synthcase.web.state import LINKED_MODE, Run

__all__ = [
    "evaluate_run",
    "evaluation_available",
    "optional",
    "protected_links",
    "write_run_evaluation",
]

_lock = threading.Lock()

_FLAT = ("evaluate_release", "write_evaluation")
_LINKED = ("evaluate_linked_release", "write_linked_evaluation")


def optional(module: str, name: str) -> Callable[..., Any] | None:
    """``module.name`` when this version of synthcase has it, else ``None``."""
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if callable(found) else None


def evaluation_available(*, linked: bool = False) -> bool:
    """Whether this version of synthcase evaluates a release for the steward.

    Args:
        linked: Ask about linked releases (a person with several rows)
            instead of releases of one row per person.
    """
    return all(
        optional("synthcase.evaluate", name) is not None
        for name in (_LINKED if linked else _FLAT)
    )


def evaluate_run(run: Run) -> Any | None:
    """The evaluation of a finished run (computed once, then kept).

    Returns:
        A :class:`synthcase.evaluate.Evaluation`, or for a linked run a
        :class:`synthcase.evaluate.LinkedEvaluation`; ``None`` when this
        version of synthcase has no evaluation of its kind or the run has
        no synthetic records.

    Raises:
        SynthcaseError: When the evaluation cannot be computed.
    """
    linked = run.mode == LINKED_MODE
    evaluate = optional("synthcase.evaluate", (_LINKED if linked else _FLAT)[0])
    release = run.release
    if evaluate is None or release is None or release.synthetic is None:
        return None
    with _lock:
        if run.evaluation is None:
            if linked:
                run.evaluation = _evaluate_linked(run, evaluate)
            else:
                run.evaluation = evaluate(
                    run.table,
                    release.synthetic,
                    release.aggregates,
                    reporting_length=run.reporting_length,
                    resolution=run.k,
                )
    return run.evaluation


def write_run_evaluation(run: Run, folder: Path) -> bool:
    """Write the run's evaluation (report page, JSON, CSV tables) to ``folder``.

    Returns:
        ``False`` when there is nothing to write: this version of synthcase
        has no evaluation of the run's kind, or the run has no synthetic
        records.

    Raises:
        SynthcaseError: When the evaluation cannot be computed or written.
    """
    linked = run.mode == LINKED_MODE
    write = optional("synthcase.evaluate", (_LINKED if linked else _FLAT)[1])
    evaluation = evaluate_run(run)
    if write is None or evaluation is None:
        return False
    write(evaluation, folder)
    return True


def protected_links(
    metadata: Mapping[str, Any], labels: tuple[str, ...]
) -> list[int] | None:
    """The release's protected number of persons per bin of links, in bin order.

    Read from ``release.json``'s accounting (releasable); ``None`` when it
    does not list exactly these bins, so the evaluation leaves the column
    out rather than pairing a count with the wrong bin.
    """
    privacy = metadata.get("privacy") or {}
    histogram = privacy.get("protected_links_per_subject")
    if not isinstance(histogram, Mapping) or set(histogram) != set(labels):
        return None
    return [int(histogram[label]) for label in labels]


def _evaluate_linked(run: Run, evaluate: Callable[..., Any]) -> Any:
    """Compare a linked run's release with its sensitive rows."""
    release = run.release
    # A linked run is made by run_linked only, which returns a LinkedRelease
    # holding its public layout.
    assert isinstance(release, LinkedRelease) and release.schema is not None
    assert run.source is not None and run.linked is not None
    sensitive = load_linked(run.source, run.read, run.linked.multi_value)
    schema = release.schema
    return evaluate(
        sensitive,
        release.synthetic,
        schema,
        release.aggregates,
        # The run's R: the link aggregates were measured up to it, while
        # release.json records the subject aggregates' R, cut to their
        # number of columns.
        reporting_length=run.reporting_length,
        resolution=run.k,
        unit=(release.metadata.get("privacy") or {}).get("unit"),
        protected_links=protected_links(release.metadata, schema.link_bins.labels()),
    )
