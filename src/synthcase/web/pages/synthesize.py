"""Synthesize page: choose the method and its settings, run, compare runs.

The methods are the library's release modes: two differentially private
ones (:class:`synthcase.Synthesizer`, with or without a model) and the four
k-anonymity modes (:func:`synthcase.release_k_anonymous`). Runs execute one
at a time in a background thread; the list below the form shows each run's
method, guarantee, status, progress, duration and parameters and lets the
steward cancel it. Two finished runs can be compared side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from synthcase.errors import SynthcaseError
from synthcase.k_anonymity import KAnonymitySettings
from synthcase.measure import AccuracyMode, DPSettings, FabricationMode
from synthcase.synthesize import SynthesisSettings
from synthcase.web.methods import (
    DEFAULT_METHOD,
    DEFAULT_MODEL_SHARE,
    DP_METHODS,
    METHODS,
    k_mode,
)
from synthcase.web.pages.common import (
    error_card,
    hint,
    mark,
    notify_error,
    page_frame,
    region,
)
from synthcase.web.pages.compare import compare_card
from synthcase.web.state import Run, Workspace

__all__ = ["synthesize_page"]

_ACCURACY = {
    AccuracyMode.PRIORITIZE_LONG.value: "More accurate long combinations",
    AccuracyMode.PRIORITIZE_SHORT.value: "More accurate short combinations",
    AccuracyMode.BALANCED.value: "Same accuracy at every length",
}
_FABRICATION = {
    FabricationMode.PROGRESSIVE.value: "Progressive (recommended)",
    FabricationMode.MINIMIZE.value: "Fewest invented combinations",
    FabricationMode.BALANCED.value: "Balanced",
    FabricationMode.UNCONTROLLED.value: "Most detail, more invented combinations",
}
_STATUS_COLOR = {
    "queued": "grey-7",
    "running": "primary",
    "done": "positive",
    "failed": "negative",
    "cancelled": "warning",
}


def synthesize_page(workspace: Workspace) -> None:
    """Build the synthesize page."""
    with page_frame(
        "/synthesize",
        "Synthesize",
        "Create protected counts and synthetic records from the selected "
        "columns. You can run several times with different settings and "
        "compare the results before exporting one.",
    ):
        if workspace.selected_table() is None:
            error_card(
                "Nothing to synthesize yet: load and prepare a case file (1 · "
                "Prepare), then choose columns (2 · Select)."
            )
        else:
            _settings_card(workspace)
        _runs_card(workspace)
        compare_card(workspace)


def _settings_card(workspace: Workspace) -> None:
    selection = workspace.selection
    with ui.card().classes("w-full"):
        with ui.row().classes("items-center"):
            ui.label("Method").classes("text-h6")
            hint(
                "Differential privacy bounds what the release reveals about any "
                "one person, whatever else an attacker knows. k-anonymity "
                "releases only combinations that at least k records share: "
                "simpler to explain, but without that bound."
            )
        method = mark(
            ui.radio(METHODS, value=DEFAULT_METHOD).props("dense"), role="method"
        )

        def shown_for(element: ui.element, test: Callable[[str], bool]) -> None:
            element.bind_visibility_from(method, "value", backward=test)

        def is_dp(value: str) -> bool:
            return value in DP_METHODS

        ui.label("Settings").classes("text-h6 q-mt-md")
        with ui.row().classes("items-center gap-8"):
            with ui.row().classes("items-center no-wrap") as row:
                epsilon = ui.number("Privacy loss ε", value=4.0, min=0.01, step=0.5)
                mark(epsilon.classes("w-40"), role="epsilon")
                hint(
                    "Epsilon bounds what the release can reveal about any one "
                    "person. Smaller is more private and less accurate; 1 to 4 "
                    "is common."
                )
            shown_for(row, is_dp)
            with ui.row().classes("items-center no-wrap") as row:
                mark(
                    ui.label(f"k = {selection.k}").classes("text-weight-medium"),
                    role="k-shown",
                )
                hint(
                    "Every combination the release shows is shared by at least k "
                    "records of your data. k is the 'Rare below' number chosen "
                    "on 2 · Select."
                )
            shown_for(row, lambda value: k_mode(value) is not None)
            ui.label(
                f"Columns: {len(selection.columns)} · longest combination R = "
                f"{selection.reporting_length} (change on 2 · Select)"
            ).classes("text-grey-8")
            with ui.row().classes("items-center no-wrap") as row:
                records = ui.number("Synthetic records", min=0, step=1, precision=0)
                records.classes("w-44").props('placeholder="as many as protected"')
                hint("Leave empty to make as many as the protected record count.")
            shown_for(row, is_dp)
            with ui.row().classes("items-center no-wrap"):
                seed = ui.number("Seed", step=1, precision=0).classes("w-32")
                hint(
                    "Makes the synthetic records repeatable. It never affects the "
                    "privacy noise, which always comes from a secure source."
                )

        with ui.expansion("Advanced settings", icon="tune").classes("w-full"):
            with ui.column().classes("w-full") as block:
                advanced = _advanced_fields()
            shown_for(block, is_dp)
            with ui.row().classes("items-center gap-8 q-mt-sm") as block:
                model = _model_fields()
            shown_for(block, lambda value: value == "dp-model")
            with ui.row().classes("items-center gap-8") as block:
                oversampling = _oversampling_fields()
            shown_for(block, lambda value: k_mode(value) == "value-seeded")
            shown_for(
                ui.label("This method has no advanced settings.").classes(
                    "text-grey-7"
                ),
                lambda value: k_mode(value) not in (None, "value-seeded"),
            )

        def start() -> None:
            chosen = str(method.value)
            given_seed = None if seed.value is None else int(seed.value)
            try:
                mode = k_mode(chosen)
                if mode is not None:
                    settings = KAnonymitySettings(
                        resolution=selection.k,
                        reporting_length=selection.reporting_length,
                        seed=given_seed,
                        **(
                            {name: read() for name, read in oversampling.items()}
                            if mode == "value-seeded"
                            else {}
                        ),
                    )
                    run = workspace.start_k_run(mode, settings)
                else:
                    dp = DPSettings(
                        epsilon=float(epsilon.value or 0),
                        reporting_length=selection.reporting_length,
                        model_share=model["model_share"]()
                        if chosen == "dp-model"
                        else 0.0,
                        **{name: read() for name, read in advanced.items()},
                    )
                    synthesis = SynthesisSettings(
                        records=None if records.value is None else int(records.value),
                        seed=given_seed,
                    )
                    run = workspace.start_run(
                        dp,
                        synthesis,
                        forbid_unlisted=chosen == "dp-model"
                        and bool(model["forbid_unlisted"]()),
                    )
            except SynthcaseError as error:
                notify_error(str(error))
                return
            ui.notify(f"Run {run.number} started", type="info")

        ui.button("Run synthesis", icon="play_arrow", on_click=start).props(
            'color=primary data-role="run"'
        ).classes("q-mt-sm")


def _model_fields() -> dict[str, Callable[[], Any]]:
    """The DP model's settings; returns a reader per setting."""
    with ui.row().classes("items-center no-wrap"):
        share = ui.number(
            "Share of the budget for the model",
            value=DEFAULT_MODEL_SHARE,
            min=0.05,
            max=0.95,
            step=0.05,
        ).classes("w-64")
        mark(share, role="model-share")
        hint(
            "Part of the budget measures the tables the model is fitted to; the "
            "rest buys the published counts. More for the model gives more "
            "faithful synthetic records and noisier published counts. Both "
            "parts together stay within ε."
        )
    with ui.row().classes("items-center no-wrap"):
        forbid = ui.checkbox("Only combinations the aggregates list")
        mark(forbid, role="forbid-unlisted")
        hint(
            "Synthetic records then hold only combinations of up to R values "
            "that the published counts list, so they never show a combination "
            "the counts left out. The records follow the model less closely."
        )
    return {
        "model_share": lambda: float(share.value or 0),
        "forbid_unlisted": lambda: bool(forbid.value),
    }


