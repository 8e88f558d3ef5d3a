"""Where the steward's evaluation goes, and how a release is re-read for it.

The evaluation compares a release with the sensitive data, so it is never
written inside the release folder (which is meant for sharing): it goes to
a sibling folder whose name says it is sensitive. A linked release (one row
per link, ``mode`` ``dp-linked`` in ``release.json``) gets the linked
evaluation; its layout and read options are rebuilt from ``release.json``,
so ``synthcase evaluate`` compares exactly what ``synthcase run`` did.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from synthcase.errors import DataError, OutputError, ParameterError
from synthcase.evaluate import (
    evaluate_linked_release,
    evaluate_release,
    write_evaluation,
    write_linked_evaluation,
)
from synthcase.measure.aggregates import Aggregates
from synthcase.prepare import BinSpec, EncodedTable, ReadOptions, ValueList
from synthcase.prepare.linked import (
    LinkBins,
    LinkedSchema,
    LinkedTable,
    MultiValue,
    links_column_name,
    load_linked,
    presence_name,
)
from synthcase.progress import Progress, no_progress

__all__ = [
    "EVALUATION_SUFFIX",
    "LINKED_MODE",
    "check_evaluation_folder",
    "default_evaluation_folder",
    "is_linked_release",
    "link_bins_from_labels",
    "linked_schema_from_release",
    "load_linked_sensitive",
    "read_options_from_release",
    "run_evaluation",
    "run_linked_evaluation",
]

EVALUATION_SUFFIX = ".sensitive_evaluation"
LINKED_MODE = "dp-linked"
"""``mode`` of a linked release in its ``release.json``."""

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
    "links_per_subject.csv",
    "link_distances.csv",
    "link_distances_by_kind.csv",
    "link_risk_by_length.csv",
    "link_leakage_by_length.csv",
    "link_linkable_columns.csv",
    "link_linkable_values.csv",
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
    return _write_staged(folder, lambda stage: write_evaluation(evaluation, stage))


def run_linked_evaluation(
    sensitive: LinkedTable,
    synthetic: pd.DataFrame,
    aggregates: Aggregates | None,
    metadata: Mapping[str, Any],
    *,
    folder: Path,
    resolution: int = 10,
    progress: Progress = no_progress,
) -> Path:
    """Evaluate a linked release against its sensitive rows and write the report.

    Args:
        sensitive: The sensitive rows, read as the release read them
            (:func:`load_linked_sensitive`).
        synthetic: The synthetic links (``synthetic.csv``).
        aggregates: The subject aggregates (``aggregates.tsv``).
        metadata: The release's ``release.json``: its layout, unit,
            reporting length and protected links per subject.
        folder: The evaluation folder; replaced as a whole.
        resolution: Combinations held by fewer subjects than this are rare.
        progress: Called with the stage and the fraction done.

    Returns:
        The path of ``report.html``.
    """
    schema = linked_schema_from_release(metadata)
    privacy = metadata.get("privacy") or {}
    histogram = privacy.get("protected_links_per_subject")
    protected = (
        [int(histogram[label]) for label in schema.link_bins.labels()]
        if isinstance(histogram, dict)
        and set(histogram) == set(schema.link_bins.labels())
        else None
    )
    # The person aggregates' R is cut to their number of columns; the links
    # were measured at the R the user asked for, which the link risk uses.
    asked = ((metadata.get("parameters") or {}).get("dp") or {}).get("reporting_length")
    evaluation = evaluate_linked_release(
        sensitive,
        synthetic,
        schema,
        aggregates,
        reporting_length=int(asked or metadata.get("reporting_length") or 3),
        resolution=resolution,
        unit=privacy.get("unit"),
        protected_links=protected,
        progress=progress,
    )
    return _write_staged(
        folder, lambda stage: write_linked_evaluation(evaluation, stage)
    )


def _write_staged(folder: Path, write: Callable[[Path], Path]) -> Path:
    """Write an evaluation into a staging folder, then move it into place.

    An interrupted run never leaves half an evaluation, and an earlier one
    is replaced only once the new one is whole.
    """
    target = folder.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(stage)
        if target.exists():
            shutil.rmtree(target)
        os.replace(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return target / "report.html"


def is_linked_release(metadata: Mapping[str, Any]) -> bool:
    """Whether ``release.json`` describes a linked release."""
    return metadata.get("mode") == LINKED_MODE


def read_options_from_release(metadata: Mapping[str, Any]) -> ReadOptions:
    """The read options a release was made with, from its ``release.json``.

    A linked release reads its input columns with its subject id column.
    """
    linked = is_linked_release(metadata)
    columns = metadata.get("input_columns" if linked else "columns")
    if not columns:
        raise DataError(
            "release.json does not list the release's columns; evaluate a "
            "release folder written by synthcase"
        )
    subject_id = metadata.get("subject_id") if linked else None
    if linked and subject_id not in columns:
        raise DataError(
            f"release.json names the subject id column {subject_id!r}, which is "
            "not among its input columns; evaluate a release folder written by "
            "synthcase"
        )
    read = metadata.get("input") or {}
    zero = read.get("absent_zero", False)
    names = read.get("names")
    return ReadOptions(
        columns=tuple(c for c in columns if c != subject_id),
        subject_id=subject_id,
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
        names=tuple(names) if names else None,
    )


def link_bins_from_labels(labels: list[str]) -> LinkBins:
    """The bins of links per subject from their labels in ``release.json``.

    The labels name every edge but the last, which only caps the number of
    links synthesized in the open last bin; an edge one above the last
    bin's start puts every number in the same bin as the release did.

    >>> link_bins_from_labels(["1", "2", "3-5", "6+"]).labels()
    ('1', '2', '3-5', '6+')
    """
    starts = []
    for label in labels:
        found = re.fullmatch(r"(\d+)(?:-\d+|\+)?", str(label))
        if found is None:
            raise DataError(
                f"release.json lists the link bins {labels}, and {label!r} is not "
                "a bin label written by synthcase (such as 1, 3-5 or 41+); "
                "evaluate a release folder written by synthcase"
            )
        starts.append(int(found.group(1)))
    return LinkBins((*starts, starts[-1] + 1))


def _link_bins(privacy: Mapping[str, Any]) -> LinkBins:
    """The declared bins of links, with their recorded edges when present.

    The edges (``link_bin_edges``) also give the most links synthesized in
    the open last bin; a release.json that only lists the labels gets the
    bins of :func:`link_bins_from_labels`.
    """
    labels = list(privacy["link_bins"])
    edges = privacy.get("link_bin_edges")
    if edges is None:
        return link_bins_from_labels(labels)
    try:
        bins = LinkBins(tuple(edges))
    except (ParameterError, TypeError):
        bins = None
    if bins is None or list(bins.labels()) != labels:
        raise DataError(
            f"release.json lists the link bin edges {edges}, which do not give "
            f"its link bins {labels}; restore release.json from the release "
            "folder synthcase wrote"
        )
    return bins


def linked_schema_from_release(metadata: Mapping[str, Any]) -> LinkedSchema:
    """The public layout of a linked release, from its ``release.json``."""
    try:
        input_columns = tuple(metadata["input_columns"])
        privacy = metadata["privacy"]
        multi_value = list(metadata.get("multi_value") or [])
        schema = LinkedSchema(
            subject_id=str(metadata["subject_id"]),
            input_columns=input_columns,
            subject_columns=tuple(metadata["subject_columns"]),
            link_columns=tuple(metadata["link_columns"]),
            delimiters=tuple((m["column"], m["delimiter"]) for m in multi_value),
            presence=tuple(
                (presence_name(m["column"], value), m["column"], value)
                for m in multi_value
                for value in m.get("released_values") or ()
            ),
            link_bins=_link_bins(privacy),
            links_column=links_column_name(input_columns),
        )
    except (KeyError, TypeError) as error:
        raise DataError(
            f"release.json of a linked release lacks {error}; evaluate a release "
            "folder written by synthcase"
        ) from None
    return schema


def load_linked_sensitive(
    source: str | os.PathLike[str], metadata: Mapping[str, Any]
) -> LinkedTable:
    """Read a linked sensitive file as the release described by ``metadata`` did."""
    read = read_options_from_release(metadata)
    multi_value = tuple(
        MultiValue(column=m["column"], delimiter=m["delimiter"])
        for m in metadata.get("multi_value") or ()
    )
    return load_linked(source, read, multi_value)


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
