"""Measure privately: protected counts of attribute combinations.

The second stage turns an :class:`~synthcase.prepare.EncodedTable` into
:class:`Aggregates`, the only thing later stages may read. The DP mechanism
is :func:`measure_marginals`; its budget is held by one :class:`Accountant`.
"""

from synthcase.measure.aggregates import Aggregates
from synthcase.measure.budget import Accountant, BudgetPlan
from synthcase.measure.combinations import (
    CombinationSpace,
    ValueIndex,
    count_combinations,
)
from synthcase.measure.k_anonymity import (
    K_ANONYMITY_MODES,
    k_anonymity_statement,
    k_anonymous_aggregates,
)
from synthcase.measure.marginals import (
    LengthReport,
    MarginalsRelease,
    measure_marginals,
)
from synthcase.measure.settings import AccuracyMode, DPSettings, FabricationMode

__all__ = [
    "K_ANONYMITY_MODES",
    "Accountant",
    "AccuracyMode",
    "Aggregates",
    "BudgetPlan",
    "CombinationSpace",
    "DPSettings",
    "FabricationMode",
    "LengthReport",
    "MarginalsRelease",
    "ValueIndex",
    "count_combinations",
    "k_anonymity_statement",
    "k_anonymous_aggregates",
    "measure_marginals",
]
