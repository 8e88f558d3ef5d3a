"""k-anonymous aggregates: exact counts, released only for groups of k or more.

The *privacy resolution* ``k`` is the smallest group a release may describe.
A combination of up to ``R`` values (the reporting length) is released only
when at least ``k`` records hold it, and its count is rounded down to a
multiple of ``k``, so a released count says "between 10 and 19 records"
rather than "13". The record count is rounded the same way. Values held by
fewer than ``k`` records are left out of the value lists altogether, so the
release says nothing about them, not even that they exist. This is the
k-anonymity protection of Microsoft's Synthetic Data Showcase.

Guarantee: every released combination of ``1..R`` values is held by at
least ``k`` records of the sensitive data, and every released count ``c``
satisfies ``c <= true count < c + k``. This is a deterministic rule, not
differential privacy: see :func:`k_anonymity_statement` for what it does and
does not protect against.
"""

from __future__ import annotations

import logging
import textwrap

import numpy as np

from synthcase.errors import ParameterError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.combinations import (
    CombinationSpace,
    IntArray,
    ValueIndex,
    count_combinations,
)
from synthcase.prepare.table import EncodedTable

__all__ = [
    "K_ANONYMITY_MODES",
    "check_k_anonymity_input",
    "k_anonymity_statement",
    "k_anonymous_aggregates",
    "k_anonymous_counts",
]

logger = logging.getLogger(__name__)

K_ANONYMITY_MODES = ("row-seeded", "value-seeded", "aggregate-seeded", "unseeded")
"""The k-anonymity synthesis modes, as named on the command line."""


def check_k_anonymity_input(
    table: EncodedTable, *, resolution: int, reporting_length: int
) -> None:
    """Refuse settings or tables a k-anonymity release cannot protect.

    Raises:
        ParameterError: When ``resolution`` is not a whole number >= 2,
            ``reporting_length`` is outside ``1..columns``, or the table has
            several rows per subject (k would count rows, not people).
    """
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise ParameterError(
            f"resolution is {resolution!r}; it must be a whole number >= 2, for "
            "example --resolution 10"
        )
    if resolution < 2:
        raise ParameterError(
            f"resolution is {resolution}; it must be >= 2 (a group of 1 is a "
            "single person), for example --resolution 10"
        )
    if (
        isinstance(reporting_length, bool)
        or not isinstance(reporting_length, int | np.integer)
        or not 1 <= reporting_length <= table.n_columns
    ):
        raise ParameterError(
            f"reporting_length is {reporting_length!r}; it must be a whole number "
            f"in 1..{table.n_columns} (the number of columns used), for example "
            "--reporting-length 3"
        )
    if table.subject_ids is not None:
        raise ParameterError(
            "the table names a subject for each row (several rows may belong to "
            "one person), but k-anonymity counts rows, so a group of k rows could "
            "be fewer than k people; give one row per subject or use a "
            "differentially private mode, which bounds each subject's rows"
        )


def k_anonymous_counts(
    table: EncodedTable, *, resolution: int, reporting_length: int
) -> tuple[tuple[IntArray, IntArray], ...]:
    """Counts of every combination of ``1..R`` values, k-rounded, in table numbering.

    The same numbers as :func:`k_anonymous_aggregates`, but keyed by the
    table's own value numbering (:class:`ValueIndex` of its cardinalities and
    :class:`CombinationSpace` keys), for synthesizers that compare against
    them without translating value ids.

    Args:
        table: The sensitive records, one row per person.
        resolution: The privacy resolution ``k >= 2``.
        reporting_length: The longest combination counted, ``R``.

    Returns:
        For each length ``1..R``, ``(keys, counts)``: the sorted keys of the
        combinations held by at least ``k`` records and their counts rounded
        down to a multiple of ``k``.

    Raises:
        ParameterError: See :func:`check_k_anonymity_input`.
    """
    check_k_anonymity_input(
        table, resolution=resolution, reporting_length=reporting_length
    )
    index = ValueIndex.from_cardinalities(table.cardinalities)
    released = []
    for length in range(1, reporting_length + 1):
        keys, counts = count_combinations(table, CombinationSpace.build(index, length))
        # Rounding down never reports more records than hold a combination,
        # and a count below k rounds to 0, which is dropped.
        rounded = counts // resolution * resolution
        kept = rounded > 0
        released.append((keys[kept], rounded[kept]))
    return tuple(released)


