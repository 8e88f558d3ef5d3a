"""Report: the release folder, its privacy statement and the showcase.

Everything written here is releasable: it is built from protected outputs
only. The steward's evaluation against the sensitive data lives in
:mod:`synthcase.evaluate`, apart from what is shared.
"""

from synthcase.report.folder import RELEASE_FILES, check_output_folder
from synthcase.report.showcase import build_showcase, render_showcase
from synthcase.report.statement import dp_statement

__all__ = [
    "RELEASE_FILES",
    "build_showcase",
    "check_output_folder",
    "dp_statement",
    "render_showcase",
]
