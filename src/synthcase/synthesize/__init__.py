"""Synthesize: records derived from protected aggregates.

:func:`synthesize_from_aggregates` reads nothing but
:class:`~synthcase.measure.Aggregates`, so its output carries their privacy
guarantee unchanged.
"""

from synthcase.synthesize.aggregate_seeded import (
    SynthesisSettings,
    synthesize_from_aggregates,
)

__all__ = ["SynthesisSettings", "synthesize_from_aggregates"]
