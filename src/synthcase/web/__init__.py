"""The local web app: ``synthcase serve``.

A thin layer over the library for data stewards: load and prepare a case
file, choose columns while watching the privacy risk, run syntheses, explore
a run's synthetic records next to its protected counts and export the
releasable bundle. It runs on the steward's machine only and every request
needs the access token printed at start.

Importing this package has no side effects and does not import NiceGUI;
:func:`serve` does.
"""

from synthcase.web.server import serve

__all__ = ["serve"]
