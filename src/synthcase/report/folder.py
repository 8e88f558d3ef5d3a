"""Writing a release folder safely.

A release is written into a fresh temporary folder beside the target and
moved into place only when every file is complete, so a failed run never
leaves a half-written release, and an existing folder is replaced only when
``force`` is given and it holds nothing but an earlier release.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from synthcase.errors import OutputError

__all__ = [
    "RELEASE_FILES",
    "atomic_write_json",
    "atomic_write_text",
    "check_output_folder",
    "staged_folder",
]

logger = logging.getLogger(__name__)

RELEASE_FILES = (
    "synthetic.csv",
    "aggregates.tsv",
    "link_aggregates.tsv",
    "release.json",
    "PRIVACY.md",
    "showcase.html",
)
"""Files a release folder may hold; the steward's evaluation is kept apart."""

_KNOWN = set(RELEASE_FILES)


def check_output_folder(
    folder: Path, *, force: bool, inputs: Sequence[Path] = ()
) -> None:
    """Refuse an output folder that would lose or expose anything.

    Raises:
        OutputError: When the folder is a file, holds files that are not a
            release, holds a release and ``force`` is not given, or contains
            one of the ``inputs`` (the sensitive data must stay out of it).
    """
    folder = folder.resolve()
    for source in inputs:
        source = source.resolve()
        if folder == source or folder in source.parents:
            raise OutputError(
                f"the output folder {str(folder)!r} contains the input "
                f"{str(source)!r}; the sensitive data must stay out of the "
                "release, so choose another output folder"
            )
    if not folder.exists():
        return
    if not folder.is_dir():
        raise OutputError(
            f"the output path {str(folder)!r} is a file; choose a folder name"
        )
    present = {p.name for p in folder.iterdir()}
    if not present:
        return
    foreign = sorted(present - _KNOWN)
    if foreign:
        raise OutputError(
            f"the output folder {str(folder)!r} holds files that are not part of a "
            f"release ({', '.join(foreign[:5])}); choose an empty or new folder"
        )
    if not force:
        raise OutputError(
            f"the output folder {str(folder)!r} already holds a release; pass "
            "--force to replace it, or choose another folder"
        )


@contextmanager
def staged_folder(folder: Path, *, force: bool) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``folder`` when the block succeeds.

    On error the temporary folder is removed and ``folder`` is left as it was.
    """
    check_output_folder(folder, force=force)
    folder = folder.resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield stage
        _usual_permissions(stage)
        if folder.exists():
            backup = Path(
                tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent)
            )
            os.replace(folder, backup / "release")
            os.replace(stage, folder)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(stage, folder)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    logger.info("release written to %s", folder)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _usual_permissions(folder: Path) -> None:
    """Give the staged files the permissions a plain write would have.

    Temporary files are created private; a release is meant to be shared by
    its owner, so it takes the user's umask like any file they save.
    """
    umask = _umask()
    folder.chmod(0o777 & ~umask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    _atomic(path, lambda handle: handle.write(text))


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _atomic(path: Path, write: Callable[[Any], object]) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            write(handle)
        # mkstemp makes the file private; give it the permissions a plain
        # write would (the user's umask).
        os.chmod(name, 0o666 & ~_umask())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
