"""Download endpoints and the page routes of the web app.

Downloads are plain HTTP endpoints, so they pass through the same token
guard as every page. Releasable and sensitive files live under different
paths (``/download/release/...`` and ``/download/sensitive/...``), and their
file names say which is which.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import PlainTextResponse

from synthcase.errors import SynthcaseError
from synthcase.web.bundle import evaluation_zip, releasable_zip, sensitive_csv
from synthcase.web.state import Workspace

__all__ = ["register_downloads", "register_pages"]


def register_pages(workspace: Workspace) -> None:
    """Register the five pages with NiceGUI."""
    from nicegui import ui

    from synthcase.web.pages.export import export_page
    from synthcase.web.pages.navigate import navigate_page
    from synthcase.web.pages.prepare import prepare_page
    from synthcase.web.pages.select import select_page
    from synthcase.web.pages.synthesize import synthesize_page

    ui.page("/")(lambda: prepare_page(workspace))
    ui.page("/select")(lambda: select_page(workspace))
    ui.page("/synthesize")(lambda: synthesize_page(workspace))
    ui.page("/export")(lambda: export_page(workspace))

    def navigate(run: int | None = None) -> None:
        navigate_page(workspace, run)

    ui.page("/navigate")(navigate)


def register_downloads(app: FastAPI, workspace: Workspace) -> None:
    """Add the download endpoints to ``app``."""

    @app.get("/download/release/{number}.zip", response_model=None)
    def release(number: int) -> Any:
        run = workspace.run(number)
        if run is None or run.release is None:
            return PlainTextResponse(f"Run {number} has no release.", status_code=404)
        name = f"synthcase-release-{number}"
        try:
            data = releasable_zip(run.release, workspace.folder, name)
        except SynthcaseError as error:
            return PlainTextResponse(str(error), status_code=409)
        return _attachment(data, f"{name}.zip", "application/zip")

    @app.get("/download/sensitive/prepared.csv", response_model=None)
    def prepared() -> Any:
        if workspace.table is None:
            return PlainTextResponse("No prepared case file.", status_code=404)
        return _attachment(
            sensitive_csv(workspace.table),
            "NOT-FOR-SHARING-sensitive-prepared.csv",
            "text/csv",
        )

    @app.get("/download/sensitive/evaluation/{number}.zip", response_model=None)
    def evaluation(number: int) -> Any:
        run = workspace.run(number)
        if run is None or run.release is None:
            return PlainTextResponse(f"Run {number} has no release.", status_code=404)
        name = f"NOT-FOR-SHARING-evaluation-{number}"
        try:
            data = evaluation_zip(run, workspace.folder, name)
        except SynthcaseError as error:
            return PlainTextResponse(str(error), status_code=409)
        if data is None:
            return PlainTextResponse(
                "The evaluation is not available in this version.", status_code=404
            )
        return _attachment(data, f"{name}.zip", "application/zip")


def _attachment(data: bytes, filename: str, media_type: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        },
    )
