"""Progress reporting shared by every stage.

Long computations accept a ``progress`` callback and call it with a short
stage label and the fraction done (0 to 1). The command line shows these as
progress bars, the web app as progress indicators. Callbacks receive no data
derived from the sensitive records.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "no_progress"]

Progress = Callable[[str, float], None]
"""``progress(stage, fraction)``; may raise to cancel the computation."""


def no_progress(stage: str, fraction: float) -> None:
    """Ignore progress."""