def k_anonymous_aggregates(
    table: EncodedTable, *, resolution: int, reporting_length: int
) -> Aggregates:
    """Release the k-anonymous counts of every combination of ``1..R`` values.

    Args:
        table: The sensitive records, one row per person.
        resolution: The privacy resolution ``k >= 2``.
        reporting_length: The longest combination released, ``R``.

    Returns:
        Aggregates holding only combinations with at least ``k`` records,
        counts rounded down to multiples of ``k``, the record count rounded
        down the same way, and only the values that reach ``k`` (numbered
        afresh; nothing about the other labels is kept).

    Raises:
        ParameterError: See :func:`check_k_anonymity_input`.

    Example:
        >>> import numpy as np
        >>> from synthcase.prepare.table import EncodedTable
        >>> codes = np.array([[0, 0]] * 12 + [[1, 0]] * 3, dtype=np.int32)
        >>> t = EncodedTable(("A", "B"), (("a1", "a2"), ("b1",)), codes)
        >>> agg = k_anonymous_aggregates(t, resolution=5, reporting_length=2)
        >>> agg.categories, agg.record_count
        ((('a1',), ('b1',)), 15)
        >>> agg.to_frame()["protected_count"].tolist()
        [10, 15, 10]
    """
    released = k_anonymous_counts(
        table, resolution=resolution, reporting_length=reporting_length
    )
    # The record count is rounded like every other count: the rounded value
    # is never above the truth and hides where in its band of k the truth is.
    record_count = table.n_records // resolution * resolution
    aggregates = _reindex(table, released, record_count)
    logger.info(
        "k-anonymous aggregates: resolution %d, reporting length %d, counts "
        "rounded down to multiples of %d, released per length: %s",
        resolution,
        reporting_length,
        resolution,
        ", ".join(str(len(c)) for c in aggregates.counts),
    )
    return aggregates


def _reindex(
    table: EncodedTable,
    released: tuple[tuple[IntArray, IntArray], ...],
    record_count: int,
) -> Aggregates:
    """Number the released values afresh and drop every other label."""
    index = ValueIndex.from_cardinalities(table.cardinalities)
    singles = released[0][0]  # length-1 keys are value ids
    new_id = np.full(index.n_values, -1, dtype=np.int64)
    new_id[singles] = np.arange(singles.size)
    value_column = index.value_column
    categories = []
    for j in range(table.n_columns):
        codes = singles[value_column[singles] == j] - index.offsets[j]
        categories.append(tuple(table.categories[j][int(c)] for c in codes))
    new_index = ValueIndex.from_cardinalities([len(c) for c in categories])
    combos: list[IntArray] = []
    counts: list[IntArray] = []
    for length, (keys, cnt) in enumerate(released, start=1):
        ids = new_id[CombinationSpace.build(index, length).ids_from_keys(keys)]
        if ids.shape[0]:
            # Every value of a released combination is itself released (it is
            # held by at least as many records), so no id is -1 here.
            new_keys = CombinationSpace.build(new_index, length).keys_from_ids(ids)
            order = np.argsort(new_keys, kind="stable")
            ids, cnt = ids[order], cnt[order]
        combos.append(ids.reshape(-1, length))
        counts.append(cnt)
    return Aggregates(
        table.columns, tuple(categories), tuple(combos), tuple(counts), record_count
    )


_MODE_GUARANTEE = {
    "row-seeded": (
        "Each synthetic record was grown from one real record, keeping a value "
        "only while the whole record so far was shared by at least {k} people in "
        "the sensitive data. So **every synthetic record, and every combination "
        "of values inside it, however long, describes a group of at least {k} "
        "people**. Extra records were then added and surplus values removed so "
        "that each single value appears exactly as often as its count in the "
        "aggregates (rounded down to a multiple of {k})."
    ),
    "value-seeded": (
        "They were built from the rounded counts of single values, "
        "adding a value only while the whole record so far was shared by at "
        "least {k} people in the sensitive data. So **every synthetic record, and "
        "every combination of values inside it, however long, describes a group "
        "of at least {k} people**. Each single value appears exactly as often as "
        "its count in the aggregates (rounded down to a multiple of {k})."
    ),
    "unseeded": (
        "They were drawn column by column from the sensitive "
        "records that match the record so far; a value shared by fewer than {k} "
        "of those records was left empty instead. So **every synthetic record, "
        "and every combination of values inside it, however long, describes a "
        "group of at least {k} people**. Unlike the other modes, how often each "
        "value appears is not rounded: it follows the sensitive data closely, "
        "with random variation."
    ),
    "aggregate-seeded": (
        "They were built from the aggregates alone, never from the "
        "sensitive records. **Every combination of up to {r} values in a "
        "synthetic record is a combination listed in the aggregates**, so it "
        "describes a group of at least {k} people. Combinations of more than {r} "
        "values inside a synthetic record carry no such promise: they may be "
        "rare in the sensitive data, or not occur there at all."
    ),
}


