"""The whole release, from a case file to a folder one can share.

:class:`Synthesizer` is the Python entry point: ``fit`` measures the
sensitive data once (spending the privacy budget), after which ``sample``
and ``release`` only post-process the protected aggregates and may be called
as often as wanted::

    synth = Synthesizer(DPSettings(epsilon=4, reporting_length=3))
    synth.fit("cases.csv", ReadOptions(null_tokens=("N",)))
    frame = synth.sample(seed=7)
    synth.release(seed=7).save("release-folder")
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from synthcase._version import __version__
from synthcase.errors import BudgetError, DataError, ParameterError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.marginals import MarginalsRelease, measure_marginals
from synthcase.measure.model import ModelSettings, measure_model
from synthcase.measure.settings import DPSettings
from synthcase.prepare import EncodedTable, ReadOptions, load_table, read_frame
from synthcase.progress import Progress, no_progress
from synthcase.report.folder import atomic_write_json, atomic_write_text, staged_folder
from synthcase.report.showcase import build_showcase
from synthcase.report.statement import dp_statement
from synthcase.synthesize.aggregate_seeded import (
    SynthesisSettings,
    synthesize_from_aggregates,
)
from synthcase.synthesize.model_based import FittedModel, fit_model, sample_model

__all__ = [
    "DEFAULT_MODEL_SHARE",
    "Release",
    "Synthesizer",
    "load_release_aggregates",
    "load_sensitive",
    "release_from_aggregates",
]

logger = logging.getLogger(__name__)

DP_MODE = "dp-aggregate-seeded"
DP_MODEL_MODE = "dp-model"
DEFAULT_MODEL_SHARE = 0.5
"""Share of the budget the default DP mode (command line, web app) spends on
its synthesis model; the published aggregates get the rest."""


@dataclass(frozen=True)
class Release:
    """Everything a release folder holds, in memory.

    All of it is releasable: protected aggregates, synthetic records derived
    from them, the parameters and the accounting.

    Attributes:
        mode: The release mode, for example ``"dp-aggregate-seeded"``.
        aggregates: The protected counts.
        synthetic: The synthetic records (labels, ``pd.NA`` when absent), or
            ``None`` for a release of aggregates only.
        metadata: The content of ``release.json``.
        statement: The content of ``PRIVACY.md``.
    """

    mode: str
    aggregates: Aggregates
    synthetic: pd.DataFrame | None
    metadata: dict[str, Any]
    statement: str

    def aggregates_frame(self) -> pd.DataFrame:
        """The protected counts as a DataFrame.

        Columns: ``selections``, ``protected_count`` and ``length``.
        """
        return self.aggregates.to_frame()

    def save(
        self,
        folder: str | os.PathLike[str],
        *,
        force: bool = False,
        extra: Mapping[str, str] | None = None,
    ) -> Path:
        """Write the release folder atomically.

        Args:
            folder: Where to write; created if missing.
            force: Replace a folder that already holds a release.
            extra: More text files to write, by name. A release with
                synthetic records also gets ``showcase.html`` unless given
                here.

        Returns:
            The folder written.
        """
        target = Path(folder)
        with staged_folder(target, force=force) as stage:
            if self.synthetic is not None:
                write_synthetic_csv(self.synthetic, stage / "synthetic.csv")
            self.aggregates.write_tsv(stage / "aggregates.tsv")
            atomic_write_json(stage / "release.json", self.metadata)
            atomic_write_text(stage / "PRIVACY.md", self.statement)
            for name, text in (extra or {}).items():
                atomic_write_text(stage / name, text)
            if self.synthetic is not None and "showcase.html" not in (extra or {}):
                build_showcase(stage)
        return target.resolve()


def write_synthetic_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write synthetic records as CSV, absent values as empty cells."""
    frame.to_csv(path, index=False, na_rep="", lineterminator="\n")


