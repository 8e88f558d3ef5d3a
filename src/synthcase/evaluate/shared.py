"""One category list per column for the sensitive and the released data.

The evaluation compares combinations of the sensitive records with those of
the aggregates and of the synthetic records. Each of the three numbers its
values in its own way (the aggregates keep only released values, the
synthetic records are labels), so they are first put on one shared list of
category labels per column; a combination then has one key whatever source
it comes from, and comparing sources is a set operation on keys.

The shared list of a column starts with the sensitive labels (so the codes of
an :class:`~synthcase.prepare.EncodedTable` stay valid) and appends, in sorted
order, any label that only the aggregates or the synthetic records hold.
Everything built here is sensitive: it holds the sensitive category lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.errors import DataError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.combinations import IntArray, ValueIndex
from synthcase.prepare.table import ABSENT, EncodedTable

__all__ = ["SharedTables", "encode_labels", "encode_shared"]


@dataclass(frozen=True, eq=False)
class SharedTables:
    """Sensitive and synthetic records coded on one category list per column.

    Attributes:
        sensitive: The sensitive records (sensitive, never released).
        synthetic: The synthetic records, with the same columns and the same
            category lists as ``sensitive``.
    """

    sensitive: EncodedTable
    synthetic: EncodedTable

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in the synthetic records' order."""
        return self.sensitive.columns

    @property
    def categories(self) -> tuple[tuple[str, ...], ...]:
        """The shared category labels of each column (sensitive)."""
        return self.sensitive.categories

    @cached_property
    def index(self) -> ValueIndex:
        """Value numbering of the shared categories."""
        return ValueIndex.from_cardinalities(self.sensitive.cardinalities)

    def aggregate_ids(self, aggregates: Aggregates, length: int) -> IntArray:
        """The released combinations of one length as shared value ids.

        Args:
            aggregates: Protected aggregates whose labels are all in the
                shared lists (true when they were passed to
                :func:`encode_shared`).
            length: Combination length ``k``.

        Returns:
            Array ``(m_k, k)``; each row is sorted, so it lists its values in
            column order.
        """
        if length > len(aggregates.combinations):
            return np.zeros((0, length), dtype=np.int64)
        translate = np.empty(aggregates.index.n_values, dtype=np.int64)
        start = 0
        for column, labels in zip(
            aggregates.columns, aggregates.categories, strict=True
        ):
            j = self.columns.index(column)
            shared = pd.Index(self.categories[j], dtype=object)
            codes = shared.get_indexer(pd.Index(labels, dtype=object))
            translate[start : start + len(labels)] = self.index.offsets[j] + codes
            start += len(labels)
        ids = translate[aggregates.combinations[length - 1]]
        return np.sort(ids, axis=1).reshape(-1, length)


