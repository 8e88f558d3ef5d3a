r"""Protected aggregates: the released counts of attribute combinations.

An :class:`Aggregates` holds only protected information: the values that
survived protection (numbered afresh, so nothing about suppressed values is
kept), the combinations released at each length with their protected counts,
and the protected record count. Synthesis reads nothing else.

On disk the aggregates are a tab-separated file: a ``selections`` /
``protected_count`` header, a ``record_count`` row, then one row per
combination written ``column:value;column:value``. A backslash escapes ``\\``,
``;`` and ``:`` inside names and values, so every combination reads back
exactly; tab and newline are written as ``\\t`` and ``\\n``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.errors import DataError
from synthcase.measure.combinations import CombinationSpace, IntArray, ValueIndex

__all__ = ["Aggregates", "escape_part", "format_combination", "parse_combination"]

_ESCAPES = {"\\": "\\\\", ";": "\\;", ":": "\\:", "\t": "\\t", "\n": "\\n"}
_UNESCAPES = {"\\": "\\", ";": ";", ":": ":", "t": "\t", "n": "\n"}


def escape_part(text: str) -> str:
    """Escape a column name or value for the ``col:value;col:value`` form."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def format_combination(pairs: Sequence[tuple[str, str]]) -> str:
    r"""Write ``[(column, value), ...]`` as ``col:value;col:value``.

    >>> format_combination([("AGE", "[0,18)"), ("SEX", "a:b")])
    'AGE:[0,18);SEX:a\\\\:b'
    """
    return ";".join(f"{escape_part(c)}:{escape_part(v)}" for c, v in pairs)


def parse_combination(text: str) -> list[tuple[str, str]]:
    """Read ``col:value;col:value`` back into ``[(column, value), ...]``.

    Raises:
        DataError: When an item has no unescaped ``:`` or a dangling escape.
    """
    if "\\" not in text:
        # Fast path: nothing escaped, so plain splitting is exact.
        fast: list[tuple[str, str]] = []
        for item in text.split(";"):
            column, sep, value = item.partition(":")
            if not sep or ":" in value:
                break
            fast.append((column, value))
        else:
            return fast
    pairs: list[tuple[str, str]] = []
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i <= len(text):
        ch = text[i] if i < len(text) else ";"
        if ch == "\\" and i < len(text):
            if i + 1 >= len(text) or text[i + 1] not in _UNESCAPES:
                raise DataError(f"combination {text!r} has a dangling backslash")
            current.append(_UNESCAPES[text[i + 1]])
            i += 2
            continue
        if ch == ":" and not parts:
            parts.append("".join(current))
            current = []
        elif ch == ";":
            if len(parts) != 1:
                raise DataError(
                    f"combination {text!r} has an item without 'column:value'"
                )
            pairs.append((parts[0], "".join(current)))
            parts, current = [], []
        else:
            current.append(ch)
        i += 1
    return pairs