class Synthesizer:
    """Differentially private aggregates and synthetic records from a case file.

    Args:
        dp: Budget and mechanism settings.
        synthesis: Default synthesis settings for :meth:`sample`.
        unit: Name of the privacy unit in the statement (for example "victim").
    """

    def __init__(
        self,
        dp: DPSettings,
        synthesis: SynthesisSettings | None = None,
        *,
        unit: str = "record",
        model: ModelSettings | None = None,
        forbid_unlisted: bool = False,
    ) -> None:
        if model is not None and dp.model_share == 0:
            raise ParameterError(
                "model settings were given but model_share is 0, so no budget "
                "is set aside for the model; pass --model-share 0.5 (for "
                "example) or leave the model settings out"
            )
        self.dp = dp
        self.synthesis = synthesis or SynthesisSettings()
        self.unit = unit
        self.model_settings = (model or ModelSettings()) if dp.model_share > 0 else None
        self.forbid_unlisted = forbid_unlisted
        self._measured: MarginalsRelease | None = None
        self._model: FittedModel | None = None
        self._structure: list[dict[str, Any]] = []
        self._read: ReadOptions | None = None

    def fit(
        self,
        data: str | os.PathLike[str] | pd.DataFrame | EncodedTable,
        read: ReadOptions | None = None,
        *,
        progress: Progress = no_progress,
    ) -> Synthesizer:
        """Measure the sensitive data once, spending the whole budget.

        Args:
            data: A CSV/TSV path, a DataFrame, or an already encoded table.
            read: How to read and prepare the data.
            progress: Called with the stage and the fraction done.

        Returns:
            ``self``, now holding the protected aggregates.
        """
        if self._measured is not None:
            raise ParameterError(
                "this synthesizer was already fitted: fitting again would spend "
                "the budget a second time; create a new Synthesizer for another "
                "release"
            )
        read = read or ReadOptions()
        table = data if isinstance(data, EncodedTable) else load_sensitive(data, read)
        if self.model_settings is not None and table.subject_ids is not None:
            raise ParameterError(
                "the model mode protects one record per person; this table has "
                "several rows per subject, so use the aggregate-seeded DP mode "
                "(model_share 0) or the linked-records release"
            )
        self._read = read
        measured = measure_marginals(table, self.dp, progress=progress)
        if measured.aggregates.counts[0].size == 0:
            raise BudgetError(
                "no value passed the protection threshold, so there is nothing "
                "to release; raise epsilon, use fewer columns or more records"
            )
        if self.model_settings is not None:
            measurements = measure_model(
                table,
                measured.aggregates,
                measured.accountant,
                rho=measured.accountant.plan.rho_model,
                settings=self.model_settings,
                public_domains=read.public_domains,
                progress=progress,
            )
            # Fail closed: the model's spends must fit the one budget.
            measured.accountant.check()
            self._structure = measurements.structure()
            self._model = fit_model(measurements, progress=progress)
        self._measured = measured
        return self

    @property
    def mode(self) -> str:
        """``"dp-model"`` when a model synthesizes, else ``"dp-aggregate-seeded"``."""
        return DP_MODEL_MODE if self.model_settings is not None else DP_MODE

    @property
    def measured(self) -> MarginalsRelease:
        """The protected aggregates and their accounting."""
        if self._measured is None:
            raise ParameterError(
                "this synthesizer has not been fitted; call fit(data) first"
            )
        return self._measured

    @property
    def aggregates(self) -> Aggregates:
        """The protected counts."""
        return self.measured.aggregates

    def sample(
        self,
        records: int | None = None,
        *,
        seed: int | None = None,
        progress: Progress = no_progress,
    ) -> pd.DataFrame:
        """Synthesize records from the protected aggregates (post-processing)."""
        settings = dataclasses.replace(
            self.synthesis,
            records=records if records is not None else self.synthesis.records,
            seed=seed if seed is not None else self.synthesis.seed,
        )
        if self._model is not None:
            count = (
                settings.records
                if settings.records is not None
                else self.aggregates.record_count
            )
            progress("sampling the model", 0.0)
            frame = sample_model(
                self._model,
                max(0, int(count)),
                seed=settings.seed,
                aggregates=self.aggregates,
                forbid_unlisted=self.forbid_unlisted,
            )
            progress("sampling the model", 1.0)
            return frame
        return synthesize_from_aggregates(self.aggregates, settings, progress=progress)

    def release(
        self,
        records: int | None = None,
        *,
        seed: int | None = None,
        progress: Progress = no_progress,
        synthesize: bool = True,
    ) -> Release:
        """Assemble the releasable bundle, synthesizing records unless told not to."""
        synthetic = (
            self.sample(records, seed=seed, progress=progress) if synthesize else None
        )
        measured = self.measured
        synthesis = dataclasses.replace(
            self.synthesis,
            records=None if synthetic is None else len(synthetic),
            seed=seed if seed is not None else self.synthesis.seed,
        )
        metadata = release_metadata(measured, self._read, synthesis, self.unit)
        metadata["mode"] = self.mode
        if self.model_settings is not None:
            metadata["parameters"]["model"] = {
                **settings_dict(self.model_settings),
                "forbid_unlisted": self.forbid_unlisted,
            }
            metadata["model_structure"] = self._structure
        if synthetic is None:
            metadata["synthetic_records"] = 0
        return Release(
            self.mode,
            measured.aggregates,
            synthetic,
            metadata,
            statement_from_metadata(metadata),
        )


def statement_from_metadata(metadata: Mapping[str, Any]) -> str:
    """``PRIVACY.md`` of a DP release, from its ``release.json`` content."""
    privacy = metadata.get("privacy", {})
    if "resolution" in privacy and "epsilon" not in privacy:
        from synthcase.measure.k_anonymity import k_anonymity_statement

        mode = str(metadata.get("mode", "")).removeprefix("k-anonymity-")
        return k_anonymity_statement(
            int(privacy["resolution"]),
            int(metadata.get("reporting_length", 3)),
            mode or "aggregate-seeded",
        )
    if "epsilon" not in privacy:
        return (
            "# Privacy statement\n\nThese synthetic records were derived from an "
            "aggregates file that did not come with its privacy accounting "
            "(no release.json beside it). Their protection is whatever protected "
            "that file; ask its producer.\n"
        )
    return dp_statement(
        epsilon=privacy["epsilon"],
        delta=privacy["delta"],
        rho=privacy["rho"],
        reporting_length=int(metadata["reporting_length"]),
        unit=str(privacy.get("unit", "record")),
        columns=list(metadata["columns"]),
        record_count=int(metadata["protected_record_count"]),
        synthetic_records=int(metadata.get("synthetic_records") or 0),
        parameters=metadata.get("input", {}),
        # A model measures every column's one-way table, then its cliques'.
        model_tables=(
            len(metadata["columns"])
            + sum(
                len(entry.get("measured", []))
                for entry in metadata.get("model_structure", [])
            )
            if metadata.get("mode") == DP_MODEL_MODE
            else 0
        ),
    )


