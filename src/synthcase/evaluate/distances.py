"""Total variation distance of each marginal, grouped by what it joins.

A linked release is judged on marginals of a few columns at a time: a
subject column alone, a pair of subject columns, a link column alone, a
subject column with a link column, two link columns. For each marginal
:func:`marginal_distances` gives the total variation distance between the
sensitive and the synthetic distributions over its cells,
``0.5 * sum |p - q|`` (0 for identical distributions, 1 for disjoint ones),
an absent value being a cell of its own as in NIST's k-marginal score
(:mod:`.kmarginal`). :func:`summarize_distances` reports each kind's mean
and its worst marginal.

The distances are computed from the sensitive records, so they are
sensitive and stay with the steward.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from synthcase.errors import DataError
from synthcase.evaluate.kmarginal import mean_tvd
from synthcase.prepare.table import EncodedTable

__all__ = [
    "KindDistance",
    "MarginalDistance",
    "marginal_distances",
    "summarize_distances",
]


@dataclass(frozen=True)
class MarginalDistance:
    """The sensitive against the synthetic distribution of one marginal.

    Attributes:
        kind: What the marginal joins, for example ``"subject x link"``.
        columns: The marginal's columns.
        distance: Total variation distance, in ``[0, 1]``.
    """

    kind: str
    columns: tuple[str, ...]
    distance: float


@dataclass(frozen=True)
class KindDistance:
    """The distances of one kind of marginal, summarised.

    Attributes:
        kind: What the marginals join.
        marginals: Number of marginals of the kind.
        mean_distance: Mean total variation distance over them.
        worst_distance: The largest distance.
        worst_columns: The columns of the marginal with the largest
            distance (the first one in column order on a tie).
    """

    kind: str
    marginals: int
    mean_distance: float
    worst_distance: float
    worst_columns: tuple[str, ...]


def marginal_distances(
    sensitive: EncodedTable,
    synthetic: EncodedTable,
    marginals: Mapping[str, Sequence[tuple[int, ...]]],
) -> tuple[MarginalDistance, ...]:
    """Measure the distance of every marginal, kind by kind.

    Args:
        sensitive: The sensitive records.
        synthetic: The synthetic records, with the same columns and category
            lists (see :func:`~synthcase.evaluate.shared.encode_shared`).
        marginals: Per kind, the column numbers of each marginal.

    Returns:
        One distance per marginal, in the order given.

    Raises:
        DataError: When the tables' columns differ or either has no record.

    Example:
        >>> import numpy as np
        >>> a = EncodedTable(("A", "B"), (("x", "y"), ("u",)),
        ...                  np.array([[0, 0], [1, -1]], dtype=np.int32))
        >>> b = EncodedTable(a.columns, a.categories,
        ...                  np.array([[0, 0], [0, 0]], dtype=np.int32))
        >>> [d.distance for d in marginal_distances(a, b, {"one": [(0,), (1,)]})]
        [0.5, 0.5]
    """
    if sensitive.columns != synthetic.columns:
        raise DataError(
            f"the sensitive columns {list(sensitive.columns)} differ from the "
            f"synthetic columns {list(synthetic.columns)}; code both tables on "
            "one category list per column first (encode_shared)"
        )
    cardinalities = sensitive.cardinalities
    result = []
    for kind, tuples in marginals.items():
        for columns in tuples:
            distance = mean_tvd(
                sensitive.codes, synthetic.codes, cardinalities, [columns]
            )
            result.append(
                MarginalDistance(
                    kind=kind,
                    columns=tuple(sensitive.columns[j] for j in columns),
                    distance=distance,
                )
            )
    return tuple(result)


def summarize_distances(
    distances: Sequence[MarginalDistance],
) -> tuple[KindDistance, ...]:
    """Each kind's mean and worst distance, kinds in order of first appearance.

    Example:
        >>> rows = [MarginalDistance("link", ("A",), 0.1),
        ...         MarginalDistance("link", ("B",), 0.3)]
        >>> summarize_distances(rows)[0].mean_distance
        0.2
    """
    kinds: dict[str, list[MarginalDistance]] = {}
    for row in distances:
        kinds.setdefault(row.kind, []).append(row)
    result = []
    for kind, rows in kinds.items():
        worst = max(rows, key=lambda row: row.distance)
        result.append(
            KindDistance(
                kind=kind,
                marginals=len(rows),
                mean_distance=math.fsum(row.distance for row in rows) / len(rows),
                worst_distance=worst.distance,
                worst_columns=worst.columns,
            )
        )
    return tuple(result)
