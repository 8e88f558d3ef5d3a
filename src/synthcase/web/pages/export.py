"""Export page: the releasable bundle, and the steward's private files.

The releasable bundle of a run is a zip of the files a recipient may get.
The prepared sensitive records and each run's evaluation against them (for
a linked run, the linked evaluation) are separate downloads in a card marked
"not for sharing"; the bundle never holds them.
"""

from __future__ import annotations

from nicegui import ui

from synthcase.web.bundle import RELEASABLE, showcase_available
from synthcase.web.evaluation import evaluation_available
from synthcase.web.pages.common import error_card, mark, page_frame
from synthcase.web.state import LINKED_MODE, Workspace

__all__ = ["export_page"]

LINK_AGGREGATES = "link_aggregates.tsv"


def export_page(workspace: Workspace) -> None:
    """Build the export page."""
    with page_frame(
        "/export",
        "Export",
        "Download a run's releasable bundle to share it. Files marked 'not for "
        "sharing' hold your sensitive data and stay with you.",
    ):
        finished = workspace.finished_runs()
        with ui.card().classes("w-full border-l-4 border-green-600"):
            with ui.row().classes("items-center gap-2"):
                ui.icon("verified_user", color="positive").classes("text-h5")
                ui.label("Releasable bundle: safe to share").classes("text-h6")
            files = [
                f
                for f in RELEASABLE
                if f != LINK_AGGREGATES
                and (f != "showcase.html" or showcase_available())
            ]
            ui.label(
                "Each zip holds " + ", ".join(files) + f" (and {LINK_AGGREGATES} "
                "for linked records). Everything in it is protected by the run's "
                "privacy guarantee."
            ).classes("text-grey-8")
            if not showcase_available():
                ui.label("The showcase page is not available in this version.").classes(
                    "text-caption text-grey-7"
                )
            if not finished:
                error_card("No finished run yet. Start one on 3 · Synthesize.")
            for run in reversed(finished):
                assert run.release is not None
                with ui.row().classes("w-full items-center gap-4 q-py-xs"):
                    ui.label(f"Run #{run.number}").classes("text-weight-bold")
                    ui.label(
                        f"{run.method} · {run.guarantee} · R "
                        f"{run.reporting_length} · {len(run.columns)} columns"
                    ).classes("text-grey-8")
                    mark(
                        ui.button(
                            "Download bundle (.zip)",
                            icon="download",
                            on_click=lambda n=run.number: ui.download.from_url(
                                f"/download/release/{n}.zip"
                            ),
                        ).props("color=positive no-caps"),
                        role="download-release",
                        run=str(run.number),
                    )
                    with ui.expansion("Privacy statement").classes("flex-1"):
                        ui.label(run.release.statement).classes(
                            "whitespace-pre-wrap text-body2"
                        )

        with ui.card().classes("w-full border-l-4 border-red-700 bg-red-1"):
            with ui.row().classes("items-center gap-2"):
                ui.icon("lock", color="negative").classes("text-h5")
                ui.label("Not for sharing: sensitive, stays with you").classes(
                    "text-h6 text-red-10"
                )
            ui.label(
                "These files hold or describe your sensitive records without "
                "protection. Keep them where the original case file is kept."
            ).classes("text-red-10")
            if workspace.table is None:
                ui.label("No prepared case file.").classes("text-grey-8")
            else:
                mark(
                    ui.button(
                        "Prepared sensitive data (.csv), not for sharing",
                        icon="download",
                        on_click=lambda: ui.download.from_url(
                            "/download/sensitive/prepared.csv"
                        ),
                    ).props("outline color=negative no-caps"),
                    role="download-sensitive",
                )
            for run in reversed(finished):
                linked = run.mode == LINKED_MODE
                if not evaluation_available(linked=linked):
                    ui.label(
                        f"The evaluation of run #{run.number} against the "
                        "sensitive data is not available in this version."
                    ).classes("text-caption text-grey-8")
                    continue
                with ui.row().classes("items-center gap-3"):
                    mark(
                        ui.button(
                            f"Evaluation of run #{run.number} (.zip), not for sharing",
                            icon="download",
                            on_click=lambda n=run.number: ui.download.from_url(
                                f"/download/sensitive/evaluation/{n}.zip"
                            ),
                        ).props("outline color=negative no-caps"),
                        role="download-evaluation",
                        run=str(run.number),
                    )
                    if linked:
                        ui.label(
                            "Linked records: persons and their links, links per "
                            "person, distances, risk per person."
                        ).classes("text-caption text-red-10")
