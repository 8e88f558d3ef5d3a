"""Declared value lists: the public categories of a categorical column.

A data dictionary often lists every value a column may hold (``SEX`` is 1 or
2; ``EDU`` is one of 16 codes). Declaring that list makes the column's
categories public: they are the declared values, in the declared order,
whether or not a record holds them, so listing them reveals nothing about any
record. Without a declaration a column's categories are the texts found in the
records, which are sensitive, and the DP stages may only use the ones a noisy
count has released.

The DP stages gain twice: the one-value counts of a declared column need no
privacy threshold (every declared value gets noise, and a cut only keeps
values no record holds from being published), and the model mode measures
and synthesizes every declared value instead of only those the one-value
release published. Every count keeps its noise, so declaring a list never
makes a count less private; it only stops the list itself from being a
secret.

A value list reads ``COLUMN=V1,V2,...,Vn``; surrounding whitespace of each
value is ignored, as it is for cells:

>>> ValueList.parse("SEX=1,2").values
('1', '2')
>>> ValueList.parse("EDU = 1, 2, 3").to_text()
'EDU=1,2,3'
"""

from __future__ import annotations

from dataclasses import dataclass

from synthcase.errors import ParameterError

__all__ = ["MAX_VALUES", "ValueList"]

MAX_VALUES = 10_000
"""Most values one list may declare; more would only exhaust memory."""

_SYNTAX = "COLUMN=V1,V2,...,Vn (for example SEX=1,2)"


@dataclass(frozen=True)
class ValueList:
    """The declared values of one categorical column.

    Attributes:
        column: Name of the column.
        values: Its values as cell texts, each once, at most
            :data:`MAX_VALUES`; they become the column's categories in this
            order.

    Raises:
        ParameterError: When the column name is empty or a value is empty,
            repeated or not text.
    """

    column: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column.strip():
            raise ParameterError(
                f"value list column name is {self.column!r}; give the name of a "
                f"column, as in {_SYNTAX}"
            )
        if isinstance(self.values, str):
            raise ParameterError(
                f"the value list of column {self.column!r} is the single string "
                f"{self.values!r}; give a sequence of values, as in {_SYNTAX}"
            )
        values = tuple(self.values)
        if not values:
            raise ParameterError(
                f"the value list of column {self.column!r} is empty; declare at "
                f"least one value, as in {_SYNTAX}"
            )
        if len(values) > MAX_VALUES:
            raise ParameterError(
                f"the value list of column {self.column!r} has {len(values)} "
                f"values, more than the limit of {MAX_VALUES}; bin the column or "
                "declare fewer values"
            )
        for value in values:
            if not isinstance(value, str) or not value.strip():
                raise ParameterError(
                    f"the value list of column {self.column!r} holds {value!r}; "
                    "every value must be non-empty text (empty cells are always "
                    "absent)"
                )
            if value != value.strip():
                raise ParameterError(
                    f"the value list of column {self.column!r} holds {value!r} "
                    "with surrounding whitespace; cells are stripped when read, "
                    f"so declare {value.strip()!r}"
                )
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ParameterError(
                f"the value list of column {self.column!r} repeats "
                f"{', '.join(map(repr, repeated))}; declare each value once"
            )
        object.__setattr__(self, "column", self.column.strip())
        object.__setattr__(self, "values", values)

    @classmethod
    def parse(cls, text: str) -> ValueList:
        """Parse ``COLUMN=V1,V2,...,Vn``.

        Raises:
            ParameterError: When the text does not follow that form.
        """
        column, sep, rest = str(text).partition("=")
        if not sep or not column.strip():
            raise ParameterError(f"value list {text!r} is not of the form {_SYNTAX}")
        values = tuple(v.strip() for v in rest.split(","))
        if any(not v for v in values):
            raise ParameterError(
                f"value list {text!r} has an empty value; write {_SYNTAX}, with "
                "no empty entry (empty cells are always absent)"
            )
        return cls(column.strip(), values)

    def to_text(self) -> str:
        """The list in the form :meth:`parse` reads."""
        return f"{self.column}={','.join(self.values)}"