def encode_shared(
    sensitive: EncodedTable | pd.DataFrame,
    synthetic: pd.DataFrame,
    aggregates: Aggregates | None = None,
) -> SharedTables:
    """Code sensitive and synthetic records on one category list per column.

    Only the synthetic records' columns are kept, in their order: the
    evaluation looks at what was released.

    Args:
        sensitive: The sensitive records, encoded or as a frame of labels
            (missing cells and empty texts are absent).
        synthetic: The synthetic records as labels, ``pd.NA`` or an empty
            text where absent.
        aggregates: Protected aggregates whose labels join the lists.

    Returns:
        Both tables on the shared category lists.

    Raises:
        DataError: When the synthetic records or the aggregates name a column
            the sensitive records lack.

    Example:
        >>> shared = encode_shared(
        ...     pd.DataFrame({"A": ["x", "y"]}), pd.DataFrame({"A": ["z", None]})
        ... )
        >>> shared.categories, shared.synthetic.codes.ravel().tolist()
        ((('x', 'y', 'z'),), [2, -1])
    """
    columns = tuple(str(c) for c in synthetic.columns)
    if len(set(columns)) != len(columns):
        raise DataError(
            f"the synthetic records name a column twice among {list(columns)}; "
            "give every column a unique name"
        )
    if isinstance(sensitive, EncodedTable):
        _check_columns("synthetic records", columns, sensitive.columns)
        base = sensitive.select(columns)
    else:
        names = tuple(str(c) for c in sensitive.columns)
        _check_columns("synthetic records", columns, names)
        frame = sensitive.set_axis(list(names), axis=1)
        base = encode_labels(frame[list(columns)])
    extra: list[set[str]] = [set() for _ in columns]
    if aggregates is not None:
        _check_columns("aggregates", aggregates.columns, columns, "synthetic records")
        for column, labels in zip(
            aggregates.columns, aggregates.categories, strict=True
        ):
            extra[columns.index(column)].update(labels)
    texts = [_labels(synthetic.iloc[:, j]) for j in range(len(columns))]
    for j, text in enumerate(texts):
        extra[j].update(str(v) for v in pd.unique(text[text != ""]))

    categories = tuple(
        (*known, *sorted(found - set(known)))
        for known, found in zip(base.categories, extra, strict=True)
    )
    codes = np.empty((len(synthetic), len(columns)), dtype=np.int32)
    for j, text in enumerate(texts):
        codes[:, j] = _code(text, categories[j])
    return SharedTables(
        sensitive=EncodedTable(
            columns, categories, base.codes, subject_ids=base.subject_ids
        ),
        synthetic=EncodedTable(columns, categories, codes),
    )


def encode_labels(
    frame: pd.DataFrame, categories: Sequence[Sequence[str]] | None = None
) -> EncodedTable:
    """Code a frame of labels; missing cells and empty texts are absent.

    Args:
        frame: Records as labels; every cell is read as text.
        categories: Per column, the labels to use, in order; ``None`` takes
            each column's distinct labels, sorted.

    Returns:
        The coded table.

    Raises:
        DataError: When a cell holds a label missing from ``categories``.
    """
    columns = tuple(str(c) for c in frame.columns)
    texts = [_labels(frame.iloc[:, j]) for j in range(len(columns))]
    if categories is None:
        categories = [sorted(set(t[t != ""].tolist())) for t in texts]
    lists = tuple(tuple(str(v) for v in c) for c in categories)
    codes = np.empty((len(frame), len(columns)), dtype=np.int32)
    for j, text in enumerate(texts):
        codes[:, j] = _code(text, lists[j])
        unknown = (codes[:, j] == ABSENT) & (text != "")
        if unknown.any():
            raise DataError(
                f"column {columns[j]!r} holds {text[unknown][0]!r}, which is not "
                f"among its {len(lists[j])} categories; pass the categories of "
                "both tables (see encode_shared)"
            )
    return EncodedTable(columns, lists, codes)


def _labels(column: pd.Series) -> npt.NDArray[np.object_]:
    """Cells as stripped texts; absent cells become the empty text."""
    text = column.astype(object).where(column.notna(), "")
    return np.asarray(text.astype(str).str.strip().to_numpy(dtype=object))


def _code(text: npt.NDArray[np.object_], labels: tuple[str, ...]) -> IntArray:
    """Codes of the texts in ``labels``; ABSENT for the empty text."""
    codes = pd.Index(labels, dtype=object).get_indexer(pd.Index(text, dtype=object))
    codes[text == ""] = ABSENT
    return np.asarray(codes, dtype=np.int64)


def _check_columns(
    what: str,
    names: Sequence[str],
    known: Sequence[str],
    known_what: str = "sensitive records",
) -> None:
    missing = [name for name in names if name not in known]
    if missing:
        raise DataError(
            f"the {what} name column {', '.join(map(repr, missing))}, which the "
            f"{known_what} do not have; their columns are {', '.join(known)}. "
            "Evaluate a release against the sensitive file it was made from"
        )
