"""SDNist-style k-marginal scores on integer-coded tables.

Both tables are ``(records, columns)`` integer arrays over the same codes
(absent is a code of its own). A marginal's distance is the total variation
distance between the two normalised contingency tables; a score is
``1000 * (1 - mean distance)``, 1000 meaning identical marginals.

The CRC feature sets follow NIST's Collaborative Research Cycle: when PUMA is
in the set every marginal is PUMA crossed with a pair of the other columns,
otherwise every pair. Columns are compared on the declared bins used to
prepare the data (not SDNist's 20 percentile bins), so every tool is scored
on exactly the categories it was given.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

IntTable = npt.NDArray[np.int64]

FEATURE_SETS = {
    "demographic": "AGEP SEX MSP RAC1P HOUSING_TYPE OWN_RENT EDU PINCP_DECILE DVET",
    "family": "PUMA AGEP SEX MSP HISP RAC1P NOC NPF OWN_RENT PINCP_DECILE POVPIP",
    "industry": "PUMA SEX MSP HISP RAC1P OWN_RENT INDP_CAT EDU PINCP_DECILE",
}


def marginal_distance(
    real: IntTable, synth: IntTable, columns: Sequence[int], sizes: Sequence[int]
) -> float:
    """Total variation distance of one marginal."""
    shape = tuple(sizes[c] for c in columns)
    real_key = np.ravel_multi_index(tuple(real[:, c] for c in columns), shape)
    synth_key = np.ravel_multi_index(tuple(synth[:, c] for c in columns), shape)
    cells = int(np.prod(shape))
    p = np.bincount(real_key, minlength=cells) / max(real.shape[0], 1)
    q = np.bincount(synth_key, minlength=cells) / max(synth.shape[0], 1)
    return float(0.5 * np.abs(p - q).sum())


def score(
    real: IntTable,
    synth: IntTable,
    marginals: Sequence[Sequence[int]],
    sizes: Sequence[int],
) -> float:
    """``1000 * (1 - mean TVD)`` over the given marginals."""
    distances = [marginal_distance(real, synth, m, sizes) for m in marginals]
    return 1000.0 * (1.0 - float(np.mean(distances)))


def feature_set_marginals(
    columns: Sequence[str], feature_set: Sequence[str]
) -> list[tuple[int, ...]]:
    """The marginals SDNist scores on one feature set (PUMA x pairs, or pairs)."""
    index = [columns.index(c) for c in feature_set]
    if "PUMA" in feature_set:
        puma = columns.index("PUMA")
        rest = [i for i in index if i != puma]
        return [(puma, a, b) for a, b in itertools.combinations(rest, 2)]
    return list(itertools.combinations(index, 2))


def all_marginals(n_columns: int, length: int) -> list[tuple[int, ...]]:
    """Every marginal of ``length`` columns."""
    return list(itertools.combinations(range(n_columns), length))


def scores(
    real: IntTable, synth: IntTable, columns: Sequence[str], sizes: Sequence[int]
) -> dict[str, float]:
    """The CRC feature-set scores plus the 2-way and 3-way scores on all columns."""
    result = {
        name: score(real, synth, feature_set_marginals(columns, fs.split()), sizes)
        for name, fs in FEATURE_SETS.items()
    }
    result["all-2way"] = score(real, synth, all_marginals(len(columns), 2), sizes)
    result["all-3way"] = score(real, synth, all_marginals(len(columns), 3), sizes)
    return result
