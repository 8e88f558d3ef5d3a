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
from pathlib import Path

import pandas as pd

from synthcase.errors import DataError
from synthcase.prepare.options import ReadOptions

__all__ = ["detect_delimiter", "read_frame", "select_records"]

logger = logging.getLogger(__name__)

_CANDIDATES = (",", "\t", ";", "|")
_SAMPLE_CHARS = 64 * 1024
_TAB_SUFFIXES = {".tsv", ".tab"}


def read_frame(
    source: str | os.PathLike[str] | pd.DataFrame, options: ReadOptions
) -> pd.DataFrame:
    """Read records as text cells, restricted to the chosen columns and records.

    Args:
        source: Path of a UTF-8 CSV or TSV file with a header line, or a
            DataFrame (its cells are converted to text; missing cells become
            empty).
        options: The columns, record limit and delimiter to use.

    Returns:
        A frame of string cells stripped of surrounding whitespace, with the
        selected columns in the order of ``options.columns`` (input order when
        it is ``None``).

    Raises:
        DataError: When the file is missing, empty, not UTF-8 or ragged, or a
            column is unnamed, named twice or not found.
    """
    if isinstance(source, pd.DataFrame):
        frame = _text_frame(source, "the DataFrame")
        name = "a DataFrame"
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

    Raises:
        DataError: When a selected column is not in ``frame``.
    """
    if options.columns is not None:
        missing = [c for c in options.columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"{name} has no column {', '.join(map(repr, missing))}; the "
                f"available columns are {', '.join(map(str, frame.columns))}. "
                "Fix the column names given to --columns."
            )
        frame = frame.loc[:, list(options.columns)]
    if options.record_limit is not None:
        frame = frame.iloc[: options.record_limit]
    return frame


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
            "the columns, then one line per record"
        )
    delimiter = options.delimiter
    if delimiter is None and path.suffix.lower() in _TAB_SUFFIXES:
        delimiter = "\t"
    if delimiter is None:
        sample = text[:_SAMPLE_CHARS]
        delimiter = detect_delimiter(sample, complete=len(sample) == len(text))

    header, rows = _split(text, delimiter, path.name, options.record_limit)
    if not rows:
        raise DataError(
            f"input file {path.name!r} has a header line but no records; add the "
            "records below the header"
        )
    return _strip(pd.DataFrame(rows, columns=header, dtype=str))


def _split(
    text: str, delimiter: str, name: str, limit: int | None
) -> tuple[list[str], list[list[str]]]:
    """Return the header and up to ``limit`` records of CSV text."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    rows: list[list[str]] = []
    try:
        header = [
            field.strip() for field in next(r for r in reader if not _is_blank(r))
        ]
        _check_header(header, name)
        for row in itertools.islice((r for r in reader if not _is_blank(r)), limit):
            if len(row) != len(header):
                raise DataError(
                    f"line {reader.line_num} of {name!r} has {len(row)} fields but "
                    f"the header has {len(header)} (delimiter {delimiter!r}); check "
                    "the quoting of that line, or pass the right delimiter with "
                    "--delimiter"
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
                f"column {position} of {name!r} has no name; give every column a "
                "name in the header line"
            )
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise DataError(
            f"{name!r} has more than one column named "
            f"{', '.join(map(repr, duplicates))}; rename them so every column "
            "name is unique"
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
