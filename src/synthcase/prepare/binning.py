"""Declared bins: numeric columns turned into labelled intervals.

A numeric attribute with many distinct values (age, income) becomes a handful
of categories before anything is counted. The intervals are declared by the
user, from domain knowledge, never computed from the data: bins are public, so
their edges, their labels and the fact that a bin is empty reveal nothing about
any record. Edges or bounds taken from the data (its minimum, maximum or
quantiles) would leak those values unprotected, which is why this module
accepts only what the user states.

A bin spec is either explicit edges (``AGEP=0,18,30,65,120``) or equal-width
bins over declared bounds (``AGEP=0..120/12``). Intervals are closed on the
left and open on the right, except the last, which also holds its upper edge:

>>> BinSpec.parse("AGEP=0,18,65,120").labels()
('[0,18)', '[18,65)', '[65,120]')
>>> BinSpec.parse("SCORE=0..1/4").labels()
('[0,0.25)', '[0.25,0.5)', '[0.5,0.75)', '[0.75,1]')
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from synthcase.errors import ParameterError

__all__ = ["MAX_BINS", "BinSpec", "OutOfRange", "assign_bins", "format_edge"]

OutOfRange = Literal["error", "clip", "absent"]
"""What to do with a binned value outside the declared edges."""

MAX_BINS = 10_000
"""Most intervals one bin spec may declare; more would only exhaust memory."""

_SYNTAX = "COLUMN=E1,E2,...,En (explicit edges) or COLUMN=LOW..HIGH/COUNT (equal width)"


def format_edge(value: float) -> str:
    """Return ``value`` as written in a bin label.

    Whole numbers print without a decimal point; other numbers keep twelve
    significant digits, which hides the rounding noise of equal-width edges
    (``0.30000000000000004`` prints as ``0.3``).

    >>> format_edge(18.0), format_edge(-2.5), format_edge(0.1 * 3)
    ('18', '-2.5', '0.3')
    """
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".12g")


@dataclass(frozen=True, kw_only=True)
class BinSpec:
    """One numeric column turned into labelled intervals.

    Give either ``edges`` or all three of ``lower``, ``upper`` and ``count``.

    Attributes:
        column: Name of the column to bin.
        edges: Explicit interval edges, strictly increasing, at least two
            and at most :data:`MAX_BINS`.
        lower: Lower bound of equal-width bins.
        upper: Upper bound of equal-width bins, above ``lower``.
        count: Number of equal-width bins, from 1 to :data:`MAX_BINS`.

    Raises:
        ParameterError: When neither or both forms are given, or an edge,
            bound or count is outside its allowed range.
    """

    column: str
    edges: tuple[float, ...] | None = None
    lower: float | None = None
    upper: float | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column.strip():
            raise ParameterError(
                f"bin column name is {self.column!r}; give the name of a column, "
                f"as in {_SYNTAX}"
            )
        width_form = (self.lower, self.upper, self.count)
        if self.edges is not None:
            if any(v is not None for v in width_form):
                raise self._error(
                    "gives both edges and lower/upper/count; give only one form"
                )
            self._check_edges()
        elif any(v is None for v in width_form):
            raise self._error(
                "needs either edges or all of lower, upper and count; "
                f"got lower={self.lower}, upper={self.upper}, count={self.count}"
            )
        else:
            self._check_width_form()
        labels = self.labels()
        if len(set(labels)) != len(labels):
            raise self._error(
                "has edges too close together to label apart at twelve significant "
                "digits; use fewer or wider bins"
            )

    def _error(self, problem: str) -> ParameterError:
        return ParameterError(f"bin spec for column {self.column!r} {problem}")

    def _check_edges(self) -> None:
        assert self.edges is not None
        if len(self.edges) > MAX_BINS:
            raise self._error(
                f"has {len(self.edges)} edges, more than the limit of {MAX_BINS}; "
                "declare fewer, wider bins"
            )
        try:
            edges = tuple(float(e) for e in self.edges)
        except (TypeError, ValueError):
            raise self._error(
                f"has edges {self.edges!r}; edges must be numbers"
            ) from None
        if len(edges) < 2:
            raise self._error(
                f"has {len(edges)} edge(s); give at least two, as in "
                f"{self.column}=0,18,65"
            )
        if not all(math.isfinite(e) for e in edges):
            raise self._error(
                f"has edges {self.edges!r}; every edge must be a finite number "
                "(use out_of_range='clip' to fold values beyond the outer edges "
                "into the outer bins)"
            )
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise self._error(
                f"has edges {self.edges!r}; edges must be strictly increasing"
            )
        object.__setattr__(self, "edges", edges)

    def _check_width_form(self) -> None:
        assert self.lower is not None and self.upper is not None
        lower, upper, count = float(self.lower), float(self.upper), self.count
        if not (math.isfinite(lower) and math.isfinite(upper)) or lower >= upper:
            raise self._error(
                f"has bounds {self.lower}..{self.upper}; give finite bounds with "
                "lower < upper"
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise self._error(
                f"has count {count!r}; the number of bins must be a whole number >= 1"
            )
        if count > MAX_BINS:
            # Checked before any edge is computed: the edges and labels of a
            # huge count would fill the memory before anything else failed.
            raise self._error(
                f"has {count} bins, more than the limit of {MAX_BINS}; declare "
                "fewer, wider bins"
            )
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    def resolved_edges(self) -> tuple[float, ...]:
        """Return the interval edges, computing equal-width edges if needed."""
        if self.edges is not None:
            return self.edges
        assert self.lower is not None and self.upper is not None
        assert self.count is not None
        # linspace puts the outer edges exactly on the declared bounds, so the
        # last interval ends at ``upper`` and no declared value falls outside.
        return tuple(
            float(e) for e in np.linspace(self.lower, self.upper, self.count + 1)
        )

    def labels(self) -> tuple[str, ...]:
        """Return one label per interval, in increasing order.

        >>> BinSpec(column="AGEP", edges=(0, 18, 120)).labels()
        ('[0,18)', '[18,120]')
        """
        text = [format_edge(e) for e in self.resolved_edges()]
        last = len(text) - 2
        return tuple(
            f"[{a},{b}{']' if i == last else ')'}"
            for i, (a, b) in enumerate(itertools.pairwise(text))
        )

    def to_text(self) -> str:
        """Return the shorthand that :meth:`parse` reads back into this spec.

        >>> BinSpec.parse("AGEP=0..120/12").to_text()
        'AGEP=0..120/12'
        """
        if self.edges is not None:
            return f"{self.column}=" + ",".join(format_edge(e) for e in self.edges)
        assert self.lower is not None and self.upper is not None
        low, high = format_edge(self.lower), format_edge(self.upper)
        return f"{self.column}={low}..{high}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> BinSpec:
        """Read the command-line and config shorthand for a bin spec.

        Args:
            text: ``COLUMN=E1,E2,...,En`` for explicit edges or
                ``COLUMN=LOW..HIGH/COUNT`` for ``COUNT`` equal-width bins over
                ``[LOW, HIGH]``.

        Returns:
            The validated spec.

        Raises:
            ParameterError: When the text does not follow either form.

        >>> BinSpec.parse("AGEP=0,18,65").edges
        (0.0, 18.0, 65.0)
        """
        column, sep, body = text.rpartition("=")
        column, body = column.strip(), body.strip()
        if not sep or not column or not body:
            raise ParameterError(
                f"cannot read bin spec {text!r}; write it as {_SYNTAX}"
            )
        if ".." in body:
            bounds, slash, count_text = body.partition("/")
            low_text, _, high_text = bounds.partition("..")
            if not slash:
                raise ParameterError(
                    f"bin spec {text!r} has bounds but no bin count; add /COUNT, "
                    f"as in {column}={bounds.strip()}/10"
                )
            try:
                count = int(count_text.strip())
            except ValueError:
                raise ParameterError(
                    f"bin spec {text!r} has bin count {count_text.strip()!r}; "
                    f"give a whole number >= 1 after '/', as in {column}=0..120/12"
                ) from None
            low = _parse_number(low_text, text)
            high = _parse_number(high_text, text)
            return cls(column=column, lower=low, upper=high, count=count)
        edges = tuple(_parse_number(part, text) for part in body.split(","))
        return cls(column=column, edges=edges)


def _parse_number(part: str, text: str) -> float:
    try:
        return float(part.strip())
    except ValueError:
        raise ParameterError(
            f"bin spec {text!r} has {part.strip()!r} where a number belongs; "
            f"write it as {_SYNTAX}"
        ) from None


def assign_bins(
    values: npt.NDArray[np.float64], spec: BinSpec, out_of_range: OutOfRange
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]:
    """Map numbers to the index of their interval in ``spec.labels()``.

    Args:
        values: The numbers to bin; NaN counts as outside every interval.
        spec: The declared intervals.
        out_of_range: ``"clip"`` folds a value below the first edge into the
            first interval and above the last edge into the last; ``"error"``
            and ``"absent"`` leave the interval of such a value undefined and
            report it in the mask, for the caller to refuse or to mark absent.

    Returns:
        The interval index of each value (``-1`` for a value outside the
        declared edges), and the mask of those values; after clipping only NaN
        is outside.
    """
    edges = np.asarray(spec.resolved_edges(), dtype=np.float64)
    last = len(edges) - 2
    # side="right" sends a value equal to an inner edge into the interval that
    # starts there, so every interval is closed on the left.
    index = np.searchsorted(edges, values, side="right") - 1
    # The upper edge itself belongs to the last interval, which is closed.
    index[values == edges[-1]] = last
    outside = (values < edges[0]) | (values > edges[-1]) | np.isnan(values)
    if out_of_range == "clip":
        # Clipping only moves values into the declared outer intervals; the
        # intervals stay the public ones the user declared.
        index = np.clip(index, 0, last)
        outside = np.isnan(values)
    index[outside] = -1
    return index.astype(np.int32), outside