def _oversampling_fields() -> dict[str, Callable[[], Any]]:
    """The value-seeded mode's oversampling control; a reader per setting."""
    with ui.row().classes("items-center no-wrap"):
        ratio = ui.number("Oversampling ratio", min=0, step=0.05).classes("w-52")
        ratio.props('placeholder="unlimited"')
        mark(ratio, role="oversampling-ratio")
        hint(
            "A combination of up to R values may appear at most (1 + ratio) "
            "times its k-anonymous count in the synthetic records. Leave empty "
            "for no limit."
        )
    with ui.row().classes("items-center no-wrap"):
        tries = ui.number("Oversampling tries", min=1, step=1, precision=0)
        tries.classes("w-52").props('placeholder="10"')
        mark(tries, role="oversampling-tries")
        hint(
            "How many refused values a synthetic record may meet before it is "
            "closed. Needs a ratio; leave empty for 10."
        )
    return {
        "oversampling_ratio": lambda: (
            None if ratio.value is None else float(ratio.value)
        ),
        "oversampling_tries": lambda: None if tries.value is None else int(tries.value),
    }


def _advanced_fields() -> dict[str, Any]:
    """The advanced DP settings; returns a reader per DPSettings field."""
    fields: dict[str, Any] = {}
    with ui.grid(columns=3).classes("w-full gap-x-8 gap-y-2 items-center"):
        specs: list[tuple[str, str, Any, str]] = [
            (
                "accuracy_mode",
                "Accuracy across lengths",
                _ACCURACY,
                "How the noise is shared between short and long combinations.",
            ),
            (
                "fabrication_mode",
                "Invented combinations",
                _FABRICATION,
                "Noise can make a combination no record holds appear. Stricter "
                "thresholds invent fewer but hide more rare real ones.",
            ),
        ]
        for name, label, options, text in specs:
            with ui.row().classes("items-center no-wrap"):
                box = ui.select(options, value=next(iter(options)), label=label)
                box.classes("w-64")
                hint(text)
            fields[name] = lambda box=box: box.value
        numbers = [
            (
                "percentile",
                "Contribution percentile",
                99,
                1,
                "Each record's number of combinations is bounded at this "
                "percentile; records above it contribute only part of theirs.",
            ),
            (
                "percentile_share",
                "Share for the bound",
                0.01,
                0.01,
                "Share of the budget spent on choosing that bound privately.",
            ),
            (
                "record_count_share",
                "Share for the record count",
                0.01,
                0.01,
                "Share of epsilon spent on the protected record count.",
            ),
            (
                "delta_threshold_share",
                "Share of δ for rare values",
                0.5,
                0.05,
                "Share of delta spent on hiding values no other record shares.",
            ),
        ]
        for name, label, default, step, text in numbers:
            with ui.row().classes("items-center no-wrap"):
                field = ui.number(label, value=default, step=step).classes("w-52")
                hint(text)
            cast = int if name == "percentile" else float
            fields[name] = lambda field=field, cast=cast: cast(field.value or 0)
        with ui.row().classes("items-center no-wrap"):
            delta = ui.number("δ (delta)", format="%.2e").classes("w-52")
            delta.props('placeholder="automatic"')
            hint(
                "The small chance that the epsilon bound fails. Leave empty for "
                "1 / (n ln n), from the protected record count n."
            )
        fields["delta"] = lambda: None if delta.value is None else float(delta.value)
    return fields


