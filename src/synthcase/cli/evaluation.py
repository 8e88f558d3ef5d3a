"""Where the steward's evaluation goes, and how a release is re-read for it.

The evaluation compares a release with the sensitive data, so it is never
written inside the release folder (which is meant for sharing): it goes to
a sibling folder whose name says it is sensitive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from synthcase.errors import DataError, OutputError
from synthcase.evaluate import evaluate_release, write_evaluation
from synthcase.measure.aggregates import Aggregates
from synthcase.prepare import BinSpec, EncodedTable, ReadOptions
from synthcase.progress import Progress, no_progress

__all__ = [
    "EVALUATION_SUFFIX",
    "check_evaluation_folder",
    "default_evaluation_folder",
    "read_options_from_release",
    "run_evaluation",
]

EVALUATION_SUFFIX = ".sensitive_evaluation"
_EVALUATION_FILES = {"report.html", "evaluation.json"}


def default_evaluation_folder(release: Path) -> Path:
    """``out`` -> ``out.sensitive_evaluation`` beside it."""
    release = release.resolve()
    return release.with_name(release.name + EVALUATION_SUFFIX)


def check_evaluation_folder(folder: Path, *, force: bool) -> None:
    """Refuse to overwrite anything but an earlier evaluation (with ``force``)."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise OutputError(f"the evaluation path {str(folder)!r} is a file")
    names = {p.name for p in folder.iterdir()}
    if not names:
        return
    foreign = sorted(
        n for n in names if n not in _EVALUATION_FILES and not n.endswith(".csv")
    )
    if foreign:
        raise OutputError(
            f"the evaluation folder {str(folder)!r} holds other files "
            f"({', '.join(foreign[:5])}); choose another folder"
        )
    if not force:
        raise OutputError(
            f"the evaluation folder {str(folder)!r} already holds an evaluation; "
            "pass --force to replace it or choose another folder"
        )


def run_evaluation(
    sensitive: EncodedTable,
    synthetic: pd.DataFrame,
    aggregates: Aggregates | None,
    *,
    reporting_length: int,
    folder: Path,
    resolution: int = 10,
    progress: Progress = no_progress,
) -> Path:
    """Evaluate a release against the sensitive table and write the report."""
    evaluation = evaluate_release(
        sensitive,
        synthetic,
        aggregates,
        reporting_length=reporting_length,
        resolution=resolution,
        progress=progress,
    )
    folder.mkdir(parents=True, exist_ok=True)
    return write_evaluation(evaluation, folder)


def read_options_from_release(metadata: dict[str, Any]) -> ReadOptions:
    """The read options a release was made with, from its ``release.json``."""
    read = metadata.get("input") or {}
    columns = metadata.get("columns")
    if not columns:
        raise DataError(
            "release.json does not list the release's columns; evaluate a "
            "release folder written by synthcase"
        )
    zero = read.get("absent_zero", False)
    return ReadOptions(
        columns=tuple(columns),
        null_tokens=tuple(read.get("null_tokens") or ()),
        absent_zero=zero if isinstance(zero, bool) else tuple(zero),
        bins=tuple(BinSpec.parse(b) for b in read.get("bins") or ()),
        max_categories=int(read.get("max_categories") or 100),
        record_limit=read.get("record_limit"),
    )


def load_release(folder: Path) -> tuple[pd.DataFrame, Aggregates, dict[str, Any]]:
    """Read a release folder's synthetic records, aggregates and metadata."""
    meta_path = folder / "release.json"
    if not meta_path.is_file():
        raise DataError(
            f"{str(folder)!r} has no release.json; pass a release folder written "
            "by synthcase"
        )
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    synthetic_path = folder / "synthetic.csv"
    if not synthetic_path.is_file():
        raise DataError(
            f"{str(folder)!r} has no synthetic.csv; generate records first "
            "(synthcase generate) or evaluate a full release"
        )
    synthetic = pd.read_csv(
        synthetic_path, dtype=str, keep_default_na=False, na_values=[""]
    ).astype(object)
    synthetic = synthetic.mask(synthetic.isna(), None).fillna(pd.NA)
    aggregates = Aggregates.read_tsv(
        folder / "aggregates.tsv",
        columns=metadata.get("columns"),
        reporting_length=metadata.get("reporting_length"),
    )
    return synthetic, aggregates, metadata
