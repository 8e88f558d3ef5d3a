"""Shared helpers of the benchmark scripts: data, counts, errors, processes.

The benchmarks compare tools on the NIST Diverse Communities Data Excerpts
(``/work/shared/data/nist-dce``). Every tool gets the same *prepared* input:
the 24 columns, the null token ``N`` turned into an empty (absent) cell, and
the numeric columns binned with the public edges declared in
``synthcase/data/ma2019.toml``. Prepared frames hold text labels only, with
``""`` for an absent cell.

Errors are measured on one shared encoding: every column of the sensitive and
the synthetic frame gets a single category list (the union of both frames'
labels), so a label means the same code in both and combination keys can be
compared directly.

This module imports synthcase, so only the ``/work/venv`` interpreter loads
it; a peer tool's worker process must not import it.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

import synthcase
from synthcase.measure.combinations import (
    CombinationSpace,
    ValueIndex,
    count_combinations,
)
from synthcase.prepare import BinSpec, EncodedTable, ReadOptions, load_table, to_frame

IntArray = npt.NDArray[np.int64]

NIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "nist-dce"
DECLARED_SETTINGS = Path(synthcase.__file__).resolve().parent / "data" / "ma2019.toml"
RESULTS_DIR = Path(__file__).resolve().parent / "results"


# --- prepared input -------------------------------------------------------------


def nist_path(name: str) -> Path:
    """Path of a NIST excerpt by name, e.g. ``"ma2019"``."""
    path = NIST_DIR / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no NIST excerpt {name!r} at {path}")
    return path


def declared_read_options() -> ReadOptions:
    """The null token and declared bins of ``ma2019.toml`` (public, not data)."""
    settings = tomllib.loads(DECLARED_SETTINGS.read_text(encoding="utf-8"))["read"]
    return ReadOptions(
        null_tokens=tuple(settings["null_tokens"]),
        bins=tuple(BinSpec.parse(text) for text in settings["bins"]),
    )


def prepare_nist(name: str) -> pd.DataFrame:
    """The prepared frame of a NIST excerpt: labels, ``""`` when absent.

    Every column is kept; binned columns hold interval labels such as
    ``[18,22)``; the other columns (``DENSITY`` included) keep their texts as
    categories.
    """
    table = load_table(nist_path(name), declared_read_options())
    return to_frame(table).fillna("").astype(object)


def write_prepared(frame: pd.DataFrame, path: Path) -> None:
    """Write a prepared or synthetic frame as CSV, absent cells empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, na_rep="", lineterminator="\n")


def read_prepared(path: Path) -> pd.DataFrame:
    """Read a frame written by :func:`write_prepared`: text cells, ``""`` absent."""
    return pd.read_csv(path, dtype=str, keep_default_na=False).astype(object)


def full_record_share(frame: pd.DataFrame) -> float:
    """Share of records with every column filled (no absent cell)."""
    if len(frame) == 0:
        return math.nan
    filled = frame.fillna("").astype(str).ne("")
    return float(filled.all(axis=1).mean())


# --- shared encoding and exact counts ------------------------------------------


def shared_encoding(
    frames: Sequence[pd.DataFrame],
    extra_labels: Mapping[str, Iterable[str]] | None = None,
) -> tuple[EncodedTable, ...]:
    """Encode frames with the same columns on one category list per column.

    Args:
        frames: Frames of text labels, ``""`` (or missing) when absent; all
            must have the same columns in the same order.
        extra_labels: More labels per column to include in the lists (for
            example the values of released aggregates).

    Returns:
        One table per frame, all with identical ``categories``.
    """
    columns = list(frames[0].columns)
    for frame in frames[1:]:
        if list(frame.columns) != columns:
            raise ValueError(
                f"frames disagree on columns: {columns} vs {list(frame.columns)}"
            )
    extra = extra_labels or {}
    texts = [frame.fillna("").astype(str) for frame in frames]
    categories: list[tuple[str, ...]] = []
    for name in columns:
        labels: set[str] = set(extra.get(name, ()))
        for text in texts:
            labels.update(text[name].unique())
        labels.discard("")
        categories.append(tuple(sorted(labels)))
    tables = []
    for text in texts:
        codes = np.empty((len(text), len(columns)), dtype=np.int32)
        for j, name in enumerate(columns):
            # Labels outside the list (only "") get code -1, synthcase's ABSENT.
            codes[:, j] = pd.Categorical(text[name], categories=categories[j]).codes
        tables.append(EncodedTable(tuple(columns), tuple(categories), codes))
    return tuple(tables)


