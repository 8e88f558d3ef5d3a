"""The files the export page hands out: releasable, and not for sharing.

:func:`releasable_zip` writes a release with :meth:`Release.save` (which
adds the recipients' showcase page) into the server's private temporary
folder and zips exactly the releasable files named in :data:`RELEASABLE`.
Nothing derived from the sensitive records without protection is among
them: the sensitive table and the evaluation against it are separate
downloads (:func:`sensitive_csv`, :func:`evaluation_zip`), labelled "not for
sharing" on the page.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import zipfile
from pathlib import Path

from synthcase.pipeline import Release
from synthcase.prepare import EncodedTable, to_frame
from synthcase.web.evaluation import optional, write_run_evaluation
from synthcase.web.state import Run

__all__ = [
    "RELEASABLE",
    "evaluation_zip",
    "releasable_zip",
    "sensitive_csv",
    "showcase_available",
]

logger = logging.getLogger(__name__)

RELEASABLE = (
    "synthetic.csv",
    "aggregates.tsv",
    "release.json",
    "PRIVACY.md",
    "showcase.html",
    "link_aggregates.tsv",
)
"""Every file the releasable bundle may hold; anything else stays out.

``link_aggregates.tsv`` is written by linked releases only."""


def showcase_available() -> bool:
    """Whether this version of synthcase builds the showcase page."""
    return optional("synthcase.report.showcase", "build_showcase") is not None


def releasable_zip(release: Release, folder: Path, name: str) -> bytes:
    """Zip the releasable files of ``release``.

    Args:
        release: The release to bundle.
        folder: The server's private temporary folder.
        name: The folder name inside the zip (e.g. ``release-1``).

    Returns:
        The zip file's bytes: ``name/`` holding the files of
        :data:`RELEASABLE` that the release has.

    Raises:
        SynthcaseError: When the release or its showcase cannot be written.
    """
    holder = Path(tempfile.mkdtemp(prefix="bundle-", dir=folder))
    try:
        # Release.save writes the showcase page beside the other files.
        written = release.save(holder / name)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in RELEASABLE:
                path = written / file
                if path.is_file():
                    archive.write(path, f"{name}/{file}")
        return buffer.getvalue()
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def sensitive_csv(table: EncodedTable) -> bytes:
    """The prepared sensitive records as CSV (absent cells empty).

    Not for sharing: these are the steward's own records after binning and
    recoding, without any protection.
    """
    return to_frame(table).to_csv(index=False, na_rep="", lineterminator="\n").encode()


def evaluation_zip(run: Run, folder: Path, name: str) -> bytes | None:
    """The steward's evaluation of a run against the sensitive records, zipped.

    Not for sharing: it compares with the sensitive records. A linked run
    gets the linked evaluation (persons, links per person, distances, risk
    per person). ``None`` when this version of synthcase has no evaluation
    of the run's kind.
    """
    holder = Path(tempfile.mkdtemp(prefix="evaluation-", dir=folder))
    try:
        target = holder / name
        if not write_run_evaluation(run, target):
            return None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(target.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{name}/{path.relative_to(target)}")
        return buffer.getvalue()
    finally:
        shutil.rmtree(holder, ignore_errors=True)
