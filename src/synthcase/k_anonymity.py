"""k-anonymity releases: the "privacy resolution" alternative to DP.

Every combination of up to ``R`` values that the release shows, as a count or
inside a synthetic record, describes at least ``k`` subjects of the
sensitive data (for the row-seeded, value-seeded and aggregate-seeded modes;
the unseeded mode guarantees it for single values). This module assembles
such a release in the same layout as a DP release.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from synthcase._version import __version__
from synthcase.errors import ParameterError
from synthcase.measure.k_anonymity import k_anonymity_statement, k_anonymous_aggregates
from synthcase.pipeline import Release, load_sensitive, read_dict, settings_dict
from synthcase.prepare import EncodedTable, ReadOptions
from synthcase.progress import Progress, no_progress
from synthcase.synthesize._kanon_aggregate_seeded import synthesize_k_aggregate_seeded
from synthcase.synthesize._kanon_settings import KAnonymitySettings
from synthcase.synthesize.row_seeded import synthesize_row_seeded
from synthcase.synthesize.unseeded import synthesize_unseeded
from synthcase.synthesize.value_seeded import synthesize_value_seeded

__all__ = ["K_MODES", "KAnonymitySettings", "release_k_anonymous"]

K_MODES = ("row-seeded", "unseeded", "value-seeded", "aggregate-seeded")
"""The k-anonymity synthesis modes."""


def release_k_anonymous(
    data: str | os.PathLike[str] | pd.DataFrame | EncodedTable,
    mode: str,
    settings: KAnonymitySettings,
    read: ReadOptions | None = None,
    *,
    unit: str = "record",
    progress: Progress = no_progress,
) -> Release:
    """Build a k-anonymous release: rounded aggregates and synthetic records.

    Args:
        data: The sensitive records (path, DataFrame or encoded table).
        mode: One of :data:`K_MODES`.
        settings: Resolution, reporting length and mode options.
        read: How to read the data when it is not encoded yet.
        unit: Name of the unit in the statement.
        progress: Called with the stage and the fraction done.

    Raises:
        ParameterError: For an unknown mode.
    """
    if mode not in K_MODES:
        raise ParameterError(
            f"k-anonymity mode {mode!r} is unknown; choose one of {', '.join(K_MODES)}"
        )
    read = read or ReadOptions()
    table = data if isinstance(data, EncodedTable) else load_sensitive(data, read)
    progress("k-anonymous aggregates", 0.0)
    aggregates = k_anonymous_aggregates(
        table,
        resolution=settings.resolution,
        reporting_length=settings.reporting_length,
    )
    if mode == "row-seeded":
        synthetic = synthesize_row_seeded(table, settings, progress=progress)
    elif mode == "unseeded":
        synthetic = synthesize_unseeded(table, settings, progress=progress)
    elif mode == "value-seeded":
        synthetic = synthesize_value_seeded(
            table, settings, aggregates=aggregates, progress=progress
        )
    else:
        synthetic = synthesize_k_aggregate_seeded(
            table, settings, aggregates=aggregates, progress=progress
        )
    metadata: dict[str, Any] = {
        "tool": {"name": "synthcase", "version": __version__},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": f"k-anonymity-{mode}",
        "columns": list(aggregates.columns),
        "reporting_length": settings.reporting_length,
        "protected_record_count": aggregates.record_count,
        "synthetic_records": len(synthetic),
        "privacy": {
            "definition": "k-anonymity of released combinations (privacy resolution)",
            "resolution": settings.resolution,
            "unit": unit,
        },
        "parameters": {"k_anonymity": settings_dict(settings)},
        "input": read_dict(read),
        "released_combinations": {
            str(k): int(c.size) for k, c in enumerate(aggregates.counts, start=1)
        },
    }
    statement = k_anonymity_statement(
        settings.resolution, settings.reporting_length, mode
    )
    return Release(metadata["mode"], aggregates, synthetic, metadata, statement)
