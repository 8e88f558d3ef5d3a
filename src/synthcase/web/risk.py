"""Live privacy risk of the sensitive records, for the select page.

While the steward chooses columns, the reporting length ``R`` and the rare
threshold ``k``, the page shows how exposed the sensitive records are: the
share of records holding a combination of up to ``R`` values that fewer than
``k`` records hold (a *rare* combination, which can single a person out),
and the columns and values that take part in the most rare combinations.

When the records carry a person identifier (a linked file, several rows per
person), the unit is the person instead of the record: a combination is
rare when fewer than ``k`` persons hold it in one of their rows, each person
counted once however many of their rows hold it, and the share is a share
of persons (:func:`synthcase.evaluate.counting.count_units`, the count the
steward's linked evaluation uses).

Every change starts a new computation in a background thread;
:class:`LiveRisk` cancels the one it supersedes (between blocks of records)
and discards any result that arrives late, so the page always shows the
figures of the latest choice.

Everything here is computed from the sensitive records, names their rare
values and is shown only to the steward, on this machine.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np

from synthcase.errors import SynthcaseError
from synthcase.evaluate.counting import KeyCounts, count_units
from synthcase.evaluate.risk import assess_sensitive_risk
from synthcase.measure.combinations import (
    CombinationSpace,
    ValueIndex,
    count_combinations,
    record_combinations,
)
from synthcase.prepare.table import EncodedTable

__all__ = ["LiveRisk", "Participation", "RareRisk", "RiskCancelled", "rare_risk"]


class RiskCancelled(Exception):
    """A newer choice superseded this computation."""


@dataclass(frozen=True)
class Participation:
    """A column, or one of its values, and the rare combinations it is in.

    Attributes:
        column: Column name.
        value: The value's label; ``None`` for the column as a whole.
        share: Share of all rare combinations that use it.
    """

    column: str
    value: str | None
    share: float


@dataclass(frozen=True)
class RareRisk:
    """Exposure of the sensitive records to rare combinations.

    Attributes:
        reporting_length: Combinations of ``1..R`` values were examined.
        k: Combinations held by fewer than ``k`` units are rare.
        by_length: Share of units holding a rare combination of length
            ``1..length``, for each length (cumulative).
        columns: Columns by share of rare combinations, largest first.
        values: Values by share of rare combinations, largest first.
        unit: What was counted: ``"record"``, or ``"person"`` when the
            records carry a person identifier.
    """

    reporting_length: int
    k: int
    by_length: tuple[float, ...]
    columns: tuple[Participation, ...]
    values: tuple[Participation, ...]
    unit: str = "record"

    @property
    def share(self) -> float:
        """Share of units holding a rare combination of up to ``R`` values."""
        return self.by_length[-1] if self.by_length else 0.0


def rare_risk(
    table: EncodedTable,
    reporting_length: int,
    k: int,
    *,
    top: int = 8,
    cancel: threading.Event | None = None,
) -> RareRisk:
    """Measure which records, or persons, hold rare combinations.

    Args:
        table: The sensitive records; with ``subject_ids`` the persons are
            counted instead.
        reporting_length: Longest combination examined, ``R``.
        k: Combinations held by fewer units are rare (at least 2).
        top: How many columns and values to rank.
        cancel: When set, the computation stops at the next block.

    Returns:
        The exposure (sensitive).

    Raises:
        RiskCancelled: When ``cancel`` was set.
        ParameterError: When ``R`` exceeds the number of columns.
    """
    if table.subject_ids is not None:
        return _person_risk(table, reporting_length, k, top=top, cancel=cancel)
    index = ValueIndex.from_cardinalities(table.cardinalities)
    exposed = np.zeros(table.n_records, dtype=bool)
    per_value = np.zeros(index.n_values, dtype=np.int64)
    by_length: list[float] = []
    rare_combinations = 0
    for length in range(1, reporting_length + 1):
        space = CombinationSpace.build(index, length)
        _check(cancel)
        keys, counts = count_combinations(table, space)
        rare = keys[counts < k]
        rare_combinations += int(rare.size)
        per_value += np.bincount(
            space.ids_from_keys(rare).ravel(), minlength=index.n_values
        )
        for records, held in record_combinations(table, space):
            _check(cancel)
            found = np.searchsorted(rare, held)
            hit = found < rare.size
            hit[hit] = rare[found[hit]] == held[hit]
            exposed[records[hit]] = True
        by_length.append(float(exposed.mean()) if table.n_records else 0.0)

    total = max(rare_combinations, 1)
    value_column = index.value_column
    per_column = np.bincount(value_column, weights=per_value, minlength=table.n_columns)
    columns = tuple(
        Participation(table.columns[j], None, float(per_column[j]) / total)
        for j in _largest(per_column, top)
    )
    values = tuple(
        Participation(
            table.columns[int(value_column[v])],
            table.label(int(value_column[v]), int(v - index.offsets[value_column[v]])),
            float(per_value[v]) / total,
        )
        for v in _largest(per_value, top)
    )
    return RareRisk(reporting_length, k, tuple(by_length), columns, values)


def _person_risk(
    table: EncodedTable,
    reporting_length: int,
    k: int,
    *,
    top: int,
    cancel: threading.Event | None,
) -> RareRisk:
    """:func:`rare_risk` with the person (``table.subject_ids``) as the unit."""
    index = ValueIndex.from_cardinalities(table.cardinalities)
    spaces: list[CombinationSpace] = []
    held: list[KeyCounts] = []
    for length in range(1, reporting_length + 1):
        _check(cancel)
        spaces.append(CombinationSpace.build(index, length))
        held.append(count_units(table, spaces[-1], by_subject=True))
    _check(cancel)
    risk = assess_sensitive_risk(table, spaces, held, k, top=top)
    return RareRisk(
        reporting_length,
        k,
        tuple(row.rare_share or 0.0 for row in risk.by_length),
        tuple(Participation(c.column, None, c.share or 0.0) for c in risk.columns),
        tuple(Participation(v.column, v.value, v.share or 0.0) for v in risk.values),
        unit="person",
    )


def _largest(weights: np.ndarray, top: int) -> list[int]:
    """Indices of the ``top`` largest positive weights, ties by index."""
    order = np.lexsort((np.arange(weights.size), -weights))
    return [int(i) for i in order[:top] if weights[i] > 0]


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise RiskCancelled


class LiveRisk:
    """Runs :func:`rare_risk` for the latest choice only.

    Each call to :meth:`compute` supersedes the previous one: its cancel
    flag is set, and a generation counter makes a result that arrives after
    a newer request come back as ``None``.
    """

    def __init__(self) -> None:
        self._generation = 0
        self._cancel = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk")

    @property
    def generation(self) -> int:
        """Number of the latest request."""
        return self._generation

    async def compute(
        self, table: EncodedTable, reporting_length: int, k: int
    ) -> RareRisk | None:
        """Compute the risk of this choice, or ``None`` if superseded.

        Raises:
            ParameterError: When the choice is invalid (shown to the steward).
        """
        self._generation += 1
        generation = self._generation
        self._cancel.set()
        self._cancel = cancel = threading.Event()
        job = partial(rare_risk, table, reporting_length, k, cancel=cancel)
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                self._executor, job
            )
        except RiskCancelled:
            return None
        except SynthcaseError:
            if generation != self._generation:
                return None
            raise
        return result if generation == self._generation else None

    def close(self) -> None:
        """Cancel the running computation and stop the worker thread."""
        self._cancel.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
