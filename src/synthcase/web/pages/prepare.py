"""Prepare page: load the case file, declare absent cells, bins and recodes.

The preview figures (distinct values, absent share, value counts) come from
the sensitive records: they are shown to the steward here and never enter a
release. Bins start empty and are filled only by what the steward types.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import events, run, ui

from synthcase.errors import SynthcaseError
from synthcase.prepare import BinSpec, ValueList
from synthcase.web.pages.common import (
    error_card,
    hint,
    mark,
    notify_error,
    page_frame,
    percent,
    region,
)
from synthcase.web.preparation import profile_columns
from synthcase.web.state import Workspace
from synthcase.web.uploads import SUFFIXES

__all__ = ["prepare_page"]

_OUT_OF_RANGE = {
    "error": "Stop and tell me",
    "clip": "Put them in the nearest outer bin",
    "absent": "Treat them as absent",
}


def prepare_page(workspace: Workspace) -> None:
    """Build the prepare page."""
    limit_mb = workspace.max_upload_bytes / 1e6
    with page_frame(
        "/",
        "Prepare the case file",
        "Load the sensitive case file, say which cells mean 'absent', group "
        "numbers into bins you choose and merge values. Everything shown here "
        "is for your eyes only.",
    ):
        with ui.card().classes("w-full"):
            ui.label("Case file").classes("text-h6")
            ui.label(
                f"A CSV or TSV text file (UTF-8) or an Excel workbook (.xlsx), "
                f"at most {limit_mb:.0f} MB. It stays in this app's memory."
            ).classes("text-grey-8")

            async def uploaded(event: events.UploadEventArguments) -> None:
                data = await event.file.read()
                try:
                    await run.io_bound(workspace.load, event.file.name, data)
                except SynthcaseError as error:
                    notify_error(f"This file could not be loaded: {error}")
                else:
                    ui.notify(f"Loaded {event.file.name}", type="positive")
                upload.reset()
                redraw_loaded()
                redraw_options()
                redraw_columns()

            upload = ui.upload(
                label="Choose or drop a file",
                auto_upload=True,
                max_file_size=workspace.max_upload_bytes,
                on_upload=uploaded,
                on_rejected=lambda: notify_error(
                    f"That file is larger than the upload limit of {limit_mb:.0f} "
                    "MB; restart synthcase with --max-upload-mb to raise it"
                ),
            ).classes("w-full max-w-xl")
            upload.props["accept"] = ",".join(SUFFIXES)
            mark(upload, role="upload")
            upload.on(
                "failed",
                lambda: notify_error(
                    "The upload failed. Check the file's size (at most "
                    f"{limit_mb:.0f} MB) and try again"
                ),
            )

            def loaded() -> None:
                if workspace.raw is None:
                    ui.label("No file loaded yet.").classes("text-grey-7")
                    return
                mark(
                    ui.label(
                        f"Loaded {workspace.source_name}: "
                        f"{len(workspace.raw.columns)} columns, "
                        f"{len(workspace.raw):,} records."
                    ).classes("text-body1"),
                    role="loaded",
                )

            redraw_loaded = region(loaded, "w-full")

        def options() -> None:
            if workspace.raw is not None:
                _absent_options(workspace, lambda: redraw_columns())

        def columns() -> None:
            if workspace.raw is not None:
                _columns_card(workspace, lambda: redraw_columns())

        redraw_options = region(options)
        redraw_columns = region(columns)


def _absent_options(workspace: Workspace, changed: Callable[[], None]) -> None:
    prep = workspace.preparation
    assert workspace.raw is not None
    names = [str(c) for c in workspace.raw.columns]

    async def apply() -> None:
        await run.io_bound(workspace.prepare)
        changed()

    async def set_tokens(event: events.ValueChangeEventArguments) -> None:
        prep.null_tokens = [t.strip() for t in str(event.value).split(",") if t.strip()]
        await apply()

    async def set_zero(event: events.ValueChangeEventArguments) -> None:
        prep.absent_zero = set(event.value or [])
        await apply()

    async def set_range(event: events.ValueChangeEventArguments) -> None:
        prep.out_of_range = event.value
        await apply()

    with ui.card().classes("w-full"):
        ui.label("Absent cells").classes("text-h6")
        with ui.row().classes("w-full items-center gap-6"):
            with ui.row().classes("items-center no-wrap"):
                ui.input(
                    "Texts that mean 'absent'",
                    value=", ".join(prep.null_tokens),
                    placeholder="e.g. N, NA, unknown",
                ).props('debounce=600 data-role="null-tokens"').classes(
                    "w-64"
                ).on_value_change(set_tokens)
                hint(
                    "Cells holding one of these texts (separated by commas) count "
                    "as absent. Empty cells are always absent."
                )
            with ui.row().classes("items-center no-wrap"):
                ui.select(
                    names,
                    value=sorted(prep.absent_zero),
                    multiple=True,
                    label="Columns where 0 means absent",
                    on_change=set_zero,
                ).props("use-chips").classes("min-w-64")
                hint("In these columns a zero (0, 0.0) counts as absent.")
            with ui.row().classes("items-center no-wrap"):
                ui.select(
                    _OUT_OF_RANGE,
                    value=prep.out_of_range,
                    label="Values outside their bins or lists",
                    on_change=set_range,
                ).classes("min-w-64")
                hint(
                    "What to do with a number below the first or above the last "
                    "edge of its column's bins, or a value missing from its "
                    "column's list (clip applies to numbers only)."
                )


def _columns_card(workspace: Workspace, changed: Callable[[], None]) -> None:
    prep = workspace.preparation

    async def apply() -> None:
        # Keeping, dropping and binning leave the column preview unchanged.
        await run.io_bound(lambda: workspace.prepare(profile=False))
        changed()

    async def keep(name: str, value: bool) -> None:
        (prep.dropped.discard if value else prep.dropped.add)(name)
        await apply()

    card = ui.card().classes("w-full")
    # Lets a test wait for the redraw that follows a change of absent texts.
    mark(card, null_tokens=",".join(prep.null_tokens))
    with card:
        with ui.row().classes("items-center"):
            ui.label("Columns").classes("text-h6")
            hint(
                "Untick a column to leave it out. A column with many different "
                f"values (more than {prep.max_categories}) must be binned or left "
                "out: give its bins from what you know of it, not from the data. "
                "A column of numbers that also holds a text such as N shows as "
                "text until that text is declared absent above."
            )
        if workspace.table_error:
            error_card(workspace.table_error)
        elif workspace.table is not None:
            ready = ui.label(
                f"Ready: {workspace.table.n_columns} columns prepared. "
                "Continue with 2 · Select."
            ).classes("text-positive text-body1")
            mark(ready, role="prepared")
        with ui.grid(
            columns="auto minmax(8rem, 1fr) auto auto auto minmax(8rem, 2fr) auto"
        ).classes("w-full items-center gap-x-4 gap-y-1"):
            for head in (
                "Keep",
                "Column",
                "Kind",
                "Distinct",
                "Absent",
                "Bins or values",
                "",
            ):
                ui.label(head).classes("text-weight-bold text-grey-8")
            for profile in workspace.profiles:
                name = profile.name
                box = ui.checkbox(
                    value=name not in prep.dropped,
                    on_change=lambda e, n=name: keep(n, bool(e.value)),
                )
                box.props["aria-label"] = f"Keep {name}"
                mark(box, keep=name)
                ui.label(name).classes("text-weight-medium")
                if name == prep.subject_id:
                    ui.label("person id").classes("text-primary")
                else:
                    ui.label("numbers" if profile.numeric else "text")
                many = profile.distinct > prep.max_categories and name not in prep.bins
                distinct = ui.label(f"{profile.distinct:,}")
                if many:
                    distinct.classes("text-orange-10 text-weight-bold")
                ui.label(percent(profile.absent_share))
                spec = prep.bins.get(name)
                declared = prep.values.get(name)
                shown = (
                    spec.to_text().partition("=")[2]
                    if spec
                    else "values " + ", ".join(declared.values)
                    if declared
                    else "—"
                )
                ui.label(shown).classes("text-grey-9")
                with ui.row().classes("gap-1 no-wrap"):
                    if profile.numeric or many:
                        binning = ui.button(
                            "Bins…",
                            on_click=lambda n=name: _bin_dialog(workspace, n, apply),
                        ).props("flat dense no-caps")
                        mark(binning, bin=name)
                    if not profile.numeric or profile.values:
                        listing = ui.button(
                            "Values…",
                            on_click=lambda n=name: _values_dialog(workspace, n, apply),
                        ).props("flat dense no-caps")
                        mark(listing, values=name)
                    if profile.values:
                        recode = ui.button(
                            "Recode…",
                            on_click=lambda n=name: _recode_dialog(workspace, n, apply),
                        ).props("flat dense no-caps")
                        mark(recode, recode=name)


def _bin_dialog(
    workspace: Workspace, name: str, apply: Callable[[], Awaitable[None]]
) -> None:
    prep = workspace.preparation
    current = prep.bins.get(name)
    with ui.dialog() as dialog, ui.card().classes("w-[34rem]"):
        ui.label(f"Bins for {name}").classes("text-h6")
        ui.label(
            "Declare the intervals from what you know of this attribute (for an "
            "age: 0,18,30,65,120), never from the data's smallest or largest "
            "value, which would reveal a person."
        ).classes("text-grey-8")
        form = ui.toggle(
            {"edges": "Explicit edges", "width": "Equal width"},
            value="width" if current and current.edges is None else "edges",
        )
        edges = (
            ui.input(
                "Edges, in increasing order",
                value=current.to_text().partition("=")[2]
                if current and current.edges
                else "",
                placeholder="e.g. 0,18,30,65,120",
            )
            .props('data-role="bin-edges"')
            .classes("w-full")
        )
        edges.bind_visibility_from(form, "value", value="edges")
        with ui.row().classes("w-full no-wrap") as width:
            lower = ui.number("From", value=current.lower if current else None)
            upper = ui.number("To", value=current.upper if current else None)
            count = ui.number(
                "Number of bins", value=current.count if current else None
            )
        width.bind_visibility_from(form, "value", value="width")
        preview = ui.label("").classes("text-grey-9")
        problem = ui.label("").classes("text-negative")

        def spec() -> BinSpec:
            if form.value == "edges":
                return BinSpec.parse(f"{name}={edges.value}")
            whole = int(count.value) if count.value is not None else None
            return BinSpec(
                column=name, lower=lower.value, upper=upper.value, count=whole
            )

        def show() -> None:
            try:
                labels = spec().labels()
            except (SynthcaseError, TypeError, ValueError) as error:
                preview.text, problem.text = "", str(error)
                return
            preview.text, problem.text = "Bins: " + "  ".join(labels), ""

        for field in (edges, lower, upper, count, form):
            field.on_value_change(show)

        def declare() -> None:
            prep.bins[name] = spec()
            prep.values.pop(name, None)  # bins replace a value list
            prep.dropped.discard(name)

        _declaration_actions(
            dialog,
            problem,
            apply,
            declare=declare,
            withdraw=(lambda: prep.bins.pop(name, None)) if current else None,
            withdraw_label="Remove bins",
            role="bin-apply",
        )
    dialog.open()


def _values_dialog(
    workspace: Workspace, name: str, apply: Callable[[], Awaitable[None]]
) -> None:
    prep = workspace.preparation
    current = prep.values.get(name)
    with ui.dialog() as dialog, ui.card().classes("w-[34rem]"):
        ui.label(f"Possible values of {name}").classes("text-h6")
        ui.label(
            "List every value this column may hold, as your data dictionary or "
            "form states them (for example 1,2 for a sex code), separated by "
            "commas. The list is public: it is shown in the release, and rare "
            "values of the list are published and used by the synthetic "
            "records where an undeclared rare value is hidden. Do not copy the "
            "values from the data; a value the data hold that is not listed "
            "stops the preparation (or is made absent, see the setting for "
            "values outside their bins or lists)."
        ).classes("text-grey-8")
        text = (
            ui.input(
                "Values, separated by commas",
                value=",".join(current.values) if current else "",
                placeholder="e.g. 1,2",
            )
            .props('data-role="values-list"')
            .classes("w-full")
        )
        problem = ui.label("").classes("text-negative")

        def declare() -> None:
            prep.values[name] = ValueList.parse(f"{name}={text.value}")
            prep.bins.pop(name, None)  # a value list replaces bins
            prep.dropped.discard(name)

        _declaration_actions(
            dialog,
            problem,
            apply,
            declare=declare,
            withdraw=(lambda: prep.values.pop(name, None)) if current else None,
            withdraw_label="Remove list",
            role="values-apply",
        )
    dialog.open()


def _declaration_actions(
    dialog: ui.dialog,
    problem: ui.label,
    apply: Callable[[], Awaitable[None]],
    *,
    declare: Callable[[], object],
    withdraw: Callable[[], object] | None,
    withdraw_label: str,
    role: str,
) -> None:
    """Apply, Cancel and (for an existing declaration) Remove buttons.

    ``declare`` records the dialog's bins or value list and raises on a bad
    entry, which is shown in ``problem`` while the dialog stays open.
    """

    async def save() -> None:
        try:
            declare()
        except (SynthcaseError, TypeError, ValueError) as error:
            problem.text = str(error)
            return
        dialog.close()
        await apply()

    async def remove() -> None:
        if withdraw is not None:
            withdraw()
        dialog.close()
        await apply()

    with ui.row().classes("w-full justify-end"):
        if withdraw is not None:
            ui.button(withdraw_label, on_click=remove).props("flat color=negative")
        ui.button("Cancel", on_click=dialog.close).props("flat")
        ui.button("Apply", on_click=save).props(f'data-role="{role}"')


def _recode_dialog(
    workspace: Workspace, name: str, apply: Callable[[], Awaitable[None]]
) -> None:
    assert workspace.raw is not None
    prep = workspace.preparation
    plain = prep.copy()
    plain.recodes.pop(name, None)
    values = profile_columns(workspace.raw[[name]], plain)[0].values
    mapping = dict(prep.recodes.get(name, {}))
    with ui.dialog() as dialog, ui.card().classes("w-[32rem]"):
        ui.label(f"Recode {name}").classes("text-h6")
        ui.label(
            "Type a new label to rename a value; give several values the same "
            "label to merge them. Leave a field empty to keep the value."
        ).classes("text-grey-8")
        inputs = {}
        with (
            ui.scroll_area().classes("w-full h-80"),
            ui.grid(columns="1fr auto 1fr").classes("w-full items-center gap-x-3"),
        ):
            for head in ("Value", "Records", "New label"):
                ui.label(head).classes("text-weight-bold text-grey-8")
            for value, records in values:
                ui.label(value)
                ui.label(f"{records:,}")
                inputs[value] = ui.input(value=mapping.get(value, "")).props("dense")

        async def save() -> None:
            new = {
                old: box.value.strip()
                for old, box in inputs.items()
                if box.value.strip()
            }
            if new:
                prep.recodes[name] = new
            else:
                prep.recodes.pop(name, None)
            dialog.close()
            await apply()

        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            ui.button("Apply", on_click=save)
    dialog.open()
