"""The prepared table: sensitive records encoded as small integer codes.

Every later stage (counting, measuring, k-anonymity synthesis, evaluation)
works on an :class:`EncodedTable`. Values are categories; each column keeps its
own list of category labels and each cell holds the index of its label, or
:data:`ABSENT` when the cell is absent (empty, a declared null token, or a zero
declared absent). Absent cells never take part in any count.

The category lists of a table built from sensitive data are themselves
sensitive: a rare label can identify a person. They leave the process only
through a protected mechanism (a DP threshold or a k-anonymity filter), never
as they are. The exception is a column whose categories were declared rather
than read (bins or a value list): :attr:`EncodedTable.public` marks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["ABSENT", "EncodedTable"]

ABSENT = -1
"""Code of an absent cell."""


@dataclass(frozen=True, eq=False)
class EncodedTable:
    """Records as integer codes, one column per attribute.

    Attributes:
        columns: Attribute names, in input order.
        categories: For each column, the value labels; code ``i`` of column ``j``
            stands for ``categories[j][i]``.
        codes: Array of shape ``(records, columns)`` and dtype ``int32``; each
            cell is a category index or :data:`ABSENT`.
        subject_ids: Optional array of shape ``(records,)`` naming the privacy
            unit of each row when a subject may own several rows; ``None`` when
            every row is its own subject.
        public: For each column, whether its categories were declared (bins
            or a value list) and so are public whatever the data hold; empty
            when no column is (the safe default: every list is sensitive).
    """

    columns: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    codes: npt.NDArray[np.int32]
    subject_ids: npt.NDArray[np.int64] | None = field(default=None)
    public: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        if self.public and len(self.public) != len(self.columns):
            raise ValueError(
                f"{len(self.public)} public flags for {len(self.columns)} columns"
            )
        if self.codes.ndim != 2 or self.codes.shape[1] != len(self.columns):
            raise ValueError(
                f"codes has shape {self.codes.shape}; expected (records, "
                f"{len(self.columns)}) to match the columns"
            )
        if len(self.categories) != len(self.columns):
            raise ValueError(
                f"{len(self.categories)} category lists for {len(self.columns)} columns"
            )

    @property
    def n_records(self) -> int:
        """Number of rows (sensitive: never release it unprotected)."""
        return int(self.codes.shape[0])

    @property
    def n_columns(self) -> int:
        """Number of attributes."""
        return len(self.columns)

    @property
    def cardinalities(self) -> npt.NDArray[np.int64]:
        """Number of category labels of each column."""
        return np.array([len(c) for c in self.categories], dtype=np.int64)

    def is_public(self, column: int) -> bool:
        """Whether the categories of column number ``column`` were declared."""
        return bool(self.public) and self.public[column]

    def label(self, column: int, code: int) -> str:
        """Return the label of ``code`` in column number ``column``."""
        return self.categories[column][code]

    def select(self, columns: Sequence[str]) -> EncodedTable:
        """Return a table restricted to ``columns``, in the order given."""
        index = [self.columns.index(c) for c in columns]
        return EncodedTable(
            columns=tuple(columns),
            categories=tuple(self.categories[i] for i in index),
            codes=np.ascontiguousarray(self.codes[:, index]),
            subject_ids=self.subject_ids,
            public=tuple(self.is_public(i) for i in index) if self.public else (),
        )

    def decode(self) -> list[list[str | None]]:
        """Return the records as labels, ``None`` for absent cells.

        Meant for small tables in tests and examples; whole tables go through
        :func:`synthcase.prepare.to_frame`.
        """
        return [
            [None if c == ABSENT else self.categories[j][c] for j, c in enumerate(row)]
            for row in self.codes.tolist()
        ]