def release_from_aggregates(
    aggregates: Aggregates,
    metadata: Mapping[str, Any],
    synthesis: SynthesisSettings,
    *,
    progress: Progress = no_progress,
) -> Release:
    """Synthesize from protected aggregates read back from a release.

    Post-processing only: the privacy accounting is carried over unchanged.
    """
    synthetic = synthesize_from_aggregates(aggregates, synthesis, progress=progress)
    meta = dict(metadata)
    meta.setdefault("columns", list(aggregates.columns))
    meta.setdefault("reporting_length", aggregates.reporting_length)
    meta.setdefault("protected_record_count", aggregates.record_count)
    meta.setdefault("mode", DP_MODE)
    meta["synthetic_records"] = len(synthetic)
    parameters = dict(meta.get("parameters", {}))
    parameters["synthesis"] = settings_dict(
        dataclasses.replace(synthesis, records=len(synthetic))
    )
    meta["parameters"] = parameters
    meta["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    meta["tool"] = {"name": "synthcase", "version": __version__}
    return Release(
        str(meta["mode"]), aggregates, synthetic, meta, statement_from_metadata(meta)
    )


def load_sensitive(
    data: str | os.PathLike[str] | pd.DataFrame, read: ReadOptions
) -> EncodedTable:
    """Load the sensitive records, the chosen columns kept in input order.

    The file is read once; the selection is applied to the frame in memory.
    """
    if read.columns is None:
        return load_table(data, read)
    frame = read_frame(data, dataclasses.replace(read, columns=None, subject_id=None))
    chosen = set(read.columns)
    ordered = tuple(c for c in frame.columns if c in chosen)
    if len(ordered) == len(read.columns):
        read = dataclasses.replace(read, columns=ordered)
    return load_table(frame, dataclasses.replace(read, record_limit=None))


def release_metadata(
    measured: MarginalsRelease,
    read: ReadOptions | None,
    synthesis: SynthesisSettings,
    unit: str,
) -> dict[str, Any]:
    """The content of ``release.json`` (releasable figures only)."""
    aggregates = measured.aggregates
    settings = measured.settings
    return {
        "tool": {"name": "synthcase", "version": __version__},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": DP_MODE,
        "columns": list(aggregates.columns),
        "reporting_length": settings.reporting_length,
        "protected_record_count": aggregates.record_count,
        "synthetic_records": synthesis.records,
        "privacy": {**measured.privacy(), "unit": unit},
        "parameters": {
            "dp": settings_dict(settings),
            "synthesis": settings_dict(synthesis),
        },
        "input": read_dict(read),
        "released_combinations": {
            str(k): int(c.size) for k, c in enumerate(aggregates.counts, start=1)
        },
    }


def settings_dict(settings: Any) -> dict[str, Any]:
    """A frozen settings object as plain data for ``release.json``."""
    result: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, Mapping):
            value = {str(k): v for k, v in value.items()}
        elif isinstance(value, tuple):
            value = list(value)
        elif hasattr(value, "value"):
            value = value.value
        result[f.name] = value
    return result


def read_dict(read: ReadOptions | None) -> dict[str, Any]:
    """The declared read choices (public) for ``release.json``."""
    if read is None:
        return {}
    absent_zero = read.absent_zero
    return {
        "null_tokens": list(read.null_tokens),
        "absent_zero": absent_zero
        if isinstance(absent_zero, bool)
        else list(absent_zero),
        "bins": [b.to_text() for b in read.bins],
        "values": {v.column: list(v.values) for v in read.values},
        "max_categories": read.max_categories,
        "record_limit": read.record_limit,
        "subject_id": read.subject_id,
        "out_of_range": read.out_of_range,
        "delimiter": read.delimiter,
        "names": list(read.names) if read.names else None,
    }


def load_release_aggregates(
    path: str | os.PathLike[str],
) -> tuple[Aggregates, dict[str, Any]]:
    """Read ``aggregates.tsv`` (and ``release.json`` beside it, when present)."""
    path = Path(path)
    tsv = path / "aggregates.tsv" if path.is_dir() else path
    meta_path = tsv.parent / "release.json"
    metadata: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DataError(
                f"{str(meta_path)!r} is not valid JSON ({err.msg}, line "
                f"{err.lineno}); restore it from the release or remove it"
            ) from None
    aggregates = Aggregates.read_tsv(
        tsv,
        columns=metadata.get("columns"),
        reporting_length=metadata.get("reporting_length"),
    )
    return aggregates, metadata
