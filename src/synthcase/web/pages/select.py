"""Select page: columns to release, combination length and live privacy risk.

The risk panel is recomputed after every change; with a person identifier
it counts persons rather than rows. The computation runs in a background
thread; a newer change cancels the one in progress and a late result is
dropped (see :class:`synthcase.web.risk.LiveRisk`). Its figures
describe the sensitive records and are shown only to the steward.
"""

from __future__ import annotations

from nicegui import events, ui

from synthcase.errors import SynthcaseError
from synthcase.web.pages.common import (
    bar,
    error_card,
    hint,
    mark,
    page_frame,
    percent,
)
from synthcase.web.risk import RareRisk
from synthcase.web.state import Workspace

__all__ = ["select_page"]

_MULTI_VALUE_HELP = (
    "Columns whose cells list several values, e.g. labour;sexual. Each value "
    "is counted on its own; needs a person identifier."
)
_NO_SUBJECT = "none: every row is a different person"


def select_page(workspace: Workspace) -> None:
    """Build the select page."""
    with page_frame(
        "/select",
        "Select what to release",
        "Choose the columns to release and how long the published "
        "combinations of values may be. The risk panel shows how easily "
        "people in your data could be singled out by those combinations.",
    ):
        table = workspace.table
        if table is None:
            error_card(
                workspace.table_error
                or "No prepared case file yet. Go to 1 · Prepare, load a file "
                "and fix any problem shown there."
            )
            if workspace.raw is not None:
                with ui.card().classes("w-full"):
                    _subject_select(workspace)
            return
        selection = workspace.selection

        with ui.card().classes("w-full"):
            with ui.row().classes("items-center"):
                ui.label("Columns to release").classes("text-h6")
                hint(
                    "Only these columns appear in the release. Fewer columns give "
                    "more accurate results for the same privacy."
                )
            with ui.row().classes("w-full items-center no-wrap"):
                columns = ui.select(
                    list(table.columns),
                    value=list(selection.columns),
                    multiple=True,
                    label="Columns",
                    on_change=lambda e: changed_columns(e),
                ).props("use-chips")
                mark(columns.classes("flex-1"), role="columns")
                ui.button(
                    "All", on_click=lambda: columns.set_value(list(table.columns))
                ).props("flat dense no-caps")
                ui.button("None", on_click=lambda: columns.set_value([])).props(
                    "flat dense no-caps"
                )
            with ui.row().classes("w-full gap-6 items-start"):
                with ui.column().classes("gap-0 max-w-md"):
                    _subject_select(workspace)
                with ui.column().classes("gap-0 max-w-md"):
                    _multi_value_select(workspace)

        with ui.card().classes("w-full"), ui.row().classes("items-center gap-8"):
            ui.label("Combinations").classes("text-h6")
            with ui.row().classes("items-center no-wrap"):
                length = ui.number(
                    "Longest combination (R)",
                    value=selection.reporting_length,
                    min=1,
                    max=8,
                    step=1,
                    precision=0,
                ).classes("w-56")
                mark(length, role="reporting-length")
                hint(
                    "The release publishes counts of combinations of up to R "
                    "values (for example age band + sex + region for R = 3). "
                    "Longer combinations keep more detail but need more noise."
                )
            with ui.row().classes("items-center no-wrap"):
                rare = ui.number(
                    "Rare below (k)", value=selection.k, min=2, step=1, precision=0
                ).classes("w-56")
                mark(rare, role="k")
                hint(
                    "A combination shared by fewer than k records (persons, with "
                    "a person identifier) is rare: someone who knows those facts "
                    "about a person could find them."
                )

        with ui.card().classes("w-full"):
            with ui.row().classes("items-center"):
                ui.label("Privacy risk of the sensitive data").classes("text-h6")
                hint(
                    "Computed from your data before any protection, and shown only "
                    "to you. The release protects every record whatever this risk; "
                    "it tells which columns make people easiest to single out."
                )
            status = ui.row().classes("items-center gap-2")
            panel = ui.column().classes("w-full")

        async def recompute() -> None:
            selected = workspace.selected_table()
            status.clear()
            if selected is None:
                panel.clear()
                with panel:
                    ui.label("Select at least one column.").classes("text-grey-7")
                return
            with status:
                ui.spinner(size="sm")
                ui.label("Computing…").classes("text-grey-7")
            try:
                risk = await workspace.risk.compute(
                    selected, selection.reporting_length, selection.k
                )
            except SynthcaseError as error:
                status.clear()
                panel.clear()
                with panel:
                    error_card(str(error))
                return
            if risk is None:
                return  # a newer choice superseded this one
            status.clear()
            panel.clear()
            with panel:
                _risk_view(risk)

        async def changed_columns(event: events.ValueChangeEventArguments) -> None:
            chosen = set(event.value or [])
            selection.columns = [c for c in table.columns if c in chosen]
            await recompute()

        async def changed_numbers() -> None:
            if length.value is None or rare.value is None:
                return
            selection.reporting_length = max(1, int(length.value))
            selection.k = max(2, int(rare.value))
            await recompute()

        length.on_value_change(changed_numbers)
        rare.on_value_change(changed_numbers)
        ui.timer(0.05, recompute, once=True)