def k_anonymity_statement(resolution: int, reporting_length: int, mode: str) -> str:
    """Plain-language statement of what a k-anonymous release protects.

    Args:
        resolution: The privacy resolution ``k``.
        reporting_length: The longest combination released, ``R``.
        mode: The synthesis mode, one of :data:`K_ANONYMITY_MODES`.

    Returns:
        Markdown text for the release's ``PRIVACY.md``.

    Raises:
        ParameterError: When ``mode`` is unknown or ``resolution`` or
            ``reporting_length`` is out of range.
    """
    if mode not in _MODE_GUARANTEE:
        raise ParameterError(
            f"k-anonymity mode {mode!r} is unknown; choose one of "
            f"{', '.join(K_ANONYMITY_MODES)}"
        )
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, int)
        or resolution < 2
    ):
        raise ParameterError(
            f"resolution is {resolution!r}; it must be a whole number >= 2, for "
            "example --resolution 10"
        )
    if (
        isinstance(reporting_length, bool)
        or not isinstance(reporting_length, int)
        or reporting_length < 1
    ):
        raise ParameterError(
            f"reporting_length is {reporting_length!r}; it must be a whole number "
            ">= 1, for example --reporting-length 3"
        )
    k, r = resolution, reporting_length
    longer = (
        f"inside a synthetic record: combinations of more than {r} values there "
        "may be rare or invented (see above)"
        if mode == "aggregate-seeded"
        else f"in the aggregates file, which lists combinations of at most {r} "
        "values only"
    )
    synthetic = _bullet(
        f"**Synthetic records** (`synthetic.csv`), made in the *{mode}* mode. "
        "Synthetic records are not real people. "
        + _MODE_GUARANTEE[mode].format(k=k, r=r)
    )
    scope = (
        f"no released number, and no combination of up to {r} values in a "
        "synthetic record,"
        if mode == "aggregate-seeded"
        else "no released number and no synthetic record"
    )
    protects = textwrap.fill(
        "**Membership of small groups.** Someone who knows some of a person's "
        "values cannot use this release to learn whether that person, or any "
        f"group of fewer than {k} people sharing some values, is in the "
        f"sensitive data: {scope} describes a group that small. For larger "
        'groups the protection is "safety in numbers": the larger k, the harder '
        "it is to single anyone out.",
        width=79,
        break_on_hyphens=False,
    )
    intro = textwrap.fill(
        "This release protects the people in the sensitive data with "
        f"**k-anonymity at a privacy resolution of k = {k}**: {scope} describes "
        f"a group of fewer than {k} people.",
        width=79,
        break_on_hyphens=False,
    )
    not_covered = _bullet(
        "**Combinations not covered.** The guarantee covers what is described "
        f"above; it does not cover combinations {longer}."
    )
    return f"""# Privacy statement

{intro}

## What was released

- **Aggregates** (`aggregates.tsv`): the number of people holding each
  combination of 1 to {r} values (a *combination* is a set of values from
  different columns, such as "age 30-45 and female"). A combination is listed
  only if at least {k} people hold it, and every number, including the total
  number of records, is rounded **down** to a multiple of {k}: a listed {2 * k}
  means "{2 * k} to {3 * k - 1} people". Values held by fewer than {k} people
  are left out entirely.
{synthetic}

## What this protects against

{protects}

## What this does not protect against

- **Facts shared by a whole group.** If everyone in a group of {k} or more
  shares a value (for example, all listed people of one age and town have the
  same status), then anyone who knows a person belongs to that group learns
  that value. k-anonymity hides *who* is in a group, not what the group has in
  common.
{not_covered}
- **No mathematical limit on what can be learned.** This is not differential
  privacy: there is no bound on how much the release can change because of one
  person. Counts are exact up to the rounding, and the number of synthetic
  records follows the number of sensitive records closely.
- **Several releases.** Two releases made from overlapping data (for example,
  before and after some records were added) can be compared, and their
  differences may describe groups smaller than {k}. Make one release per data
  set.
- **Outside knowledge.** Someone who already knows a lot about the people
  involved, or combines this release with other data, may learn more than
  this release shows on its own.

Use this release for a one-off sharing of data where exact counts matter. For
repeated releases, or when a formal guarantee is needed, use the differentially
private mode instead.
"""


def _bullet(text: str) -> str:
    """A markdown list item wrapped to 79 columns."""
    return textwrap.fill(
        text,
        width=79,
        initial_indent="- ",
        subsequent_indent="  ",
        break_on_hyphens=False,
    )