def combination_spaces(table: EncodedTable, lengths: int) -> list[CombinationSpace]:
    """Key layouts of lengths ``1..lengths`` over a table's category lists."""
    index = ValueIndex.from_cardinalities(table.cardinalities)
    return [CombinationSpace.build(index, k) for k in range(1, lengths + 1)]


def exact_counts(
    table: EncodedTable, spaces: Sequence[CombinationSpace]
) -> list[tuple[IntArray, IntArray]]:
    """Exact ``(keys, counts)`` of every length of ``spaces``."""
    return [count_combinations(table, space) for space in spaces]


def combination_keys(
    table: EncodedTable,
    space: CombinationSpace,
    combinations: Sequence[Sequence[tuple[str, str]]],
) -> IntArray:
    """Keys of ``[(column, label), ...]`` combinations of ``space.length`` values.

    Labels must be in the table's category lists (see ``extra_labels`` of
    :func:`shared_encoding`).
    """
    if not combinations:
        return np.zeros(0, dtype=np.int64)
    position = {name: j for j, name in enumerate(table.columns)}
    code_of = [{label: i for i, label in enumerate(c)} for c in table.categories]
    offsets = space.index.offsets
    ids = np.array(
        [
            [offsets[position[c]] + code_of[position[c]][v] for c, v in combination]
            for combination in combinations
        ],
        dtype=np.int64,
    )
    return space.keys_from_ids(np.sort(ids, axis=1))


@dataclass(frozen=True)
class CountError:
    """Error of one set of counts against the true counts, for one length.

    Attributes:
        mae: Mean of ``|other - true|`` over the union of combinations present
            in either, a combination missing on one side counting 0 there.
        combinations: Size of that union.
    """

    mae: float
    combinations: int


def count_error(
    true: tuple[IntArray, IntArray], other: tuple[IntArray, IntArray]
) -> CountError:
    """Compare two ``(sorted keys, counts)`` pairs over the union of their keys."""
    union = np.union1d(true[0], other[0])
    if union.size == 0:
        return CountError(0.0, 0)
    return CountError(
        float(np.abs(_on(union, *other) - _on(union, *true)).mean()), int(union.size)
    )


def _on(union: IntArray, keys: IntArray, counts: IntArray) -> npt.NDArray[np.float64]:
    """Counts placed on ``union`` (a superset of ``keys``), 0 elsewhere."""
    result = np.zeros(union.size, dtype=np.float64)
    result[np.searchsorted(union, keys)] = counts
    return result


def sorted_counts(keys: IntArray, counts: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """``(keys, counts)`` sorted by key, duplicate keys added up."""
    unique, inverse = np.unique(keys, return_inverse=True)
    totals = np.bincount(inverse, weights=np.asarray(counts, dtype=np.float64))
    return unique, totals.astype(np.int64)


# --- measured subprocesses ------------------------------------------------------


@dataclass(frozen=True)
class ProcessUsage:
    """What one finished child process used.

    Attributes:
        returncode: Exit code (negative: killed by that signal).
        wall_s: Wall time from start to exit, interpreter start included.
        cpu_s: User plus system CPU time of the process.
        load_before: One-minute load average of the machine at start.
        load_after: One-minute load average at exit.
    """

    returncode: int
    wall_s: float
    cpu_s: float
    load_before: float
    load_after: float


def run_measured(
    command: Sequence[str], log_path: Path, timeout_s: float | None = None
) -> ProcessUsage:
    """Run ``command`` to completion and report its own wall and CPU time.

    The child is reaped with ``os.wait4``, which returns the resource usage of
    that child alone (``RUSAGE_CHILDREN`` would mix in every earlier child).
    Its stdout and stderr go to ``log_path``.

    Peak memory is not taken from here: Linux carries the parent's
    ``ru_maxrss`` across ``exec`` into the child, so a child started by a large
    parent reports at least the parent's peak. Measure it inside the child
    (``VmHWM`` in ``/proc/self/status``) instead.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = None if timeout_s is None else start + timeout_s
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                process.kill()
            time.sleep(0.05)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return ProcessUsage(
        returncode=process.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )


# --- reporting ------------------------------------------------------------------


def mean_sd(values: Sequence[float], digits: int = 1) -> str:
    """``"mean ± sd"`` (sample standard deviation); the mean alone for one value."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if data.size == 0:
        return "n/a"
    if data.size == 1:
        return f"{data[0]:.{digits}f}"
    return f"{data.mean():.{digits}f} ± {data.std(ddof=1):.{digits}f}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(" --- " for _ in header) + "|")
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)
