"""Linked case files: subjects with several rows, split into subject and link columns.

A linked file has one row per *link* (for example one victim-perpetrator
pair) and a subject id column naming the *subject* each row belongs to. Its
attributes are of two kinds:

* **subject columns** describe the subject and repeat on every one of the
  subject's rows (a victim's gender or year of registration);
* **link columns** describe the link and vary from row to row (the
  perpetrator's relation to the victim).

A subject is *consistent* in a column when all of its rows hold the same
cell, an absent cell counting as a value of its own. Absence is not ignored
on purpose: in a column of 0/1 flags where 0 is read as absent, ignoring
absent cells would make every flag look constant within every subject. A
subject with a single row is consistent in every column.

A multi-value cell (``"labour;sexual"``) is split into one *presence column*
per value, ``column[value]``, holding ``"1"`` where the value is in the cell.
Presence column names carry data values, so they are sensitive until a
protected mechanism has released their value; :class:`LinkedSchema` keeps
only the released ones.

Everything in a :class:`LinkedTable` and a :class:`SubjectConsistency` is
sensitive and stays on the machine; :class:`LinkBins` and
:class:`LinkedSchema` are public.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.errors import DataError, ParameterError
from synthcase.prepare.encoding import encode, subject_ids
from synthcase.prepare.options import ReadOptions
from synthcase.prepare.reading import read_frame
from synthcase.prepare.table import ABSENT, EncodedTable

__all__ = [
    "LINKS_COLUMN",
    "LinkBins",
    "LinkedLayout",
    "LinkedSchema",
    "LinkedTable",
    "MultiValue",
    "SubjectConsistency",
    "check_consistency",
    "decide_layout",
    "declared_layout",
    "join_multi_value",
    "link_table",
    "links_column_name",
    "load_linked",
    "presence_name",
    "split_multi_value",
    "subject_table",
    "unit_name",
]

logger = logging.getLogger(__name__)

LINKS_COLUMN = "links_per_subject"
"""Name of the binned number-of-links column of the subject table."""

_EXAMPLES = 5
"""Example subject ids shown per inconsistent column (local only)."""

IntArray = npt.NDArray[np.int64]


def presence_name(column: str, value: str) -> str:
    """Name of the presence column of ``value`` in multi-value ``column``.

    >>> presence_name("exploitation", "sexual")
    'exploitation[sexual]'
    """
    return f"{column}[{value}]"


def unit_name(subject_id: str) -> str:
    """The privacy unit in words, from the subject id column's name.

    >>> unit_name("victim_id"), unit_name("VictimID"), unit_name("case")
    ('victim', 'victim', 'case')
    """
    name = subject_id.strip()
    for suffix in ("_id", "-id", " id", "id"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return name.strip(" _-").lower() or "subject"


@dataclass(frozen=True, kw_only=True)
class MultiValue:
    """A column whose cells hold several values joined by a delimiter.

    Attributes:
        column: The input column.
        delimiter: Text between two values of a cell.
        values: The values a cell may hold, declared from what you know of
            the attribute (public); ``None`` takes them from the data, and
            only those a protected mechanism releases are ever shown.
        max_values: With undeclared values, the most distinct values
            accepted. The column always becomes exactly this many presence
            columns (unused ones stay empty), so the shape of what is
            measured does not depend on the data.

    Raises:
        ParameterError: When a setting is outside its allowed range.
    """

    column: str
    delimiter: str = ";"
    values: tuple[str, ...] | None = None
    max_values: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column.strip():
            raise ParameterError(
                f"multi-value column {self.column!r} is not a column name; name "
                "the column, for example --multi-value exploitation"
            )
        if not isinstance(self.delimiter, str) or not self.delimiter.strip():
            raise ParameterError(
                f"the delimiter of multi-value column {self.column!r} is "
                f"{self.delimiter!r}; give a visible text such as ';' or '|'"
            )
        if self.values is not None:
            values = tuple(str(v).strip() for v in self.values)
            if (
                not values
                or any(not v for v in values)
                or len(set(values)) < len(values)
            ):
                raise ParameterError(
                    f"the values of multi-value column {self.column!r} are "
                    f"{list(self.values)}; give distinct, non-empty values"
                )
            if any(self.delimiter in v for v in values):
                raise ParameterError(
                    f"a declared value of {self.column!r} contains the delimiter "
                    f"{self.delimiter!r}; choose another delimiter"
                )
            object.__setattr__(self, "values", values)
        if isinstance(self.max_values, bool) or not 1 <= self.max_values <= 100:
            raise ParameterError(
                f"max_values of {self.column!r} is {self.max_values!r}; it must be "
                "a whole number in 1..100"
            )


@dataclass(frozen=True)
class LinkBins:
    """Declared intervals of the number of links per subject (public).

    ``edges`` ``e_0 < e_1 < ... < e_m`` (whole numbers, ``e_0 >= 1``) give the
    bins ``[e_i, e_(i+1))``. A subject with ``e_m`` links or more is counted
    in the last bin, labelled ``"e_(m-1)+"``; synthetic subjects of that bin
    get at most ``e_m - 1`` links.

    >>> LinkBins((1, 2, 3, 6, 11)).labels()
    ('1', '2', '3-5', '6+')
    >>> LinkBins((1, 2, 3, 6, 11)).bin_of(np.array([1, 4, 10, 99])).tolist()
    [0, 2, 3, 3]
    """

    edges: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 11, 16, 21, 31, 41, 65)

    def __post_init__(self) -> None:
        edges = tuple(self.edges)
        ok = len(edges) >= 2 and all(
            isinstance(e, int | np.integer) and not isinstance(e, bool) for e in edges
        )
        if not ok or edges[0] < 1 or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ParameterError(
                f"link bins {list(self.edges)} are not whole numbers >= 1 in "
                "increasing order; give at least two edges, for example "
                "--link-bins 1,2,3,5,10,41"
            )
        object.__setattr__(self, "edges", tuple(int(e) for e in edges))

    @classmethod
    def parse(cls, text: str) -> LinkBins:
        """Read ``"1,2,3,5,10,41"`` (a command-line shorthand)."""
        try:
            return cls(tuple(int(p) for p in text.split(",") if p.strip()))
        except ValueError:
            raise ParameterError(
                f"link bins {text!r} are not whole numbers separated by commas; "
                "write for example --link-bins 1,2,3,5,10,41"
            ) from None

    def labels(self) -> tuple[str, ...]:
        """One label per bin."""
        pairs = itertools.pairwise(self.edges[:-1])
        labels = [str(a) if b == a + 1 else f"{a}-{b - 1}" for a, b in pairs]
        return (*labels, f"{self.edges[-2]}+")

    def bin_of(self, links: IntArray) -> npt.NDArray[np.int32]:
        """Bin number of each number of links (all numbers are >= 1)."""
        inner = np.asarray(self.edges[1:-1], dtype=np.int64)
        return np.searchsorted(inner, links, side="right").astype(np.int32)

    def ranges(self) -> tuple[tuple[int, int], ...]:
        """Smallest and largest number of links synthesized in each bin."""
        return tuple((a, b - 1) for a, b in itertools.pairwise(self.edges))


@dataclass(frozen=True, eq=False)
class LinkedTable:
    """The sensitive rows of a linked file, encoded.

    Attributes:
        table: The attribute columns (multi-value columns as presence
            columns) with the subject number of each row as ``subject_ids``.
        subject_id: Name of the subject id column.
        input_columns: The used input columns in input order, the subject id
            column included.
        origin: For each column of ``table``, the input column it comes from.
        presence: For each real presence column, its input column and value.
        multi_value: The multi-value declarations.
        sensitive_subject_labels: The subject id of each subject number as
            written in the file; shown to the data steward only.
    """

    table: EncodedTable
    subject_id: str
    input_columns: tuple[str, ...]
    origin: tuple[str, ...]
    presence: dict[str, tuple[str, str]]
    multi_value: tuple[MultiValue, ...]
    sensitive_subject_labels: npt.NDArray[np.object_]

    @property
    def attributes(self) -> tuple[str, ...]:
        """The input attribute columns (all used columns but the subject id)."""
        return tuple(c for c in self.input_columns if c != self.subject_id)

    def columns_of(self, inputs: Sequence[str]) -> list[str]:
        """Columns of :attr:`table` that come from the given input columns."""
        chosen = set(inputs)
        return [
            c
            for c, o in zip(self.table.columns, self.origin, strict=True)
            if o in chosen
        ]


def load_linked(
    source: str | os.PathLike[str] | pd.DataFrame,
    options: ReadOptions,
    multi_value: Sequence[MultiValue] = (),
) -> LinkedTable:
    """Read a linked case file: subject ids, attributes and multi-value cells.

    Args:
        source: A CSV/TSV path or a DataFrame.
        options: How to read it; ``options.subject_id`` names the subject id
            column and is required.
        multi_value: Columns whose cells hold several values.

    Raises:
        ParameterError: When no subject id column is named, or a multi-value
            column is binned or declared twice.
        DataError: When a column is missing, a subject id is empty, or a
            multi-value column holds undeclared or too many values.
    """
    column = options.subject_id
    if column is None:
        raise ParameterError(
            "a linked file needs its subject id column; pass for example "
            "--subject-id victim_id"
        )
    specs = tuple(multi_value)
    names = [m.column for m in specs]
    if len(set(names)) < len(names):
        raise ParameterError(
            f"multi-value columns {names} name a column twice; declare each once"
        )
    if column in names:
        raise ParameterError(
            f"the subject id column {column!r} is declared multi-value; it names "
            "the subject and is never counted, so drop its multi-value declaration"
        )
    binned = sorted(set(names) & set(options.bin_specs))
    if binned:
        raise ParameterError(
            f"column {binned[0]!r} is declared both multi-value and binned; a "
            "multi-value column cannot be binned, drop one of the two"
        )
    listed = sorted(set(names) & set(options.value_lists))
    if listed:
        raise ParameterError(
            f"column {listed[0]!r} is declared both multi-value and with a value "
            "list; a multi-value column's values are declared in its multi-value "
            "setting (MultiValue(values=...)), so drop its value list"
        )
    if column in options.value_lists:
        raise ParameterError(
            f"the subject id column {column!r} has a value list; it names the "
            "subject and is never counted, so drop its value list"
        )
    frame = read_frame(
        source, dataclasses.replace(options, columns=None, subject_id=None)
    )
    header = [str(c) for c in frame.columns]
    if column not in header:
        raise DataError(
            f"the subject id column {column!r} is not in the data; the columns "
            f"are {', '.join(header)}. Fix --subject-id"
        )
    wanted = set(options.columns) if options.columns is not None else set(header)
    used = [c for c in header if c == column or c in wanted]
    for name in [*(options.columns or ()), *names]:
        if name not in header:
            raise DataError(
                f"column {name!r} is not in the data; the columns are "
                f"{', '.join(header)}. Fix the column name"
            )
        if name not in used:
            raise DataError(
                f"multi-value column {name!r} is not among the selected columns; "
                "add it to --columns or drop its multi-value declaration"
            )
    ids = subject_ids(frame[column])
    labels, origin, presence = split_multi_value(
        frame.loc[:, [c for c in used if c != column]], specs, options
    )
    zero_absent = options.absent_zero
    if isinstance(zero_absent, tuple):
        zero_absent = tuple(c for c in zero_absent if c not in names)
    encoding = dataclasses.replace(
        options, columns=None, subject_id=None, absent_zero=zero_absent
    )
    encoded = encode(labels, encoding)
    table = EncodedTable(encoded.columns, encoded.categories, encoded.codes, ids)
    _, uniques = pd.factorize(frame[column].astype(str).str.strip(), sort=False)
    return LinkedTable(
        table=table,
        subject_id=column,
        input_columns=tuple(used),
        origin=tuple(origin),
        presence=presence,
        multi_value=specs,
        sensitive_subject_labels=np.asarray(uniques, dtype=object),
    )


def split_multi_value(
    frame: pd.DataFrame, specs: Sequence[MultiValue], options: ReadOptions
) -> tuple[pd.DataFrame, list[str], dict[str, tuple[str, str]]]:
    """Replace each multi-value column by its presence columns, in place.

    Parts of a cell are stripped; empty parts, declared null tokens and (with
    ``absent_zero``) zeros are dropped. An undeclared column gets exactly
    ``max_values`` presence columns, the unused ones empty and nameless in
    any output.

    Returns:
        The new frame of text cells, the input column of each of its columns,
        and ``{presence column: (input column, value)}`` for real values.

    Raises:
        DataError: When a cell holds an undeclared value, or an undeclared
            column holds more than ``max_values`` distinct values.
    """
    frame = frame.reset_index(drop=True)
    by_column = {m.column: m for m in specs}
    data: dict[str, npt.NDArray[np.object_]] = {}
    origin: list[str] = []
    presence: dict[str, tuple[str, str]] = {}
    for name in frame.columns:
        cells = frame[name].astype(str).str.strip()
        spec = by_column.get(str(name))
        if spec is None:
            data[str(name)] = cells.to_numpy(dtype=object)
            origin.append(str(name))
            continue
        parts = cells.str.split(spec.delimiter, regex=False).explode().str.strip()
        drop = (parts == "") | parts.isin(options.null_tokens)
        if options.zero_is_absent(spec.column):
            drop |= pd.to_numeric(parts, errors="coerce") == 0
        parts = parts[~drop]
        values = _presence_values(spec, parts)
        rows = parts.index.to_numpy(dtype=np.int64)
        where = {v: i for i, v in enumerate(values)}
        width = spec.max_values if spec.values is None else len(values)
        held = np.zeros((len(frame), width), dtype=bool)
        held[rows, parts.map(where).to_numpy(dtype=np.int64)] = True
        for i in range(held.shape[1]):
            if i < len(values):
                column = presence_name(spec.column, values[i])
                presence[column] = (spec.column, values[i])
            else:
                # Unused slots keep the column count public; nothing is in them.
                column = presence_name(spec.column, f"\x00{i}")
            if column in data or column in frame.columns:
                raise DataError(
                    f"the presence column {column!r} of multi-value column "
                    f"{spec.column!r} clashes with another column; rename one"
                )
            data[column] = np.where(held[:, i], "1", "").astype(object)
            origin.append(spec.column)
    return pd.DataFrame(data, dtype=str), origin, presence


def _presence_values(spec: MultiValue, parts: pd.Series) -> tuple[str, ...]:
    found = pd.unique(parts.to_numpy(dtype=object))
    if spec.values is not None:
        unknown = parts[~parts.isin(spec.values)]
        if len(unknown):
            raise DataError(
                f"multi-value column {spec.column!r} holds {unknown.iloc[0]!r} in "
                f"record {int(unknown.index[0]) + 1}, which is not among its "
                f"declared values ({len(unknown)} such parts); add it to the "
                "declared values or fix the cells"
            )
        return spec.values
    if len(found) > spec.max_values:
        raise DataError(
            f"multi-value column {spec.column!r} holds {len(found)} distinct "
            f"values, more than max_values {spec.max_values}; declare the values "
            "it may hold, or raise max_values"
        )
    return tuple(sorted(str(v) for v in found))


def join_multi_value(
    frame: pd.DataFrame, presence: Sequence[tuple[str, str]], delimiter: str
) -> pd.Series:
    """Join presence columns back into one multi-value cell per row.

    Args:
        frame: Records holding the presence columns (``"1"`` where present).
        presence: ``(presence column, value)`` pairs in the order the values
            are written.
        delimiter: Text between two values.

    Returns:
        The joined cells, ``pd.NA`` where no value is present.
    """
    joined = np.full(len(frame), "", dtype=object)
    for column, value in presence:
        held = (frame[column] == "1").fillna(False).to_numpy(dtype=bool)
        sep = np.where(joined[held] == "", "", delimiter)
        joined[held] = joined[held] + sep + value
    cells = pd.Series(joined, index=frame.index, dtype="object")
    return cells.where(cells != "", pd.NA)


@dataclass(frozen=True)
class SubjectConsistency:
    """Which input columns vary within a subject (sensitive: stays local).

    Attributes:
        columns: The input attribute columns, in input order.
        varying: For each column, the number of subjects whose rows differ.
        examples: For each column, up to five ids of such subjects.
        subjects: Number of subjects.
        multi_row_subjects: Number of subjects with two rows or more.
    """

    columns: tuple[str, ...]
    varying: tuple[int, ...]
    examples: tuple[tuple[str, ...], ...]
    subjects: int
    multi_row_subjects: int

    def consistent_columns(self) -> tuple[str, ...]:
        """Columns in which every subject is consistent."""
        return tuple(
            c for c, v in zip(self.columns, self.varying, strict=True) if v == 0
        )

    def report(self) -> str:
        """A plain-text table for the data steward (holds true counts and ids)."""
        lines = [
            f"{self.subjects} subjects, {self.multi_row_subjects} with several rows",
            "column: subjects whose rows differ (example ids)",
        ]
        for column, count, ids in zip(
            self.columns, self.varying, self.examples, strict=True
        ):
            shown = f" ({', '.join(ids)})" if ids else ""
            lines.append(f"  {column}: {count}{shown}")
        return "\n".join(lines)

    def require_consistent(self, columns: Sequence[str]) -> None:
        """Refuse declared subject columns that vary within a subject.

        Raises:
            DataError: Naming each varying column, how many subjects vary and
                up to five of their ids.
        """
        bad = [
            f"{c!r} varies within {n} subject(s) (for example {', '.join(ids)})"
            for c, n, ids in zip(self.columns, self.varying, self.examples, strict=True)
            if c in set(columns) and n
        ]
        if bad:
            raise DataError(
                "columns declared subject-level must hold the same value on all "
                f"rows of a subject, but {'; '.join(bad)}. Make those rows agree, "
                "declare the column link-level, or leave the levels undeclared "
                "so they are detected"
            )


def check_consistency(linked: LinkedTable) -> SubjectConsistency:
    """Count, per input column, the subjects whose rows differ (exact, sensitive)."""
    grouped = _Grouped.of(linked.table)
    columns = linked.attributes
    varies = grouped.varying()
    varying: list[int] = []
    examples: list[tuple[str, ...]] = []
    for column in columns:
        members = [j for j, o in enumerate(linked.origin) if o == column]
        mask = varies[:, members].any(axis=1) if members else np.zeros(0, bool)
        found = np.flatnonzero(mask)
        varying.append(int(found.size))
        examples.append(
            tuple(str(linked.sensitive_subject_labels[s]) for s in found[:_EXAMPLES])
        )
    return SubjectConsistency(
        columns=columns,
        varying=tuple(varying),
        examples=tuple(examples),
        subjects=grouped.n_subjects,
        multi_row_subjects=int((grouped.rows > 1).sum()),
    )


@dataclass(frozen=True)
class LinkedLayout:
    """Which input columns are subject-level and which link-level (public).

    Attributes:
        subject_columns: Subject-level input columns, in input order.
        link_columns: Link-level input columns, in input order.
        detected: Whether the split was detected (privately) rather than
            declared.
    """

    subject_columns: tuple[str, ...]
    link_columns: tuple[str, ...]
    detected: bool


def declared_layout(
    attributes: Sequence[str],
    subject_columns: Sequence[str] | None,
    link_columns: Sequence[str] | None,
) -> LinkedLayout | None:
    """The layout the user declared; ``None`` when neither list is given.

    Naming one list declares every other attribute to be of the other kind.

    Raises:
        ParameterError: When a name is not an attribute, is in both lists, or
            the two lists leave attributes out.
    """
    if subject_columns is None and link_columns is None:
        return None
    given = {"subject_columns": subject_columns, "link_columns": link_columns}
    for setting, names in given.items():
        unknown = [n for n in names or () if n not in attributes]
        if unknown:
            raise ParameterError(
                f"{setting} names {', '.join(map(repr, unknown))}, not among the "
                f"attributes {', '.join(attributes)}; fix the column names"
            )
    subjects = set(subject_columns or ())
    links = set(link_columns or ())
    both = sorted(subjects & links)
    if both:
        raise ParameterError(
            f"{', '.join(map(repr, both))} is declared both subject-level and "
            "link-level; declare each column once"
        )
    if subject_columns is None:
        subjects = set(attributes) - links
    elif link_columns is None:
        links = set(attributes) - subjects
    left = [c for c in attributes if c not in subjects | links]
    if left:
        raise ParameterError(
            f"{', '.join(map(repr, left))} is declared neither subject-level nor "
            "link-level; add it to one list, or give only one of the lists"
        )
    return LinkedLayout(
        tuple(c for c in attributes if c in subjects),
        tuple(c for c in attributes if c in links),
        detected=False,
    )


def decide_layout(
    attributes: Sequence[str],
    protected_varying: Sequence[float],
    protected_multi_row: float,
    tolerance: float,
    noise_scale: float = 0.0,
) -> LinkedLayout:
    """Classify columns from protected counts of subjects whose rows differ.

    A column is subject-level when the protected number of subjects whose
    rows differ in it is at most ``tolerance`` times the protected number of
    subjects with several rows, or within four noise scales of zero (with
    few subjects of several rows, a count that small is noise; four scales,
    because a file has many columns and each is one chance of a large
    draw). Reads protected counts only, so the decision is post-processing.

    >>> decide_layout(["A", "B"], [3.0, 400.0], 1000.0, 0.05).subject_columns
    ('A',)
    """
    limit = max(tolerance * max(protected_multi_row, 0.0), 4.0 * noise_scale)
    subjects = tuple(
        c for c, v in zip(attributes, protected_varying, strict=True) if v <= limit
    )
    links = tuple(c for c in attributes if c not in subjects)
    return LinkedLayout(subjects, links, detected=True)


def subject_table(
    linked: LinkedTable, layout: LinkedLayout, bins: LinkBins, links_column: str
) -> EncodedTable:
    """One row per subject: its subject-level values and its binned links.

    Each subject's value in a subject column is the value most of its rows
    hold, a present value winning over absent cells (ties go to the first
    category). A subject that varies keeps one row all the same, built from
    its own rows only, so adding or removing a subject adds or removes one
    row here.
    """
    grouped = _Grouped.of(linked.table)
    columns = linked.columns_of(layout.subject_columns)
    index = [linked.table.columns.index(c) for c in columns]
    values = grouped.consolidated(index, linked.table.cardinalities[index])
    links = bins.bin_of(grouped.rows)[:, None]
    return EncodedTable(
        columns=(*columns, links_column),
        categories=(*(linked.table.categories[j] for j in index), bins.labels()),
        codes=np.ascontiguousarray(np.concatenate([values, links], axis=1)),
    )


def link_table(
    linked: LinkedTable,
    layout: LinkedLayout,
    bins: LinkBins,
    links_column: str | None,
) -> EncodedTable:
    """One row per link: the subject's values, its binned links, the link's values.

    The subject values are those of :func:`subject_table`, repeated on each
    of the subject's rows; ``links_column=None`` leaves the number of links
    out. The table keeps the subject numbers, so measuring it bounds what one
    subject adds with all of its rows.
    """
    source = linked.table
    ids = source.subject_ids
    assert ids is not None
    subjects = subject_table(linked, layout, bins, links_column or LINKS_COLUMN)
    keep = subjects.n_columns - (0 if links_column else 1)
    link_columns = linked.columns_of(layout.link_columns)
    index = [source.columns.index(c) for c in link_columns]
    codes = np.concatenate([subjects.codes[ids, :keep], source.codes[:, index]], axis=1)
    return EncodedTable(
        columns=(*subjects.columns[:keep], *link_columns),
        categories=(
            *subjects.categories[:keep],
            *(source.categories[j] for j in index),
        ),
        codes=np.ascontiguousarray(codes, dtype=np.int32),
        subject_ids=ids,
    )


@dataclass(frozen=True, kw_only=True)
class LinkedSchema:
    """Public description of a linked release's layout.

    Attributes:
        subject_id: Name of the subject id column.
        input_columns: Used input columns in input order, the id included.
        subject_columns: Subject-level input columns.
        link_columns: Link-level input columns.
        delimiters: ``(input column, delimiter)`` of each multi-value column.
        presence: ``(presence column, input column, value)`` of each released
            presence column; unreleased values never appear here.
        link_bins: The declared bins of links per subject.
        links_column: Name of the binned number-of-links column.
    """

    subject_id: str
    input_columns: tuple[str, ...]
    subject_columns: tuple[str, ...]
    link_columns: tuple[str, ...]
    delimiters: tuple[tuple[str, str], ...]
    presence: tuple[tuple[str, str, str], ...]
    link_bins: LinkBins
    links_column: str

    def presence_of(self, column: str) -> list[tuple[str, str]]:
        """``(presence column, value)`` pairs of multi-value ``column``."""
        return [(p, v) for p, c, v in self.presence if c == column]


def links_column_name(input_columns: Sequence[str]) -> str:
    """:data:`LINKS_COLUMN`, lengthened with ``_`` until it names no input column."""
    name = LINKS_COLUMN
    while name in input_columns:
        name += "_"
    return name


@dataclass(frozen=True, eq=False)
class _Grouped:
    """Rows sorted by subject (sensitive)."""

    codes: npt.NDArray[np.int32]
    starts: IntArray
    rows: IntArray

    @classmethod
    def of(cls, table: EncodedTable) -> _Grouped:
        ids = table.subject_ids
        assert ids is not None
        order = np.argsort(ids, kind="stable")
        # Subject numbers are 0..S-1 in order of first appearance.
        starts = np.flatnonzero(np.diff(ids[order], prepend=-1)).astype(np.int64)
        rows = np.diff(np.append(starts, ids.size)).astype(np.int64)
        return cls(table.codes[order], starts, rows)

    @property
    def n_subjects(self) -> int:
        return int(self.starts.size)

    def varying(self) -> npt.NDArray[np.bool_]:
        """``(subjects, columns)``: whether the subject's cells differ."""
        if self.codes.shape[0] == 0:
            return np.zeros((0, self.codes.shape[1]), dtype=bool)
        low = np.minimum.reduceat(self.codes, self.starts, axis=0)
        high = np.maximum.reduceat(self.codes, self.starts, axis=0)
        return np.asarray(low != high)

    def consolidated(
        self, index: Sequence[int], cardinalities: IntArray
    ) -> npt.NDArray[np.int32]:
        """Each subject's most frequent present value per column, else absent."""
        subject = np.repeat(np.arange(self.n_subjects), self.rows)
        result = np.full((self.n_subjects, len(index)), ABSENT, dtype=np.int32)
        for out, (j, card) in enumerate(
            zip(index, cardinalities.tolist(), strict=True)
        ):
            codes = self.codes[:, j].astype(np.int64)
            present = codes != ABSENT
            if not present.any():
                continue
            keys, counts = np.unique(
                subject[present] * card + codes[present], return_counts=True
            )
            owner, value = keys // card, keys % card
            order = np.lexsort((value, -counts, owner))
            first = np.ones(order.size, dtype=bool)
            first[1:] = owner[order][1:] != owner[order][:-1]
            chosen = order[first]
            result[owner[chosen], out] = value[chosen]
        return result
