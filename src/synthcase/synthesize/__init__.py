"""Synthesize: records derived from protected aggregates or k-anonymous groups.

:func:`synthesize_from_aggregates` reads nothing but
:class:`~synthcase.measure.Aggregates`, so its output carries their privacy
guarantee unchanged. The k-anonymity synthesizers read the sensitive table
and guarantee that what they emit describes groups of at least ``k``.
"""

from synthcase.synthesize._kanon_aggregate_seeded import synthesize_k_aggregate_seeded
from synthcase.synthesize._kanon_settings import KAnonymitySettings
from synthcase.synthesize.aggregate_seeded import (
    SynthesisSettings,
    synthesize_from_aggregates,
)
from synthcase.synthesize.row_seeded import synthesize_row_seeded
from synthcase.synthesize.unseeded import synthesize_unseeded
from synthcase.synthesize.value_seeded import synthesize_value_seeded

__all__ = [
    "KAnonymitySettings",
    "SynthesisSettings",
    "synthesize_from_aggregates",
    "synthesize_k_aggregate_seeded",
    "synthesize_row_seeded",
    "synthesize_unseeded",
    "synthesize_value_seeded",
]