@dataclass(frozen=True, eq=False)
class Aggregates:
    """Protected counts of combinations of length ``1..R``.

    Attributes:
        columns: Attribute names, in input order (all of them, including any
            whose values were all suppressed).
        categories: Per column, the released value labels.
        combinations: Per length ``k`` (index ``k - 1``), an array ``(m_k, k)``
            of value ids in this object's numbering, rows in key order.
        counts: Per length, the protected counts, aligned with
            ``combinations``.
        record_count: The protected number of records.
    """

    columns: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    combinations: tuple[IntArray, ...]
    counts: tuple[IntArray, ...]
    record_count: int

    @property
    def reporting_length(self) -> int:
        """Longest combination length released."""
        return len(self.combinations)

    @cached_property
    def index(self) -> ValueIndex:
        """Numbering of the released values."""
        return ValueIndex.from_cardinalities([len(c) for c in self.categories])

    @cached_property
    def spaces(self) -> tuple[CombinationSpace, ...]:
        """Key layout of each length (only lengths up to the column count)."""
        top = min(self.reporting_length, len(self.columns))
        return tuple(CombinationSpace.build(self.index, k) for k in range(1, top + 1))

    @cached_property
    def keys(self) -> tuple[IntArray, ...]:
        """Sorted keys of the released combinations of each length."""
        result = []
        for k, combos in enumerate(self.combinations, start=1):
            if k > len(self.spaces) or combos.shape[0] == 0:
                result.append(np.zeros(0, dtype=np.int64))
                continue
            keys = self.spaces[k - 1].keys_from_ids(combos)
            if np.any(np.diff(keys) <= 0):
                raise ValueError("combinations must be unique and in key order")
            result.append(keys)
        return tuple(result)

    @cached_property
    def value_labels(self) -> tuple[tuple[str, str], ...]:
        """``(column, label)`` of every value id."""
        return tuple(
            (column, label)
            for column, labels in zip(self.columns, self.categories, strict=True)
            for label in labels
        )

    def lookup(self, ids: IntArray) -> npt.NDArray[np.int64]:
        """Protected counts of combinations given as rows of sorted value ids.

        Combinations that were not released get ``-1``.
        """
        length = ids.shape[1]
        result = np.full(ids.shape[0], -1, dtype=np.int64)
        if length > len(self.spaces) or ids.shape[0] == 0:
            return result
        keys = self.spaces[length - 1].keys_from_ids(ids)
        released = self.keys[length - 1]
        pos = np.searchsorted(released, keys)
        pos_clipped = np.minimum(pos, max(len(released) - 1, 0))
        found = (pos < len(released)) & (released[pos_clipped] == keys)
        result[found] = self.counts[length - 1][pos_clipped[found]]
        return result

    def count_of(self, selection: Mapping[str, str]) -> int | None:
        """Protected count of one combination given as ``{column: value}``.

        Returns ``None`` when the combination was not released (or is longer
        than the reporting length).
        """
        ids = []
        for column, value in selection.items():
            if column not in self.columns:
                raise DataError(
                    f"column {column!r} is not in these aggregates; their "
                    f"columns are {', '.join(self.columns)}"
                )
            j = self.columns.index(column)
            if value not in self.categories[j]:
                return None
            ids.append(int(self.index.offsets[j]) + self.categories[j].index(value))
        found = self.lookup(np.array([sorted(ids)], dtype=np.int64))[0]
        return None if found < 0 else int(found)

    def to_frame(self) -> pd.DataFrame:
        """One row per released combination, ordered by length, then count.

        Columns: ``selections``, ``protected_count`` and ``length``.
        """
        labels = self.value_labels
        frames = []
        for k, (combos, counts) in enumerate(
            zip(self.combinations, self.counts, strict=True), start=1
        ):
            text = [format_combination([labels[i] for i in row]) for row in combos]
            frames.append(
                pd.DataFrame(
                    {"selections": text, "protected_count": counts, "length": k}
                ).sort_values(
                    ["protected_count", "selections"],
                    ascending=[False, True],
                    kind="stable",
                )
            )
        if not frames:
            return pd.DataFrame(columns=["selections", "protected_count", "length"])
        return pd.concat(frames, ignore_index=True)

    def write_tsv(self, path: str | os.PathLike[str]) -> None:
        """Write the aggregates file (the caller makes the write atomic)."""
        frame = self.to_frame()
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            out.write("selections\tprotected_count\n")
            out.write(f"record_count\t{int(self.record_count)}\n")
            for sel, count in zip(
                frame["selections"], frame["protected_count"], strict=True
            ):
                out.write(f"{sel}\t{int(count)}\n")

    @classmethod
    def read_tsv(
        cls,
        path: str | os.PathLike[str],
        *,
        columns: Sequence[str] | None = None,
        reporting_length: int | None = None,
    ) -> Aggregates:
        """Read an aggregates file written by :meth:`write_tsv`.

        Args:
            path: The file.
            columns: Column order; by default the order of first appearance.
            reporting_length: Expected longest length; by default the longest
                found.

        Raises:
            DataError: When the file is missing or malformed.
        """
        rows = _read_rows(Path(path))
        record_count = None
        parsed: list[tuple[list[tuple[str, str]], int]] = []
        for line_no, sel, count in rows:
            if sel == "record_count":
                record_count = count
                continue
            try:
                parsed.append((parse_combination(sel), count))
            except DataError as err:
                raise DataError(f"{path}, line {line_no}: {err}") from None
        if record_count is None:
            raise DataError(
                f"{path} has no 'record_count' row; it is not an aggregates file "
                "written by synthcase or Synthetic Data Showcase"
            )
        return cls.from_pairs(
            parsed,
            record_count=record_count,
            columns=columns,
            reporting_length=reporting_length,
        )

    @classmethod
    def from_pairs(
        cls,
        items: Sequence[tuple[Sequence[tuple[str, str]], int]],
        *,
        record_count: int,
        columns: Sequence[str] | None = None,
        reporting_length: int | None = None,
    ) -> Aggregates:
        """Build aggregates from ``([(column, value), ...], count)`` items."""
        order: list[str] = list(columns) if columns is not None else []
        values: dict[str, list[str]] = {c: [] for c in order}
        for pairs, _ in items:
            for column, value in pairs:
                if column not in values:
                    if columns is not None:
                        raise DataError(
                            f"aggregates name column {column!r}, which is not "
                            f"among the columns {list(columns)}"
                        )
                    order.append(column)
                    values[column] = []
                if len(pairs) == 1 and value not in values[column]:
                    values[column].append(value)
        categories = tuple(tuple(values[c]) for c in order)
        longest = max((len(p) for p, _ in items), default=1)
        length = reporting_length or longest
        index = ValueIndex.from_cardinalities([len(c) for c in categories])
        lookup = {
            (c, v): int(index.offsets[j]) + i
            for j, c in enumerate(order)
            for i, v in enumerate(categories[j])
        }
        by_length: list[list[tuple[list[int], int]]] = [[] for _ in range(length)]
        lookup_column = {i: j for (c, _), i in lookup.items() for j in [order.index(c)]}
        seen: set[tuple[int, ...]] = set()
        for pairs, count in items:
            if len(pairs) > length:
                raise DataError(
                    f"aggregates hold a combination of length {len(pairs)}, longer "
                    f"than the reporting length {length}"
                )
            try:
                ids = sorted(lookup[p] for p in pairs)
            except KeyError as err:
                raise DataError(
                    f"combination {format_combination(list(pairs))!r} uses value "
                    f"{err.args[0]!r}, which has no count of its own"
                ) from None
            if len(set(ids)) != len(ids) or len({lookup_column[i] for i in ids}) != len(
                ids
            ):
                raise DataError(
                    f"combination {format_combination(list(pairs))!r} names a "
                    "column twice; each value of a combination must come from "
                    "a different column"
                )
            key = tuple(ids)
            if key in seen:
                raise DataError(
                    f"combination {format_combination(list(pairs))!r} is listed "
                    "twice; keep one line per combination"
                )
            seen.add(key)
            by_length[len(pairs) - 1].append((ids, count))
        combos, counts = [], []
        for k, entries in enumerate(by_length, start=1):
            ids_arr = np.array([e[0] for e in entries], dtype=np.int64).reshape(-1, k)
            cnt = np.array([e[1] for e in entries], dtype=np.int64)
            if k <= len(order) and len(entries):
                keys = CombinationSpace.build(index, k).keys_from_ids(ids_arr)
                order_idx = np.argsort(keys, kind="stable")
                ids_arr, cnt = ids_arr[order_idx], cnt[order_idx]
            combos.append(ids_arr)
            counts.append(cnt)
        return cls(tuple(order), categories, tuple(combos), tuple(counts), record_count)


def _read_rows(path: Path) -> list[tuple[int, str, int]]:
    if not path.is_file():
        raise DataError(f"aggregates file {str(path)!r} does not exist")
    rows: list[tuple[int, str, int]] = []
    with open(path, encoding="utf-8-sig") as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if len(header) != 2 or header[0] != "selections":
            raise DataError(
                f"{path} does not start with 'selections<TAB>protected_count'; "
                "pass an aggregates.tsv written by a release"
            )
        for line_no, line in enumerate(handle, start=2):
            line = line.rstrip("\r\n")
            if not line:
                continue
            sel, sep, count = line.rpartition("\t")
            try:
                if not sep:
                    raise ValueError
                value = int(count.strip())
                if value < 0:
                    raise ValueError
            except ValueError:
                raise DataError(
                    f"{path}, line {line_no}: expected 'selections<TAB>count' "
                    f"with a whole count >= 0, got {line[:80]!r}"
                ) from None
            rows.append((line_no, sel, value))
    return rows