def _runs_card(workspace: Workspace) -> None:
    with ui.card().classes("w-full"):
        ui.label("Runs").classes("text-h6")

        shown: list[tuple[int, str]] = []
        live: dict[int, tuple[ui.label, ui.linear_progress, ui.label]] = {}

        def table() -> None:
            live.clear()
            if not workspace.runs:
                ui.label("No run yet.").classes("text-grey-7")
                return
            with ui.grid(columns="auto auto auto 1.2fr auto 2fr auto").classes(
                "w-full items-center gap-x-4 gap-y-2"
            ):
                heads = ("Run", "Method", "Status", "Progress", "Time", "Parameters")
                for head in (*heads, ""):
                    ui.label(head).classes("text-weight-bold text-grey-8")
                for run in reversed(workspace.runs):
                    _run_row(run, live)

        def tick() -> None:
            signature = [(r.number, r.status) for r in workspace.runs]
            if signature != shown:
                shown[:] = signature
                redraw()
                return
            for number, (stage, progress, took) in live.items():
                run = workspace.run(number)
                if run is not None:
                    stage.text = run.stage or "waiting"
                    progress.value = run.fraction
                    took.text = _seconds(run.duration)

        redraw = region(table, "w-full")
        ui.timer(0.4, tick)


def _run_row(run: Run, live: dict[int, Any]) -> None:
    mark(ui.label(f"#{run.number}").classes("text-weight-bold"), run=str(run.number))
    with ui.column().classes("gap-0"):
        mark(ui.label(run.method), role="run-method", run=str(run.number))
        mark(
            ui.label(run.guarantee).classes("text-caption text-grey-8"),
            role="run-guarantee",
            run=str(run.number),
        )
    mark(
        ui.badge(run.status, color=_STATUS_COLOR.get(run.status, "grey")),
        role="run-status",
        run=str(run.number),
    )
    with ui.column().classes("gap-0 w-full"):
        if run.active:
            stage = ui.label(run.stage or "waiting").classes("text-caption")
            progress = ui.linear_progress(value=run.fraction, show_value=False)
        elif run.error:
            ui.label(run.error).classes("text-negative text-caption")
        else:
            ui.label("finished" if run.status == "done" else run.status).classes(
                "text-caption text-grey-7"
            )
    took = ui.label(_seconds(run.duration))
    ui.label(
        " · ".join(f"{k} {v}" for k, v in run.summary().items() if v is not None)
    ).classes("text-caption")
    with ui.row().classes("no-wrap gap-1"):
        if run.active:
            ui.button("Cancel", on_click=run.cancel.set).props(
                "flat dense no-caps color=negative"
            )
            live[run.number] = (stage, progress, took)
        elif run.release is not None:
            ui.button(
                "Explore",
                on_click=lambda n=run.number: ui.navigate.to(f"/navigate?run={n}"),
            ).props("flat dense no-caps")


def _seconds(duration: float | None) -> str:
    return "—" if duration is None else f"{duration:.1f} s"
