"""Encoding text cells as categories: the :class:`EncodedTable` of a case file.

:func:`encode` decides, for every cell, whether it is absent and otherwise
which category it holds:

* A cell is absent when it is empty or whitespace, equals a declared null
  token, or is zero in a column where zero is declared absent ("0", "0.0" and
  "00" are all zero).
* A binned column is read as numbers and each number is mapped to its
  declared interval. Its categories are all declared interval labels, in
  order, including intervals no record falls in: bins are public, so listing
  them reveals nothing.
* A column with a declared value list takes the declared values as its
  categories, in the declared order, including values no record holds: like
  bins they are public. A cell outside the list is refused, or marked absent
  with ``out_of_range="absent"``.
* Any other column keeps its distinct texts as categories, sorted numerically
  when all of them are numbers and lexicographically otherwise. A column with
  more distinct values than ``max_categories`` is refused with a message that
  shows how to bin it; the message never proposes edges or bounds taken from
  the data, which would leak its extremes.

The category labels of any other column come from the sensitive data and
stay sensitive (see :mod:`synthcase.prepare.table`).
"""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np
import numpy.typing as npt
import pandas as pd

from synthcase.errors import DataError
from synthcase.prepare.binning import BinSpec, assign_bins, format_edge
from synthcase.prepare.options import ReadOptions
from synthcase.prepare.reading import no_records, read_frame, select_records
from synthcase.prepare.table import ABSENT, EncodedTable

__all__ = ["encode", "load_table", "subject_ids", "to_frame"]

logger = logging.getLogger(__name__)


def load_table(
    source: str | os.PathLike[str] | pd.DataFrame, options: ReadOptions
) -> EncodedTable:
    """Read a case file or DataFrame and encode it; see :func:`read_frame`.

    With ``options.subject_id`` the subject column is read too, taken out of
    the attributes and kept as the table's subject ids.
    """
    if options.subject_id is None:
        return encode(read_frame(source, options), options)
    column = options.subject_id
    reading = options
    if options.columns is not None:
        reading = dataclasses.replace(
            options, columns=(*options.columns, column), subject_id=None
        )
    frame = read_frame(source, reading)
    if column not in frame.columns:
        raise DataError(
            f"the subject id column {column!r} is not in the data; the columns "
            f"are {', '.join(map(str, frame.columns))}. Fix --subject-id"
        )
    ids = subject_ids(frame[column])
    attributes = frame.drop(columns=[column])
    table = encode(attributes, dataclasses.replace(options, subject_id=None))
    return EncodedTable(
        table.columns, table.categories, table.codes, ids, public=table.public
    )


def subject_ids(cells: pd.Series) -> npt.NDArray[np.int64]:
    """Number the subjects of a subject id column; empty ids are refused.

    Raises:
        DataError: When some rows have no subject id, naming how many and
            the first few record numbers (1 = first record after the header).
    """
    text = cells.astype(object).where(cells.notna(), "").astype(str).str.strip()
    empty = np.flatnonzero((text == "").to_numpy())
    if empty.size:
        first = ", ".join(str(int(i) + 1) for i in empty[:5])
        raise DataError(
            f"{empty.size} record(s) have an empty subject id in column "
            f"{cells.name!r} (records {first}{', ...' if empty.size > 5 else ''}); "
            "every row must name its subject: fill them in or remove those rows"
        )
    codes, _ = pd.factorize(text, sort=False)
    return np.asarray(codes, dtype=np.int64)


def encode(frame: pd.DataFrame, options: ReadOptions) -> EncodedTable:
    """Encode text cells as category codes.

    Args:
        frame: Records, one column per attribute; cells are read as text
            (missing cells count as empty). Usually the result of
            :func:`~synthcase.prepare.reading.read_frame`.
        options: Absent-cell rules, bins and the category limit; the column
            selection and record limit are applied again, which changes
            nothing for a frame from ``read_frame``.

    Returns:
        The encoded table, columns in the frame's (selected) order. A column
        whose cells are all absent is kept, with no categories.

    Raises:
        DataError: When the frame has no records, a column is unnamed or
            named twice, a bin or absent-zero column is missing, a binned cell
            is not a number or is outside the declared edges (with
            ``out_of_range="error"``), or a column has more distinct values
            than ``options.max_categories``.
    """
    frame = select_records(frame, options)
    if len(frame) == 0:
        raise DataError(no_records("the data"))
    names = [str(name) for name in frame.columns]
    _check_columns(names, options)
    specs = options.bin_specs
    declared = options.value_lists
    codes = np.empty((len(frame), len(names)), dtype=np.int32)
    categories: list[tuple[str, ...]] = []

    for j, name in enumerate(names):
        text = frame.iloc[:, j].astype(object).where(frame.iloc[:, j].notna(), "")
        cells = text.astype(str).str.strip().to_numpy(dtype=object)
        numbers = _as_numbers(cells)
        absent = (cells == "") | np.isin(cells, options.null_tokens)
        if options.zero_is_absent(name):
            absent |= numbers == 0
        if name in specs:
            column_codes, labels = _encode_binned(
                name, cells, numbers, absent, specs[name], options
            )
        elif name in declared:
            column_codes, labels = _encode_declared(
                name, cells, absent, declared[name], options
            )
        else:
            column_codes, labels = _encode_labels(name, cells, absent, options)
        codes[:, j] = column_codes
        categories.append(labels)

    if specs:
        logger.info(
            "binned columns (declared intervals, values outside them: %s): %s",
            options.out_of_range,
            "; ".join(specs[name].to_text() for name in names if name in specs),
        )
    if declared:
        logger.info(
            "columns with declared value lists (values outside them: %s): %s",
            "absent" if options.out_of_range == "absent" else "error",
            ", ".join(name for name in names if name in declared),
        )
    public = tuple(name in specs or name in declared for name in names)
    return EncodedTable(
        columns=tuple(names),
        categories=tuple(categories),
        codes=codes,
        public=public if any(public) else (),
    )


