"""Where the steward's evaluation goes, and how a release is re-read for it.

The evaluation compares a release with the sensitive data, so it is never
written inside the release folder (which is meant for sharing): it goes to
a sibling folder whose name says it is sensitive.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from synthcase.errors import DataError, OutputError
from synthcase.evaluate import evaluate_release, write_evaluation
from synthcase.measure.aggregates import Aggregates
from synthcase.prepare import BinSpec, EncodedTable, ReadOptions, ValueList
from synthcase.progress import Progress, no_progress

__all__ = [
    "EVALUATION_SUFFIX",
    "check_evaluation_folder",
    "default_evaluation_folder",
    "read_options_from_release",
    "run_evaluation",
]

EVALUATION_SUFFIX = ".sensitive_evaluation"
_EVALUATION_FILES = {
    "report.html",
    "evaluation.json",
    "scores.csv",
    "fidelity_by_bucket.csv",
    "fidelity_by_length.csv",
    "leakage_by_length.csv",
    "linkable_columns.csv",
    "linkable_values.csv",
    "sensitive_risk_by_length.csv",
}


def default_evaluation_folder(release: Path) -> Path:
    """``out`` -> ``out.sensitive_evaluation`` beside it."""
    release = release.resolve()
    return release.with_name(release.name + EVALUATION_SUFFIX)


def check_evaluation_folder(
    folder: Path,
    *,
    force: bool,
    release: Path | None = None,
    inputs: list[Path] | None = None,
) -> None:
    """Refuse an evaluation folder that would mix with what is shared or lose data.

    Raises:
        OutputError: When the folder is, contains or lies inside the release
            folder, contains an input, holds files that are not an
            evaluation, or holds an evaluation and ``force`` is not given.
    """
    target = folder.resolve()
    if release is not None:
        shared = release.resolve()
        if target == shared or shared in target.parents or target in shared.parents:
            raise OutputError(
                f"the evaluation folder {str(folder)!r} overlaps the release "
                f"folder {str(release)!r}; the evaluation compares with the "
                "sensitive data and must stay apart from what is shared, so "
                "choose another folder"
            )
    for source in inputs or []:
        source = source.resolve()
        if target == source or target in source.parents:
            raise OutputError(
                f"the evaluation folder {str(folder)!r} contains the input "
                f"{str(source)!r}; choose another folder"
            )
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputError(f"the evaluation path {str(folder)!r} is a file")
    names = {p.name for p in target.iterdir()}
    if not names:
        return
    foreign = sorted(names - _EVALUATION_FILES)
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
    # Write into a staging folder and move it into place, so an interrupted
    # run never leaves half an evaluation.
    target = folder.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_evaluation(evaluation, stage)
        if target.exists():
            shutil.rmtree(target)
        os.replace(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return target / "report.html"


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
        values=tuple(
            ValueList(column, tuple(values))
            for column, values in (read.get("values") or {}).items()
        ),
        max_categories=int(read.get("max_categories") or 100),
        record_limit=read.get("record_limit"),
        out_of_range=read.get("out_of_range") or "error",
        delimiter=read.get("delimiter"),
    )


def load_release(folder: Path) -> tuple[pd.DataFrame, Aggregates, dict[str, Any]]:
    """Read a release folder's synthetic records, aggregates and metadata."""
    meta_path = folder / "release.json"
    if not meta_path.is_file():
        raise DataError(
            f"{str(folder)!r} has no release.json; pass a release folder written "
            "by synthcase"
        )
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(
            f"{str(meta_path)!r} is not valid JSON ({err.msg}, line {err.lineno}); "
            "restore it from the release"
        ) from None
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