def _subject_select(workspace: Workspace) -> None:
    """Choose the column naming the person of each row (linked records)."""
    assert workspace.raw is not None
    prep = workspace.preparation
    options = {_NO_SUBJECT: _NO_SUBJECT} | {
        str(c): str(c) for c in workspace.raw.columns
    }

    def chosen(value: str) -> None:
        prep.subject_id = None if value == _NO_SUBJECT else value
        if prep.subject_id is not None:
            prep.dropped.discard(prep.subject_id)
        workspace.prepare(profile=False)
        ui.navigate.reload()

    with ui.row().classes("items-center no-wrap"):
        mark(
            ui.select(
                options,
                value=prep.subject_id or _NO_SUBJECT,
                label="Person identifier (linked records)",
                on_change=lambda e: chosen(e.value),
            ).classes("w-72"),
            role="subject-id",
        )
        hint(
            "When one person can have several rows, pick the column that names "
            "the person. Each person is then protected as a whole, whatever "
            "their number of rows; the identifier itself is never released."
        )
    ui.label(
        "The risk panel below counts persons, each once however many of their "
        "rows hold a combination."
        if prep.subject_id
        else ""
    ).classes("text-caption text-grey-7")


def _multi_value_select(workspace: Workspace) -> None:
    """Mark the selected columns whose cells hold several values."""
    assert workspace.table is not None
    selection = workspace.selection
    with ui.row().classes("items-center no-wrap"):
        chosen = ui.select(
            list(workspace.table.columns),
            value=list(selection.multi_value),
            multiple=True,
            label="Multi-value columns",
            on_change=lambda e: setattr(
                selection, "multi_value", [str(c) for c in e.value or []]
            ),
        ).props("use-chips")
        mark(chosen.classes("w-56"), role="multi-value")
        delimiter = ui.input("Delimiter", value=selection.delimiter).classes("w-20")
        mark(delimiter, role="delimiter")
        delimiter.on_value_change(
            lambda e: setattr(selection, "delimiter", str(e.value or ""))
        )
    ui.label(_MULTI_VALUE_HELP).classes("text-caption text-grey-7")


def _risk_view(risk: RareRisk) -> None:
    with ui.row().classes("items-baseline gap-3"):
        mark(
            ui.label(percent(risk.share)).classes("text-h4 text-weight-bold"),
            role="risk-share",
        )
        ui.label(
            f"of {risk.unit}s hold a combination of up to {risk.reporting_length} "
            f"values that fewer than {risk.k} {risk.unit}s share."
        ).classes("text-body1")
    with ui.grid(columns="auto 1fr auto").classes(
        "w-full max-w-xl items-center gap-x-3"
    ):
        for length, share in enumerate(risk.by_length, start=1):
            ui.label(f"up to {length} value{'s' if length > 1 else ''}")
            bar(share, "orange-7")
            ui.label(percent(share))
    if not risk.columns:
        return
    with ui.row().classes("w-full gap-8 q-mt-md items-start"):
        for title, items in (
            ("Most linkable columns", risk.columns),
            ("Most linkable values", risk.values),
        ):
            with ui.column().classes("flex-1 min-w-72 gap-1"):
                with ui.row().classes("items-center"):
                    ui.label(title).classes("text-subtitle1 text-weight-medium")
                    hint(
                        "Share of the rare combinations that use this column or "
                        "value. Binning it more coarsely or leaving it out lowers "
                        "the risk most."
                    )
                with ui.grid(columns="minmax(8rem, auto) 1fr auto").classes(
                    "w-full items-center gap-x-3"
                ):
                    largest = max(item.share for item in items)
                    for item in items:
                        name = (
                            item.column
                            if item.value is None
                            else (f"{item.column} = {item.value}")
                        )
                        ui.label(name).classes("text-weight-medium")
                        bar(item.share / largest)
                        ui.label(percent(item.share))
