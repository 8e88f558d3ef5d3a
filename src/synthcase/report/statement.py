"""Plain-language privacy statements for ``PRIVACY.md``.

The statement is written for the people who receive a release and for the
steward who signs it off: what was protected, how strongly, and what the
protection does not cover. It uses only releasable figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["dp_statement"]


def _odds(epsilon: float) -> str:
    if epsilon > 700:  # e^epsilon overflows a float; say it in powers of ten
        return f"10^{epsilon / math.log(10):.0f}"
    factor = math.exp(epsilon)
    return f"{factor:.3g}" if factor < 1000 else f"{factor:.3e}"


def dp_statement(
    *,
    epsilon: float,
    delta: float,
    rho: float,
    reporting_length: int,
    unit: str,
    columns: list[str],
    record_count: int,
    synthetic_records: int,
    parameters: Mapping[str, Any],
    model_tables: int = 0,
) -> str:
    """Markdown statement of a differentially private release.

    Args:
        epsilon: Total epsilon spent.
        delta: Total delta spent.
        rho: Total zCDP rho spent.
        reporting_length: Longest combination length released.
        unit: The privacy unit in words (for example "record" or "victim").
        columns: The attributes released.
        record_count: The protected record count.
        synthetic_records: Number of synthetic records.
        parameters: Declared choices shown as public (bins, null tokens).
        model_tables: Noisy tables measured for a synthesis model, besides
            the aggregates (0 when the records come from the aggregates).
    """
    source = (
        f"those\n  noisy counts and from {model_tables} noisy tables of column "
        "combinations\n  measured, from the same budget, for a statistical "
        "model (their\n  columns are listed in `release.json`)"
        if model_tables
        else "those\n  noisy counts"
    )
    synthetic_text = (
        f"- `synthetic.csv`: {synthetic_records:,} synthetic records built only "
        f"from {source}. They do not describe real people; they reproduce the\n"
        "  patterns the counts show.\n"
        if synthetic_records
        else ""
    )
    counts = "noisy counts and tables" if model_tables else "noisy counts"
    bins = parameters.get("bins") or []
    bin_text = (
        "Numeric columns were grouped into intervals the data steward declared "
        f"({'; '.join(bins)}). "
        if bins
        else ""
    )
    declared = parameters.get("values") or {}
    if declared:
        bin_text += (
            "These columns have a list of possible values the data steward "
            f"declared: {', '.join(declared)}; the lists say which values may "
            "occur, not which ones do. "
        )
    return f"""# Privacy statement

## What this release contains

- `aggregates.tsv`: counts of every combination of up to {reporting_length}
  attribute values (for example "age 18-29 and female") across the columns
  {", ".join(f"`{c}`" for c in columns)}, each with random noise added, and a
  noisy count of the records ({record_count:,}).
{synthetic_text}- `release.json`: every setting and the full privacy accounting.

## The protection

This release is **differentially private** with **epsilon = {epsilon:.3g}** and
**delta = {delta:.2g}**, protecting each **{unit}** as a whole.

In plain words: whatever anyone learns from this release, they would have
been almost as likely to learn it if any one {unit} had never been in the
data. "Almost" is measured by epsilon: the chance of any result changes by at
most a factor of {_odds(epsilon)} when one {unit} is added or removed. Delta is
the small chance ({delta:.2g}) that this bound does not hold, for example that
a value held by very few {unit}s is released at all.

How it works: noise drawn by the OpenDP library was added to every count;
each {unit} could influence only a bounded number of counts; values and
combinations whose noisy counts were small were left out. The synthetic
records were built afterwards from the {counts} alone, without looking at
the sensitive data again, so they carry the same protection. The accounting
is kept in zero-concentrated differential privacy (rho = {rho:.4g}) and
converted to (epsilon, delta) with OpenDP's conversion.

## What this does not protect

- **Group facts.** Differential privacy protects individuals, not groups. If
  nearly everyone in a group shares an attribute, the release shows it, and
  anyone known to belong to that group can be inferred to have it.
- **Public choices.** The column names, the intervals used to group numeric
  values, any declared lists of possible values and the list of absent-value
  markers were chosen by the data
  steward and are not protected. {bin_text}
- **Small numbers are unreliable.** Noise makes small counts inaccurate and
  some combinations that do not occur in the data may appear
  ("fabricated"), while some that do occur may be missing ("suppressed").
  Do not read a single small count as a fact.
- **Longer patterns.** Only combinations of up to {reporting_length} values
  were measured. Synthetic records combine more values than that; those
  longer combinations are guesses built from shorter ones, not measured
  facts. They are still covered by the privacy guarantee.
- **Repeated releases.** Each new release of the same data spends more
  privacy. Two releases at epsilon {epsilon:.3g} together give at most epsilon
  {2 * epsilon:.3g}.
"""
