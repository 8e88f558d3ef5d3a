"""The steward's preparation choices, turned into the library's settings.

The prepare page edits a :class:`Preparation`: which columns to drop, which
cell texts and zeros mean "absent", how numeric columns are binned and how
values are recoded or merged. :meth:`Preparation.read_options` turns these
into :class:`~synthcase.prepare.ReadOptions` for the library, and
:meth:`Preparation.recoded` applies the recodes, the one choice the library
has no setting for, to the frame of text cells before it is encoded.

Bins and value lists are only ever what the steward types: nothing here
proposes edges or bounds from the data, whose minimum and maximum are
sensitive, nor offers the values the records hold as a "public" list.

:func:`profile_columns` describes each column for the preview (kind,
distinct values, absent share). Those figures come from the sensitive
records and are shown only to the steward.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthcase.prepare import ABSENT, BinSpec, ReadOptions, ValueList, encode
from synthcase.prepare.binning import OutOfRange

__all__ = ["ColumnProfile", "Preparation", "profile_columns"]


@dataclass
class Preparation:
    """What the steward chose on the prepare page (mutable form state).

    Attributes:
        dropped: Columns left out of every release.
        null_tokens: Cell texts that mean "absent" (e.g. ``N``, ``NA``).
        absent_zero: Columns where a zero means "absent".
        bins: Declared intervals of numeric columns, by column.
        values: Declared lists of possible values (from a data dictionary),
            by column; a column has bins or a value list, not both.
        out_of_range: What to do with a number outside its column's bins.
        recodes: Per column, ``{old label: new label}``; several old labels
            with one new label merge those values.
        max_categories: A column with more distinct values must be binned
            or dropped.
        subject_id: Column identifying the person each row belongs to, when
            one person can have several rows; never an attribute, never
            released.
    """

    dropped: set[str] = field(default_factory=set)
    null_tokens: list[str] = field(default_factory=list)
    absent_zero: set[str] = field(default_factory=set)
    bins: dict[str, BinSpec] = field(default_factory=dict)
    values: dict[str, ValueList] = field(default_factory=dict)
    out_of_range: OutOfRange = "error"
    recodes: dict[str, dict[str, str]] = field(default_factory=dict)
    max_categories: int = 100
    subject_id: str | None = None

    def kept(self, frame: pd.DataFrame) -> list[str]:
        """The attribute columns of ``frame`` not dropped, in input order."""
        return [
            str(c)
            for c in frame.columns
            if c not in self.dropped and c != self.subject_id
        ]

    def read_options(self, columns: list[str]) -> ReadOptions:
        """The library settings for encoding ``columns``.

        Raises:
            ParameterError: When a choice is invalid (for example an empty
                null token); the message names it.
        """
        return ReadOptions(
            columns=tuple(columns),
            null_tokens=tuple(self.null_tokens),
            absent_zero=tuple(c for c in columns if c in self.absent_zero),
            bins=tuple(self.bins[c] for c in columns if c in self.bins),
            values=tuple(self.values[c] for c in columns if c in self.values),
            out_of_range=self.out_of_range,
            max_categories=self.max_categories,
            subject_id=self.subject_id,
        )

    def recoded(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with every declared recode applied to its text cells."""
        frame = frame.copy()
        for column, mapping in self.recodes.items():
            changes = {old: new for old, new in mapping.items() if new != old}
            if column in frame.columns and changes:
                frame[column] = frame[column].replace(changes)
        return frame

    def copy(self) -> Preparation:
        """An independent copy (the form edits it, runs keep the original)."""
        return dataclasses.replace(
            self,
            dropped=set(self.dropped),
            null_tokens=list(self.null_tokens),
            absent_zero=set(self.absent_zero),
            bins=dict(self.bins),
            values=dict(self.values),
            recodes={c: dict(m) for c, m in self.recodes.items()},
        )


@dataclass(frozen=True)
class ColumnProfile:
    """What the preview shows of one column (sensitive, steward only).

    Attributes:
        name: Column name.
        numeric: Every present cell is a number.
        distinct: Number of distinct present values (before binning).
        absent_share: Share of cells that are absent.
        values: The distinct present values and their counts, most common
            first, when there are at most ``max_categories`` of them (for
            recoding); empty otherwise.
    """

    name: str
    numeric: bool
    distinct: int
    absent_share: float
    values: tuple[tuple[str, int], ...]


def profile_columns(
    frame: pd.DataFrame, preparation: Preparation
) -> list[ColumnProfile]:
    """Describe every column of ``frame`` under the absent-cell rules chosen.

    Absent cells are decided by the library's own encoding, so the preview
    counts exactly what a release would.
    """
    recoded = preparation.recoded(frame)
    profiles = []
    for name in map(str, recoded.columns):
        options = ReadOptions(
            columns=(name,),
            null_tokens=tuple(preparation.null_tokens),
            absent_zero=(name,) if name in preparation.absent_zero else False,
            max_categories=max(len(recoded), 1),
        )
        table = encode(recoded, options)
        codes = table.codes[:, 0]
        present = codes != ABSENT
        labels = table.categories[0]
        numbers = pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce")
        counts = np.bincount(codes[present], minlength=len(labels))
        values: tuple[tuple[str, int], ...] = ()
        if len(labels) <= preparation.max_categories:
            order = np.argsort(-counts, kind="stable")
            values = tuple((labels[i], int(counts[i])) for i in order)
        profiles.append(
            ColumnProfile(
                name=name,
                numeric=bool(len(labels)) and not numbers.isna().any(),
                distinct=len(labels),
                absent_share=float(1 - present.mean()) if len(codes) else 0.0,
                values=values,
            )
        )
    return profiles
