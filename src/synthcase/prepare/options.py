"""Settings for reading and encoding a case file.

:class:`ReadOptions` gathers every choice the read and prepare stage makes:
which columns and records to use, which cells count as absent, how to split
lines into fields, what the columns are called when a file has no header line,
which numeric columns to bin and which columns have a declared (public) list
of values. It is frozen and checked
when built, so a bad setting fails before any sensitive data is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import get_args

from synthcase.errors import ParameterError
from synthcase.prepare.binning import BinSpec, OutOfRange
from synthcase.prepare.values import ValueList

__all__ = ["ReadOptions"]


@dataclass(frozen=True, kw_only=True)
class ReadOptions:
    """How to read a case file and turn it into categories.

    Attributes:
        columns: Columns to use, in the order given; ``None`` uses all
            columns in input order.
        record_limit: Use only the first this many records (at least 1);
            ``None`` uses all.
        null_tokens: Cell texts that mean "absent", compared after stripping
            surrounding whitespace, case-sensitive (e.g. ``("N",)``). Empty
            and whitespace-only cells are always absent.
        absent_zero: ``True`` treats a zero ("0", "0.0", "00") as absent in
            every column; a tuple of names does so only in those columns.
        delimiter: Field delimiter; ``None`` detects comma, tab, semicolon or
            pipe (tab by default for ``.tsv`` and ``.tab`` files).
        bins: Declared intervals for numeric columns, at most one per column.
        values: Declared value lists for categorical columns, at most one per
            column and never for a binned column; the declared values become
            the column's public categories.
        max_categories: A column that is not binned and has more distinct
            values than this is refused (at least 1).
        out_of_range: What to do with a binned value outside its declared
            edges: ``"error"`` refuses the data, ``"clip"`` folds it into the
            nearest outer interval, ``"absent"`` marks the cell absent. For a
            value outside its declared list, ``"absent"`` marks the cell
            absent and both other choices refuse the data.
        subject_id: Column naming the privacy unit when one subject owns
            several rows (for example ``"victim_id"``); it is not an
            attribute and is never released. ``None``: each row is a unit.
        names: Column names for a file without a header line, one per field:
            then every line of the file is a record. ``None``: the first line
            of a file names the columns. Ignored for a DataFrame, whose
            columns are already named.

    Raises:
        ParameterError: When a setting is outside its allowed range.
    """

    columns: tuple[str, ...] | None = None
    record_limit: int | None = None
    null_tokens: tuple[str, ...] = ()
    absent_zero: bool | tuple[str, ...] = False
    delimiter: str | None = None
    bins: tuple[BinSpec, ...] = ()
    values: tuple[ValueList, ...] = ()
    max_categories: int = 100
    out_of_range: OutOfRange = "error"
    subject_id: str | None = None
    names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.subject_id is not None and not str(self.subject_id).strip():
            raise ParameterError(
                "subject_id is empty; name the column that identifies subjects, "
                "for example --subject-id victim_id"
            )

        if self.columns is not None:
            columns = _names("columns", self.columns)
            if not columns:
                raise ParameterError(
                    "columns is empty; name at least one column or pass None to "
                    "use all columns"
                )
            object.__setattr__(self, "columns", columns)
        if self.names is not None:
            object.__setattr__(self, "names", _header_names(self.names))
        _check_count("record_limit", self.record_limit, optional=True)
        _check_count("max_categories", self.max_categories, optional=False)
        object.__setattr__(self, "null_tokens", _tokens(self.null_tokens))
        if not isinstance(self.absent_zero, bool):
            object.__setattr__(
                self, "absent_zero", _names("absent_zero", self.absent_zero)
            )
        _check_delimiter(self.delimiter)
        self._check_bins()
        self._check_values()
        if self.out_of_range not in get_args(OutOfRange):
            raise ParameterError(
                f"out_of_range is {self.out_of_range!r}; choose one of "
                f"{', '.join(get_args(OutOfRange))}"
            )
        self._check_within_columns()
        if self.subject_id is not None and self.subject_id in (self.columns or ()):
            raise ParameterError(
                f"the subject id column {self.subject_id!r} is also listed among "
                "the columns; it identifies subjects and is never released, so "
                "remove it from columns"
            )

    def _check_bins(self) -> None:
        bins = tuple(self.bins)
        for spec in bins:
            if not isinstance(spec, BinSpec):
                raise ParameterError(
                    f"bins holds {spec!r}; give BinSpec objects, e.g. "
                    "BinSpec.parse('AGEP=0,18,65,120')"
                )
        seen: set[str] = set()
        for spec in bins:
            if spec.column in seen:
                raise ParameterError(
                    f"bins declares column {spec.column!r} more than once; keep "
                    "one bin spec per column"
                )
            seen.add(spec.column)
        object.__setattr__(self, "bins", bins)

    def _check_values(self) -> None:
        if self.values is None:
            object.__setattr__(self, "values", ())
        if isinstance(self.values, ValueList):
            object.__setattr__(self, "values", (self.values,))
        if isinstance(self.values, str) or not isinstance(self.values, Iterable):
            raise ParameterError(
                f"values is {self.values!r}; give a sequence of ValueList "
                "objects, e.g. (ValueList.parse('SEX=1,2'),)"
            )
        lists = tuple(self.values)
        for entry in lists:
            if not isinstance(entry, ValueList):
                raise ParameterError(
                    f"values holds {entry!r}; give ValueList objects, e.g. "
                    "ValueList.parse('SEX=1,2')"
                )
        columns = [entry.column for entry in lists]
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise ParameterError(
                f"values declares column {', '.join(map(repr, repeated))} more "
                "than once; keep one value list per column"
            )
        binned = sorted(set(columns) & {spec.column for spec in self.bins})
        if binned:
            raise ParameterError(
                f"column {', '.join(map(repr, binned))} has both bins and a value "
                "list; a binned column's categories are its intervals, so keep "
                "only one of the two"
            )
        for entry in lists:
            self._check_not_absent(entry)
        object.__setattr__(self, "values", lists)

    def _check_not_absent(self, entry: ValueList) -> None:
        """A declared value that the reading rules make absent is a mistake."""
        tokens = [v for v in entry.values if v in self.null_tokens]
        if tokens:
            raise ParameterError(
                f"the value list of column {entry.column!r} declares "
                f"{', '.join(map(repr, tokens))}, which is also an absent marker "
                "(null token), so no cell could hold it; remove it from the list "
                "or from the null tokens"
            )
        if self.zero_is_absent(entry.column):
            zeros = [v for v in entry.values if _is_zero(v)]
            if zeros:
                raise ParameterError(
                    f"the value list of column {entry.column!r} declares "
                    f"{', '.join(map(repr, zeros))}, but zero is absent in that "
                    "column (absent zero); remove it from the list or stop "
                    "treating zero as absent there"
                )

    def _check_within_columns(self) -> None:
        if self.columns is None:
            return
        named = {
            "bins": tuple(spec.column for spec in self.bins),
            "values": tuple(entry.column for entry in self.values),
        }
        if isinstance(self.absent_zero, tuple):
            named["absent_zero"] = self.absent_zero
        for setting, names in named.items():
            extra = [name for name in names if name not in self.columns]
            if extra:
                raise ParameterError(
                    f"{setting} names {', '.join(map(repr, extra))}, not among "
                    f"the selected columns {', '.join(self.columns)}; add it to "
                    f"columns or remove it from {setting}"
                )

    @property
    def bin_specs(self) -> dict[str, BinSpec]:
        """The bin specs keyed by column name."""
        return {spec.column: spec for spec in self.bins}

    @property
    def value_lists(self) -> dict[str, tuple[str, ...]]:
        """The declared values keyed by column name."""
        return {entry.column: entry.values for entry in self.values}

    @property
    def public_domains(self) -> dict[str, tuple[str, ...]]:
        """Categories known without reading the data: bin labels and value lists."""
        domains = {spec.column: spec.labels() for spec in self.bins}
        domains.update(self.value_lists)
        return domains

    def zero_is_absent(self, column: str) -> bool:
        """Return whether a zero in ``column`` counts as absent."""
        if isinstance(self.absent_zero, bool):
            return self.absent_zero
        return column in self.absent_zero


def _is_zero(text: str) -> bool:
    try:
        return float(text) == 0.0
    except ValueError:
        return False


def _names(setting: str, names: Iterable[str]) -> tuple[str, ...]:
    if isinstance(names, str):
        raise ParameterError(
            f"{setting} is the single string {names!r}; give a tuple of column "
            f"names, e.g. ({names!r},)"
        )
    result = tuple(names)
    for name in result:
        if not isinstance(name, str) or not name.strip():
            raise ParameterError(
                f"{setting} holds {name!r}; every entry must be a non-empty column name"
            )
    duplicates = sorted({name for name in result if result.count(name) > 1})
    if duplicates:
        raise ParameterError(
            f"{setting} names {', '.join(map(repr, duplicates))} more than once; "
            "list each column once"
        )
    return result


def _header_names(names: Iterable[str]) -> tuple[str, ...]:
    result = _names("names", names)
    if not result:
        raise ParameterError(
            "names is empty; give one name per field of the file, e.g. "
            "('age', 'sex'), or None when the file has a header line"
        )
    for name in result:
        if name != name.strip():
            raise ParameterError(
                f"names holds {name!r} with surrounding whitespace; column names "
                f"are stripped when read, so give {name.strip()!r}"
            )
    return result


def _tokens(tokens: Iterable[str]) -> tuple[str, ...]:
    if isinstance(tokens, str):
        raise ParameterError(
            f"null_tokens is the single string {tokens!r}; give a tuple, e.g. "
            f"({tokens!r},)"
        )
    result = tuple(tokens)
    for token in result:
        if not isinstance(token, str) or not token.strip():
            raise ParameterError(
                f"null_tokens holds {token!r}; give non-empty texts (empty cells "
                "are always absent)"
            )
        if token != token.strip():
            raise ParameterError(
                f"null_tokens holds {token!r} with surrounding whitespace; cells "
                f"are stripped before comparing, so give {token.strip()!r}"
            )
    return result


def _check_count(setting: str, value: int | None, *, optional: bool) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(
            f"{setting} is {value!r}; give a whole number >= 1"
            + (" or None for no limit" if optional else "")
        )


def _check_delimiter(delimiter: str | None) -> None:
    if delimiter is None:
        return
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise ParameterError(
            f"delimiter is {delimiter!r}; give one character other than a quote "
            "or line break, e.g. ',' or '\\t', or None to detect it"
        )