def to_frame(table: EncodedTable) -> pd.DataFrame:
    """Return the records as labels, absent cells as ``pd.NA``.

    The columns keep the table's order and have the ``string`` dtype.
    """
    data = {}
    for j, name in enumerate(table.columns):
        # The appended None sits at index -1, so ABSENT codes pick it directly.
        labels = np.array([*table.categories[j], None], dtype=object)
        data[name] = pd.array(labels[table.codes[:, j]], dtype="string")
    return pd.DataFrame(data, columns=list(table.columns))


def _check_columns(names: list[str], options: ReadOptions) -> None:
    for position, name in enumerate(names, start=1):
        if not name.strip():
            raise DataError(
                f"column {position} has an empty name; give every column a name"
            )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DataError(
            f"more than one column is named {', '.join(map(repr, duplicates))}; "
            "rename them so every column name is unique"
        )
    declared = {
        "bins": [spec.column for spec in options.bins],
        "values": [entry.column for entry in options.values],
    }
    if isinstance(options.absent_zero, tuple):
        declared["absent_zero"] = list(options.absent_zero)
    for setting, columns in declared.items():
        missing = [c for c in columns if c not in names]
        if missing:
            raise DataError(
                f"{setting} names column {', '.join(map(repr, missing))}, which "
                f"the data does not have; the columns are {', '.join(names)}. "
                "Fix the column name."
            )


def _encode_binned(
    name: str,
    cells: npt.NDArray[np.object_],
    numbers: npt.NDArray[np.float64],
    absent: npt.NDArray[np.bool_],
    spec: BinSpec,
    options: ReadOptions,
) -> tuple[npt.NDArray[np.int32], tuple[str, ...]]:
    bad = ~absent & np.isnan(numbers)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"binned column {name!r} holds {cells[first]!r} in record {first + 1}, "
            f"which is not a number ({int(bad.sum())} such cells); fix those "
            "cells, or declare the text absent with --null-token "
            f"{cells[first]}"
        )
    index, outside = assign_bins(numbers, spec, options.out_of_range)
    outside &= ~absent
    if options.out_of_range == "error" and outside.any():
        first = int(np.flatnonzero(outside)[0])
        low, *_, high = (format_edge(e) for e in spec.resolved_edges())
        raise DataError(
            f"binned column {name!r} holds {cells[first]!r} in record {first + 1}, "
            f"outside the declared range [{low}, {high}] "
            f"({int(outside.sum())} such cells); widen the bins from what you "
            "know of the attribute, or pass --out-of-range clip or "
            "--out-of-range absent"
        )
    index[absent | outside] = ABSENT
    return index, spec.labels()


def _encode_declared(
    name: str,
    cells: npt.NDArray[np.object_],
    absent: npt.NDArray[np.bool_],
    values: tuple[str, ...],
    options: ReadOptions,
) -> tuple[npt.NDArray[np.int32], tuple[str, ...]]:
    position = pd.Index(values)
    found = np.asarray(position.get_indexer(pd.Index(cells)), dtype=np.int32)
    outside = ~absent & (found < 0)
    if outside.any() and options.out_of_range != "absent":
        first = int(np.flatnonzero(outside)[0])
        raise DataError(
            f"column {name!r} holds {cells[first]!r} in record {first + 1}, which "
            f"is not among its {len(values)} declared values "
            f"({int(outside.sum())} such cells); add it to the value list if it "
            "is a valid value, correct or recode those cells, or choose to mark "
            "values outside their list absent (out_of_range 'absent', "
            "--out-of-range absent on the command line)"
        )
    found[absent | outside] = ABSENT
    return found, values


def _encode_labels(
    name: str,
    cells: npt.NDArray[np.object_],
    absent: npt.NDArray[np.bool_],
    options: ReadOptions,
) -> tuple[npt.NDArray[np.int32], tuple[str, ...]]:
    present = ~absent
    found, uniques = pd.factorize(cells[present])
    if len(uniques) > options.max_categories:
        raise DataError(
            f"column {name!r} has {len(uniques)} distinct values, more than the "
            f"limit of {options.max_categories}. If it is numeric, bin it with "
            f"--bin {name}=EDGE1,EDGE2,...,EDGEn (explicit edges) or "
            f"--bin {name}=LOW..HIGH/COUNT (equal width over bounds you "
            "declare); choose edges and bounds from what you know of the "
            "attribute, not from the data. Otherwise leave the column out of "
            "--columns, or raise --max-categories"
        )
    labels = np.asarray(uniques, dtype=object)
    order = _natural_order(labels)
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    codes = np.full(len(cells), ABSENT, dtype=np.int32)
    codes[present] = rank[found]
    return codes, tuple(str(label) for label in labels[order])


def _as_numbers(cells: npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
    """Return the cells as numbers, NaN where a cell is not one."""
    parsed = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce")
    return np.asarray(parsed, dtype=np.float64)


def _natural_order(labels: npt.NDArray[np.object_]) -> npt.NDArray[np.intp]:
    """Return the order that sorts labels as numbers if all are, else as text."""
    numbers = _as_numbers(labels)
    text = labels.astype(str)
    if len(labels) and not np.isnan(numbers).any():
        # Distinct texts can share a value ("1" and "1.0"); the text breaks ties
        # so the order does not depend on which one came first.
        return np.lexsort((text, numbers))
    return np.argsort(text, kind="stable")
