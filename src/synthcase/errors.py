"""The exceptions synthcase raises.

Every error a user can cause derives from :class:`SynthcaseError`, so a caller
(the command line, the web app, a notebook) can catch one type and show its
message. Messages name the input or parameter, show the offending value, give
the allowed range or shape, and say what to do next.

The tree is small on purpose:

* :class:`DataError`: the input file or table cannot be used as given.
* :class:`ParameterError`: a setting is outside its allowed range.
* :class:`BudgetError`: the privacy accounting does not fit the budget.
* :class:`OutputError`: a release cannot be written where it was asked to go.
"""

from __future__ import annotations

__all__ = [
    "BudgetError",
    "DataError",
    "OutputError",
    "ParameterError",
    "SynthcaseError",
]


class SynthcaseError(Exception):
    """Base class of every error caused by input, settings or the environment."""


class DataError(SynthcaseError, ValueError):
    """The sensitive input cannot be read or used as given.

    Raised for unreadable files, unknown columns, columns with too many distinct
    values, malformed bin declarations and similar problems with the data.
    """


class ParameterError(SynthcaseError, ValueError):
    """A setting is outside its allowed range or inconsistent with another."""


class BudgetError(SynthcaseError):
    """The privacy accounting exceeds the budget or cannot be met.

    Fails closed: when this is raised nothing has been released.
    """


class OutputError(SynthcaseError):
    """A release cannot be written, for example to a non-empty folder."""
