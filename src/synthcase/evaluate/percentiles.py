"""Percentile bins of a continuous column, as NIST's SDNist makes them.

For the k-marginal score, a continuous column is cut at percentiles of the
*target* (sensitive) records, and the synthetic numbers are put in the
target's bins. The bins are thus derived from the sensitive records; they
serve only to score, and neither they nor the scores leave the steward.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.errors import DataError

__all__ = ["PERCENTILE_BINS", "percentile_bins"]

PERCENTILE_BINS = 20
"""Percentile bins of a continuous column, as in SDNist."""


def percentile_bins(
    target: pd.Series, synthetic: pd.Series, name: str = "column"
) -> tuple[pd.Series, pd.Series]:
    """Bin raw numbers at percentile bins of the target, as SDNist does.

    A target number of percentile rank ``x`` (average rank of ties over the
    present cells) falls in bin ``min(floor(20 x), 19)``. A synthetic number
    falls in the first bin whose largest target number is at least as
    large, or in the last bin when it exceeds them all. Absent cells stay
    absent. Bins are labelled ``p00`` to ``p19``.

    Raises:
        DataError: When a present cell is not a number.

    >>> t, s = percentile_bins(pd.Series([1, 2, 3, 4, None]), pd.Series([0, 9]))
    >>> t.tolist(), s.tolist()
    (['p05', 'p10', 'p15', 'p19', <NA>], ['p05', 'p19'])
    """
    t_num = _numbers(target, name, "target")
    s_num = _numbers(synthetic, name, "synthetic")
    t_bins = pd.Series(pd.NA, index=target.index, dtype="string")
    s_bins = pd.Series(pd.NA, index=synthetic.index, dtype="string")
    present = ~np.isnan(t_num)
    if not present.any():
        return t_bins, s_bins
    rank = pd.Series(t_num[present]).rank(pct=True, method="average").to_numpy()
    last = PERCENTILE_BINS - 1
    bins = np.minimum(np.floor(PERCENTILE_BINS * rank), last).astype(np.int64)
    t_bins[present] = [f"p{b:02d}" for b in bins]

    occupied = np.unique(bins)
    tops = np.array([t_num[present][bins == b].max() for b in occupied])
    s_present = ~np.isnan(s_num)
    place = np.searchsorted(tops[:-1], s_num[s_present], side="left")
    s_bins[s_present] = [f"p{b:02d}" for b in occupied[place]]
    return t_bins, s_bins


def _numbers(column: pd.Series, name: str, which: str) -> npt.NDArray[np.float64]:
    text = column.astype(object).where(column.notna(), "")
    text = text.astype(str).str.strip()
    numbers = pd.to_numeric(text.where(text != "", None), errors="coerce")
    values = np.asarray(numbers, dtype=np.float64)
    bad = np.isnan(values) & (text != "").to_numpy()
    if bad.any():
        raise DataError(
            f"numeric column {name!r} of the {which} records holds "
            f"{text[bad].iloc[0]!r}, which is not a number; leave the column out "
            "of numeric_columns or blank such cells"
        )
    return values
