"""synthcase: share sensitive case records safely.

From a file of sensitive records, synthcase releases differentially private
counts of attribute combinations, synthetic records derived from those counts
alone, a privacy accounting with a plain-language statement, an evaluation
for the data steward and a showcase recipients can open anywhere.

Typical use::

    import synthcase as sc

    synth = sc.Synthesizer(sc.DPSettings(epsilon=4, reporting_length=3))
    synth.fit("cases.csv", sc.ReadOptions(null_tokens=("N",)))
    release = synth.release(seed=1)
    release.save("release-folder")

Importing the package has no side effects.
"""

from synthcase._version import __version__
from synthcase.errors import (
    BudgetError,
    DataError,
    OutputError,
    ParameterError,
    SynthcaseError,
)
from synthcase.k_anonymity import K_MODES, release_k_anonymous
from synthcase.measure import (
    AccuracyMode,
    Aggregates,
    DPSettings,
    FabricationMode,
    measure_marginals,
)
from synthcase.pipeline import Release, Synthesizer, release_from_aggregates
from synthcase.prepare import (
    BinSpec,
    EncodedTable,
    ReadOptions,
    ValueList,
    load_table,
    read_frame,
    to_frame,
)
from synthcase.synthesize import (
    KAnonymitySettings,
    SynthesisSettings,
    synthesize_from_aggregates,
)

__all__ = [
    "K_MODES",
    "AccuracyMode",
    "Aggregates",
    "BinSpec",
    "BudgetError",
    "DPSettings",
    "DataError",
    "EncodedTable",
    "FabricationMode",
    "KAnonymitySettings",
    "OutputError",
    "ParameterError",
    "ReadOptions",
    "Release",
    "SynthcaseError",
    "SynthesisSettings",
    "Synthesizer",
    "ValueList",
    "__version__",
    "load_table",
    "measure_marginals",
    "read_frame",
    "release_from_aggregates",
    "release_k_anonymous",
    "synthesize_from_aggregates",
    "to_frame",
]
