"""Reading a case file into a frame of text cells.

:func:`read_frame` turns a CSV or TSV file, or a DataFrame already in memory,
into a :class:`pandas.DataFrame` whose every cell is a string stripped of
surrounding whitespace. Nothing is interpreted yet: which cells are absent and
which labels a column has is decided by :mod:`synthcase.prepare.encoding`.

Files are decoded as UTF-8 (a byte-order mark is dropped) and split with the
standard :mod:`csv` module, which handles quoted fields holding delimiters,
quotes and line breaks. When no delimiter is given, the one among comma, tab,
semicolon and pipe that splits the first lines into the same, largest number
of fields is used.

A file's first line names its columns unless ``ReadOptions.names`` gives the
names, in which case every line is a record. A first line with a number among
its fields is refused: it is almost surely a record, and taking it as the
header would both drop that record and publish its values as column names.

The INFO log names the file and the columns used, never how many records or
values it holds: those are true counts of the sensitive data.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import logging
import os
import re
from pathlib import Path

import pandas as pd

from synthcase.errors import DataError
from synthcase.prepare.options import ReadOptions

__all__ = ["detect_delimiter", "no_records", "read_frame", "select_records"]

logger = logging.getLogger(__name__)

_CANDIDATES = (",", "\t", ";", "|")
_SAMPLE_CHARS = 64 * 1024
_TAB_SUFFIXES = {".tsv", ".tab"}
# A plain decimal number, as a record's cell holds it; "inf" or "nan" are left
# alone since they read as words in a header.
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def read_frame(
    source: str | os.PathLike[str] | pd.DataFrame, options: ReadOptions
) -> pd.DataFrame:
    """Read records as text cells, restricted to the chosen columns and records.

    Args:
        source: Path of a UTF-8 CSV or TSV file with a header line (or
            without one when ``options.names`` names the columns), or a
            DataFrame (its cells are converted to text; missing cells become
            empty).
        options: The columns, record limit, delimiter and header names to
            use.

    Returns:
        A frame of string cells stripped of surrounding whitespace, with the
        selected columns in the order of ``options.columns`` (input order when
        it is ``None``).

    Raises:
        DataError: When the file is missing, empty, not UTF-8 or ragged, its
            first line looks like a record rather than column names, the data
            has no records, or a column is unnamed, named twice or not found.
    """
    if isinstance(source, pd.DataFrame):
        # A DataFrame often comes from a file read earlier, so messages call
        # it "the data" rather than assuming where it came from.
        name = "the data"
        frame = _text_frame(source, name)
        if len(frame) == 0:
            raise DataError(no_records(name))
    else:
        path = Path(source)
        frame = _read_file(path, options)
        name = path.name
    frame = select_records(frame, options, name)
    logger.info("read %s using columns: %s", name, ", ".join(frame.columns))
    return frame


def select_records(
    frame: pd.DataFrame, options: ReadOptions, name: str = "the data"
) -> pd.DataFrame:
    """Return ``frame`` restricted to ``options.columns`` and ``record_limit``.

    Args:
        frame: The records.
        options: The column selection and record limit.
        name: How messages call the data: a file name or "the data".

    Raises:
        DataError: When a selected column is not in ``frame``.
    """
    if options.columns is not None:
        missing = [c for c in options.columns if c not in frame.columns]
        if missing:
            noun = "column" if len(missing) == 1 else "columns"
            verb = "is" if len(missing) == 1 else "are"
            raise DataError(
                f"{noun} {', '.join(map(repr, missing))} {verb} not in {name}; "
                f"its columns are {', '.join(map(str, frame.columns))}. Fix the "
                "column names given to --columns"
            )
        frame = frame.loc[:, list(options.columns)]
    if options.record_limit is not None:
        frame = frame.iloc[: options.record_limit]
    return frame


def no_records(name: str) -> str:
    """Return the message refusing data that has columns but no records."""
    return (
        f"no records to release in {name}; the data has a header but no rows. "
        "Add the records below the header, or check that the right file or "
        "sheet was given"
    )


def detect_delimiter(sample: str, *, complete: bool = True) -> str:
    r"""Guess the field delimiter of CSV text.

    Each candidate (comma, tab, semicolon, pipe) splits the sample; the one
    that gives every line the same number of fields, and the most of them,
    wins. Ties go to the earlier candidate; text no candidate splits is read
    as a single comma-separated column.

    Args:
        sample: The start of the file.
        complete: ``False`` when ``sample`` is cut from a longer text, so its
            last record may be partial and is ignored.

    >>> detect_delimiter("a;b;c\n1,5;2;3\n")
    ';'
    """
    best, best_score = ",", (False, 1)
    for delimiter in _CANDIDATES:
        reader = csv.reader(
            io.StringIO(sample), delimiter=delimiter, skipinitialspace=True
        )
        rows = [row for row in reader if row]
        if not complete:
            rows = rows[:-1]
        if not rows:
            continue
        width = len(rows[0])
        score = (all(len(row) == width for row in rows), width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def _read_file(path: Path, options: ReadOptions) -> pd.DataFrame:
    if not path.is_file():
        where = "is a folder" if path.is_dir() else "does not exist"
        raise DataError(
            f"input file {str(path)!r} {where}; check the path, or pass a CSV or "
            "TSV file"
        )
    text = _decode(path)
    if not text.strip():
        raise DataError(
            f"input file {path.name!r} is empty; it needs a header line naming "
            "the columns (or names passed with --names), then one line per record"
        )
    delimiter = options.delimiter
    if delimiter is None and path.suffix.lower() in _TAB_SUFFIXES:
        delimiter = "\t"
    if delimiter is None:
        sample = text[:_SAMPLE_CHARS]
        delimiter = detect_delimiter(sample, complete=len(sample) == len(text))

    header, rows = _split(text, delimiter, path.name, options)
    if not rows:
        raise DataError(no_records(repr(path.name)))
    return _strip(pd.DataFrame(rows, columns=header, dtype=str))


def _split(
    text: str, delimiter: str, name: str, options: ReadOptions
) -> tuple[list[str], list[list[str]]]:
    """Return the header and up to ``options.record_limit`` records of CSV text."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    lines = (row for row in reader if not _is_blank(row))
    rows: list[list[str]] = []
    try:
        if options.names is None:
            first = next(lines, None)
            if first is None:
                raise DataError(
                    f"input file {name!r} holds no fields; it needs a header "
                    "line naming the columns, then one line per record"
                )
            header = [field.strip() for field in first]
            _check_header(header, repr(name))
            _check_not_a_record(header, name)
            expected = f"the header has {len(header)}"
        else:
            header = list(options.names)
            expected = f"names gives {len(header)} names"
        for row in itertools.islice(lines, options.record_limit):
            if len(row) != len(header):
                raise DataError(
                    f"line {reader.line_num} of {name!r} has {len(row)} fields but "
                    f"{expected} (delimiter {delimiter!r}); check the quoting of "
                    "that line, or pass the right delimiter with --delimiter"
                    + ("" if options.names is None else ", or the right --names")
                )
            rows.append(row)
    except csv.Error as error:
        raise DataError(
            f"line {reader.line_num} of {name!r} cannot be split into fields "
            f"({error}); check the quoting of that line"
        ) from None
    return header, rows


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError(
            f"input file {path.name!r} is UTF-16 text; re-save it as UTF-8 (in a "
            "spreadsheet: 'CSV UTF-8')"
        )
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise DataError(
            f"input file {path.name!r} is not valid UTF-8: byte "
            f"0x{raw[error.start]:02x} on line {line} cannot be decoded; re-save "
            "the file as UTF-8 (in a spreadsheet: 'CSV UTF-8')"
        ) from None


def _is_blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _check_header(header: list[str], name: str) -> None:
    for position, column in enumerate(header, start=1):
        if not column:
            raise DataError(
                f"column {position} of {name} has no name; give every column a "
                "name in the header line"
            )
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise DataError(
            f"{name} has more than one column named "
            f"{', '.join(map(repr, duplicates))}; rename them so every column "
            "name is unique"
        )


def _check_not_a_record(header: list[str], name: str) -> None:
    # Only the first numeric name is shown: the line is probably a sensitive
    # record, and the message should repeat as little of it as it can.
    for column in header:
        if _NUMBER.fullmatch(column):
            raise DataError(
                f"the first line of {name!r} looks like a record, not column "
                f"names (column {column!r} is a number); add a header line "
                "naming the columns, or pass the names with --names a,b,c"
            )


def _text_frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    header = [str(column).strip() for column in frame.columns]
    _check_header(header, name)
    text = frame.astype(object).where(frame.notna(), "").astype(str)
    text.columns = pd.Index(header)
    return _strip(text)


def _strip(frame: pd.DataFrame) -> pd.DataFrame:
    stripped = {name: frame[name].str.strip().to_numpy() for name in frame.columns}
    return pd.DataFrame(stripped, columns=frame.columns, dtype=str)
