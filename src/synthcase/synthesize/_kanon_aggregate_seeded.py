"""Aggregate-seeded k-anonymous synthesis: records from k-anonymous aggregates.

The k-anonymous aggregates (:func:`~synthcase.measure.k_anonymity.
k_anonymous_aggregates`) are computed and the aggregate-seeded synthesizer
(:func:`~synthcase.synthesize.aggregate_seeded.synthesize_from_aggregates`)
builds records from them alone, exactly as it does from DP aggregates.

Guarantee (checked by the tests): every combination of up to ``R`` values in
a synthetic record is a released combination, so it is held by at least
``k`` sensitive records. Longer combinations carry no guarantee: they may be
rare in the sensitive data or not occur there at all. The synthesizer reads
nothing but the aggregates.
"""

from __future__ import annotations

import pandas as pd

from synthcase.measure.aggregates import Aggregates
from synthcase.measure.k_anonymity import k_anonymous_aggregates
from synthcase.prepare.table import EncodedTable
from synthcase.progress import Progress, no_progress
from synthcase.synthesize._kanon_settings import KAnonymitySettings
from synthcase.synthesize.aggregate_seeded import (
    SynthesisSettings,
    synthesize_from_aggregates,
)

__all__ = ["synthesize_k_aggregate_seeded"]


def synthesize_k_aggregate_seeded(
    table: EncodedTable,
    settings: KAnonymitySettings | None = None,
    *,
    aggregates: Aggregates | None = None,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Synthesize records from the k-anonymous aggregates of ``table``.

    Args:
        table: The sensitive records, one row per person.
        settings: Resolution, reporting length, seed, ``weight_percentile``
            and ``use_synthetic_counts``; oversampling must be left unset.
        aggregates: The result of :func:`k_anonymous_aggregates` for this
            table and these settings, when the caller already has it (saves
            counting twice); computed when ``None``.
        progress: Called with the stage and the fraction done.

    Returns:
        The synthetic records: one column per table column, in order, labels
        as ``object``, ``pd.NA`` where absent; rows shuffled; as many as the
        k-rounded record count. Every combination of up to ``R`` values in a
        record is held by at least ``k`` sensitive records.

    Raises:
        ParameterError: When a setting is out of range or does not apply, or
            ``aggregates`` do not match the table and settings.
    """
    settings = settings or KAnonymitySettings()
    settings.check(table, "aggregate-seeded")
    if aggregates is None:
        progress("counting combinations", 0.0)
        aggregates = k_anonymous_aggregates(
            table,
            resolution=settings.resolution,
            reporting_length=settings.reporting_length,
        )
    else:
        settings.check_aggregates(table, aggregates)
    return synthesize_from_aggregates(
        aggregates,
        SynthesisSettings(
            weight_percentile=settings.weight_percentile,
            use_synthetic_counts=settings.use_synthetic_counts,
            seed=settings.seed,
        ),
        progress=progress,
    )
