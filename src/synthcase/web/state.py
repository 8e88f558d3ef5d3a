"""What the web app holds while it runs: the case file, the choices, the runs.

There is one :class:`Workspace` per server, shared by every browser tab: the
app serves one data steward on their own machine. It lives in memory only;
stopping the server forgets it, and the private temporary folder that held
uploads and downloads is removed.

A :class:`Run`, differentially private or k-anonymous, executes in a
background thread, one at a time, so the pages stay responsive; its progress
callback both reports progress and, when the steward presses Cancel, raises
to stop the library mid-way.

When the steward names a person identifier, a DP run is a linked release
(:func:`synthcase.linked.run_linked`): the person, with all of their rows,
is the privacy unit, and the synthetic records keep the input's layout.
Multi-value columns are only read that way.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from synthcase.errors import DataError, ParameterError, SynthcaseError
from synthcase.k_anonymity import KAnonymitySettings, release_k_anonymous
from synthcase.linked import LinkedSettings, run_linked
from synthcase.measure import DPSettings
from synthcase.pipeline import Release, Synthesizer
from synthcase.prepare import EncodedTable, ReadOptions, load_table
from synthcase.prepare.linked import MultiValue
from synthcase.synthesize import SynthesisSettings
from synthcase.synthesize.linked import LinkedSynthesisSettings
from synthcase.web.methods import guarantee_text, k_mode, method_label
from synthcase.web.preparation import ColumnProfile, Preparation, profile_columns
from synthcase.web.risk import LiveRisk
from synthcase.web.uploads import read_upload

__all__ = ["LINKED_MODE", "Run", "RunCancelled", "Selection", "Workspace"]

logger = logging.getLogger(__name__)

LINKED_MODE = "dp-linked"
"""The release mode of a DP run with a person identifier."""


class RunCancelled(Exception):
    """The steward cancelled a run."""


@dataclass
class Selection:
    """Columns and lengths chosen on the select page.

    Attributes:
        columns: Columns to release, in input order.
        reporting_length: Longest combination counted, ``R``.
        k: Combinations held by fewer records count as rare.
        multi_value: Selected columns whose cells hold several values.
        delimiter: Text between two values of a multi-value cell.
    """

    columns: list[str] = field(default_factory=list)
    reporting_length: int = 3
    k: int = 10
    multi_value: list[str] = field(default_factory=list)
    delimiter: str = ";"

    def multi_values(self) -> tuple[MultiValue, ...]:
        """The library's declaration of the selected multi-value columns.

        Raises:
            ParameterError: When the delimiter is empty or blank.
        """
        return tuple(
            MultiValue(column=c, delimiter=self.delimiter)
            for c in self.columns
            if c in self.multi_value
        )


@dataclass
class Run:
    """One synthesis the steward started, with its outcome.

    A run is either differentially private (``dp`` and ``synthesis`` set) or
    k-anonymous (``k_settings`` set); ``mode`` says which.

    Attributes:
        number: Run number, from 1.
        mode: Release mode, e.g. ``"dp-model"`` or
            ``"k-anonymity-row-seeded"``.
        read: The read settings of the prepared table.
        columns: The released columns.
        status: ``queued``, ``running``, ``done``, ``failed`` or ``cancelled``.
        stage: The library's current stage label.
        fraction: Fraction of the current stage done.
        table: The sensitive records the run measured (kept in memory for
            the steward's evaluation; never part of a release).
        k: Rare threshold chosen on the select page, for the evaluation
            (and the resolution of a k-anonymous run).
        dp: The DP settings of a DP run.
        synthesis: The synthesis settings of a DP run.
        forbid_unlisted: Whether the DP model may only sample combinations
            the aggregates list.
        k_settings: The settings of a k-anonymous run.
        source: The prepared input frame of a linked run (mode
            ``dp-linked``), read again by the library with ``read``.
        linked: The linked settings of a linked run.
        release: The release, once done.
        evaluation: The steward's evaluation, once computed.
        error: The message shown when the run failed.
    """

    number: int
    mode: str
    read: ReadOptions
    columns: tuple[str, ...]
    table: EncodedTable
    k: int = 10
    dp: DPSettings | None = None
    synthesis: SynthesisSettings | None = None
    forbid_unlisted: bool = False
    k_settings: KAnonymitySettings | None = None
    source: pd.DataFrame | None = None
    linked: LinkedSettings | None = None
    status: str = "queued"
    stage: str = ""
    fraction: float = 0.0
    release: Release | None = None
    evaluation: Any = None
    error: str | None = None
    started: float | None = None
    finished: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def duration(self) -> float | None:
        """Seconds the run took (so far), ``None`` before it starts."""
        if self.started is None:
            return None
        return (self.finished or time.monotonic()) - self.started

    @property
    def active(self) -> bool:
        """Whether the run is queued or running."""
        return self.status in ("queued", "running")

    @property
    def reporting_length(self) -> int:
        """The longest combination ``R`` the run publishes."""
        if self.k_settings is not None:
            return self.k_settings.reporting_length
        assert self.dp is not None
        return self.dp.reporting_length

    @property
    def seed(self) -> int | None:
        """The seed of the synthesis (post-processing only), if given."""
        if self.k_settings is not None:
            return self.k_settings.seed
        assert self.synthesis is not None
        return self.synthesis.seed

    @property
    def method(self) -> str:
        """The run's method, in a few words."""
        return method_label(self.mode, short=True)

    @property
    def guarantee(self) -> str:
        """The run's privacy guarantee, from its release once there is one."""
        if self.release is not None:
            return guarantee_text(self.release.metadata.get("privacy", {}))
        if self.k_settings is not None:
            return guarantee_text({"resolution": self.k_settings.resolution})
        assert self.dp is not None
        return guarantee_text({"epsilon": self.dp.epsilon, "delta": self.dp.delta})

    def summary(self) -> dict[str, Any]:
        """The run's main parameters, for lists and comparisons."""
        common = {"reporting length": self.reporting_length}
        common["columns"] = len(self.columns)
        if self.k_settings is not None:
            extra: dict[str, Any] = {}
            if self.k_settings.oversampling_ratio is not None:
                extra["oversampling ratio"] = self.k_settings.oversampling_ratio
                extra["oversampling tries"] = self.k_settings.tries
            return {**common, **extra, "seed": self.seed}
        assert self.dp is not None
        model: dict[str, Any] = {}
        if self.linked is not None:
            # A linked release fits no DP model; name the person instead.
            model["person identifier"] = self.read.subject_id
            model["multi-value columns"] = len(self.linked.multi_value)
        elif self.dp.model_share > 0:
            model["model share"] = self.dp.model_share
            model["only listed combinations"] = "yes" if self.forbid_unlisted else "no"
        return {
            **common,
            **model,
            "accuracy mode": self.dp.accuracy_mode.value,
            "fabrication mode": self.dp.fabrication_mode.value,
            "seed": self.seed,
        }


class Workspace:
    """The steward's case file, choices and runs.

    Args:
        folder: The server's private temporary folder (mode 0700).
        max_upload_bytes: Largest upload accepted.
    """

    def __init__(self, folder: Path, max_upload_bytes: int) -> None:
        self.folder = folder
        self.max_upload_bytes = max_upload_bytes
        self.source_name: str | None = None
        self.raw: pd.DataFrame | None = None
        self.preparation = Preparation()
        self.profiles: list[ColumnProfile] = []
        self.table: EncodedTable | None = None
        self.read: ReadOptions | None = None
        self.table_error: str | None = None
        self.selection = Selection()
        self.runs: list[Run] = []
        self.risk = LiveRisk()
        self._numbers = itertools.count(1)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run")

    # ---- the case file ----------------------------------------------------

    def load(self, name: str, data: bytes) -> None:
        """Read an uploaded file and start its preparation afresh.

        Columns with more distinct values than the category limit start out
        dropped: they need bins (or stay out) before a release can use them.

        Raises:
            DataError: When the file cannot be read; the workspace keeps the
                previous file.
        """
        raw = read_upload(name, data, self.folder, self.max_upload_bytes)
        preparation = Preparation()
        profiles = profile_columns(raw, preparation)
        preparation.dropped = {
            p.name for p in profiles if p.distinct > preparation.max_categories
        }
        self.raw, self.source_name = raw, name
        self.preparation = preparation
        self.profiles = profiles
        self.selection = Selection()
        self.prepare(profile=False)
        if self.table is not None:
            self.selection.columns = list(self.table.columns)

    def prepare(self, *, profile: bool = True) -> None:
        """Encode the file under the current choices (library errors kept).

        Args:
            profile: Recompute the column preview too; only absent-cell rules
                and recodes change it, so other choices may skip it.
        """
        self.table, self.read, self.table_error = None, None, None
        if self.raw is None:
            return
        try:
            if profile:
                self.profiles = profile_columns(self.raw, self.preparation)
            columns = self.preparation.kept(self.raw)
            if not columns:
                raise DataError(
                    "every column is dropped; keep at least one column to release"
                )
            read = self.preparation.read_options(columns)
            self.table = load_table(self.preparation.recoded(self.raw), read)
            self.read = read
        except SynthcaseError as error:
            self.table_error = str(error)
            return
        kept = set(self.table.columns)
        chosen = [c for c in self.selection.columns if c in kept]
        self.selection.columns = chosen or list(self.table.columns)
        self.selection.multi_value = [
            c for c in self.selection.multi_value if c in kept
        ]

    def selected_table(self) -> EncodedTable | None:
        """The prepared table restricted to the selected columns."""
        if self.table is None or not self.selection.columns:
            return None
        return self.table.select(self.selection.columns)

    # ---- runs -------------------------------------------------------------

    def start_run(
        self,
        dp: DPSettings,
        synthesis: SynthesisSettings,
        *,
        forbid_unlisted: bool = False,
    ) -> Run:
        """Queue a DP synthesis of the selected columns.

        The run fits a DP model when ``dp.model_share > 0`` (mode
        ``dp-model``), else it synthesizes from the published counts only
        (mode ``dp-aggregate-seeded``); see :class:`synthcase.Synthesizer`.
        With a person identifier it is a linked release (mode ``dp-linked``,
        :func:`synthcase.linked.run_linked`): the DP model settings do not
        apply and the person is the privacy unit.

        Raises:
            DataError: When no prepared table or no column is selected.
            ParameterError: When multi-value columns are marked without a
                person identifier, or their delimiter is blank.
        """
        table = self._chosen_table()
        multi_value = self.selection.multi_values()
        if self.preparation.subject_id is not None:
            assert self.raw is not None
            run = Run(
                number=next(self._numbers),
                mode=LINKED_MODE,
                read=self.preparation.read_options(list(table.columns)),
                columns=tuple(table.columns),
                table=table,
                k=self.selection.k,
                dp=dp,
                synthesis=synthesis,
                source=self.preparation.recoded(self.raw),
                linked=LinkedSettings(multi_value=multi_value),
            )
            return self._queue(run)
        if multi_value:
            raise ParameterError(
                f"multi-value columns {[m.column for m in multi_value]} are read "
                "with a person identifier only; choose the column naming the "
                "person on the Select page, or unmark the multi-value columns"
            )
        run = Run(
            number=next(self._numbers),
            mode=Synthesizer(dp, synthesis).mode,
            read=self.preparation.read_options(list(table.columns)),
            columns=tuple(table.columns),
            table=table,
            k=self.selection.k,
            dp=dp,
            synthesis=synthesis,
            forbid_unlisted=forbid_unlisted,
        )
        return self._queue(run)

    def start_k_run(self, mode: str, settings: KAnonymitySettings) -> Run:
        """Queue a k-anonymous synthesis of the selected columns.

        Args:
            mode: A k-anonymity mode, e.g. ``"row-seeded"`` (see
                :data:`synthcase.K_MODES`).
            settings: Resolution ``k``, reporting length and mode options.

        Raises:
            DataError: When no prepared table or no column is selected.
            ParameterError: When the library refuses the mode, the settings
                or the table (for example a table with several rows per
                subject); nothing is queued.
        """
        table = self._chosen_table()
        # The library's own check, before queueing, so the steward sees a
        # refusal at once instead of as a failed run.
        settings.check(table, mode)
        run = Run(
            number=next(self._numbers),
            mode=f"k-anonymity-{mode}",
            read=self.preparation.read_options(list(table.columns)),
            columns=tuple(table.columns),
            table=table,
            k=settings.resolution,
            k_settings=settings,
        )
        return self._queue(run)

    def _chosen_table(self) -> EncodedTable:
        table = self.selected_table()
        if table is None or self.read is None:
            raise DataError(
                "there is nothing to synthesize yet; upload a case file, prepare "
                "it and select at least one column"
            )
        return table

    def _queue(self, run: Run) -> Run:
        self.runs.append(run)
        future: Future[None] = self._executor.submit(_execute, run)
        future.add_done_callback(_log_failure)
        return run

    def run(self, number: int) -> Run | None:
        """The run with this number, if any."""
        return next((r for r in self.runs if r.number == number), None)

    def finished_runs(self) -> list[Run]:
        """Runs that produced a release, oldest first."""
        return [r for r in self.runs if r.release is not None]

    def close(self) -> None:
        """Cancel every run and stop the worker threads."""
        for run in self.runs:
            run.cancel.set()
        self.risk.close()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _execute(run: Run) -> None:
    """Run the library on a worker thread, recording the outcome on ``run``."""
    if run.cancel.is_set():
        run.status = "cancelled"
        return
    run.status, run.started = "running", time.monotonic()

    def progress(stage: str, fraction: float) -> None:
        if run.cancel.is_set():
            raise RunCancelled
        run.stage, run.fraction = stage, fraction

    try:
        run.release = _release(run, progress)
        run.status = "done"
    except RunCancelled:
        run.status = "cancelled"
    except SynthcaseError as error:
        run.status, run.error = "failed", str(error)
    except Exception as error:
        # Fail closed: nothing is released. Only the error type is logged, as
        # a message may quote values of the sensitive data.
        logger.error("run %d failed with %s", run.number, type(error).__name__)
        run.status = "failed"
        run.error = (
            f"the run stopped on an unexpected {type(error).__name__}; nothing "
            "was released. Try other settings, or report the problem"
        )
    finally:
        run.finished = time.monotonic()


def _release(run: Run, progress: Callable[[str, float], None]) -> Release:
    """The library's release for ``run``: DP or k-anonymous."""
    mode = k_mode(run.mode)
    if mode is not None:
        assert run.k_settings is not None
        return release_k_anonymous(
            run.table, mode, run.k_settings, run.read, progress=progress
        )
    assert run.dp is not None and run.synthesis is not None
    if run.linked is not None:
        assert run.source is not None
        return run_linked(
            run.source,
            run.read,
            run.dp,
            run.linked,
            LinkedSynthesisSettings(seed=run.synthesis.seed),
            progress=progress,
        )
    synthesizer = Synthesizer(
        run.dp, run.synthesis, forbid_unlisted=run.forbid_unlisted
    )
    synthesizer.fit(run.table, run.read, progress=progress)
    return synthesizer.release(seed=run.synthesis.seed, progress=progress)


def _log_failure(future: Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("a run worker failed: %s", type(future.exception()).__name__)
