"""Which values a record may take so it holds only listed combinations.

A value the aggregates do not list at length 1 is never allowed. For
lengths 2 and 3 (up to the aggregates' reporting length) a boolean table
per column set marks the combinations the aggregates list; the *other* cell
(absent or suppressed) is always allowed, since an absent value forms no
combination. Reads only the protected aggregates.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from synthcase.errors import ParameterError
from synthcase.measure.aggregates import Aggregates

__all__ = ["Constraints"]

BoolArray = npt.NDArray[np.bool_]


class Constraints:
    """Allowed values of a column given the values already drawn.

    Args:
        aggregates: The protected aggregates listing the allowed combinations.
        domains: The model's domains; they must hold every released value.

    Raises:
        ParameterError: When a released value is not in the model's domain.
    """

    def __init__(
        self, aggregates: Aggregates, domains: tuple[tuple[str, ...], ...]
    ) -> None:
        if len(aggregates.categories) != len(domains):
            raise ParameterError(
                f"the aggregates hold {len(aggregates.categories)} columns, the "
                f"model {len(domains)}; pass the aggregates the model was "
                "measured with"
            )
        self.sizes = tuple(len(d) + 1 for d in domains)
        self.length = min(aggregates.reporting_length, 3)
        # Aggregates' value codes -> model codes (the model's domain holds
        # every released value; a declared-bin domain may hold more).
        translate = []
        self.single: list[BoolArray] = []
        for labels, released in zip(domains, aggregates.categories, strict=True):
            position = {label: i for i, label in enumerate(labels)}
            missing = [v for v in released if v not in position]
            if missing:
                raise ParameterError(
                    f"released value {missing[0]!r} is not in the model's domain; "
                    "pass the aggregates the model was measured with"
                )
            codes = np.array([position[v] for v in released], dtype=np.int64)
            translate.append(codes)
            listed = np.zeros(len(labels) + 1, dtype=bool)
            listed[codes] = True
            listed[-1] = True
            self.single.append(listed)
        index = aggregates.index
        column_of = index.value_column
        self.groups: dict[tuple[int, ...], npt.NDArray[np.int64]] = {}
        for k in range(2, self.length + 1):
            ids = aggregates.combinations[k - 1]
            if ids.shape[0] == 0:
                continue
            cols = column_of[ids]
            local = ids - index.offsets[cols]
            codes = np.empty_like(local)
            for j, table in enumerate(translate):
                hit = cols == j
                codes[hit] = table[local[hit]]
            d = len(domains)
            set_id = np.ravel_multi_index(tuple(cols.T), (d,) * k)
            order = np.argsort(set_id, kind="stable")
            found, starts = np.unique(set_id[order], return_index=True)
            for key, part in zip(
                found.tolist(), np.split(order, starts[1:]), strict=True
            ):
                columns = tuple(int(c) for c in np.unravel_index(key, (d,) * k))
                self.groups[columns] = codes[part]
        self.tables: dict[tuple[tuple[int, ...], int], BoolArray] = {}

    def _table(self, columns: tuple[int, ...], last: int) -> BoolArray:
        """Allowed cells of ``columns`` with ``last``'s axis moved to the end."""
        key = (columns, last)
        if key not in self.tables:
            shape = tuple(self.sizes[c] for c in columns)
            table = np.zeros(shape, dtype=bool)
            for axis in range(len(columns)):
                # Any cell with an other value forms no combination.
                index: list[slice | int] = [slice(None)] * len(columns)
                index[axis] = shape[axis] - 1
                table[tuple(index)] = True
            listed = self.groups.get(columns)
            if listed is not None:
                table[tuple(listed.T)] = True
            self.tables[key] = np.moveaxis(table, columns.index(last), -1)
        return self.tables[key]

    def allowed(
        self, codes: npt.NDArray[np.int64], done: list[int], column: int
    ) -> BoolArray:
        """``(records, values)``: may each record take each value of ``column``."""
        mask = np.repeat(self.single[column][None, :], codes.shape[0], axis=0)
        for k in range(2, self.length + 1):
            for earlier in itertools.combinations(sorted(done), k - 1):
                columns = tuple(sorted((*earlier, column)))
                table = self._table(columns, column)
                mask &= table[tuple(codes[:, c] for c in earlier)]
        return mask
