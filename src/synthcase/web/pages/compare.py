"""Side-by-side comparison of two finished runs.

Each side shows the run's parameters, its privacy accounting and what it
released (protected record count, synthetic records, combinations per
length; for a linked run persons and rows, and the combinations of persons
and of links): all of it releasable. The evaluation against the sensitive
records (:mod:`synthcase.web.figures`), when this version of synthcase has
one, is listed below; it stays with the steward.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui
from nicegui.run import io_bound as run_io

from synthcase.errors import SynthcaseError
from synthcase.web.evaluation import evaluate_run, evaluation_available
from synthcase.web.figures import Shares, Table, evaluation_figures
from synthcase.web.pages.common import bar, mark, percent, region
from synthcase.web.state import LINKED_MODE, Run, Workspace

__all__ = ["compare_card"]


def compare_card(workspace: Workspace) -> None:
    """The comparison card of the synthesize page."""
    with ui.card().classes("w-full"):
        ui.label("Compare two runs").classes("text-h6")

        def body() -> None:
            finished = workspace.finished_runs()
            if len(finished) < 2:
                ui.label(
                    "Finish at least two runs to compare them side by side."
                ).classes("text-grey-7")
                return
            options = {r.number: f"Run #{r.number}" for r in finished}
            chosen = [finished[-2].number, finished[-1].number]

            async def pick(side: int, number: int) -> None:
                chosen[side] = number
                await show()

            with ui.row().classes("gap-4"):
                for i in range(2):
                    mark(
                        ui.select(
                            options,
                            value=chosen[i],
                            label="Left" if i == 0 else "Right",
                            on_change=lambda e, i=i: pick(i, e.value),
                        ).classes("w-40"),
                        role=f"compare-{i}",
                    )
            sides = ui.row().classes("w-full gap-6 items-start no-wrap")

            async def show() -> None:
                runs = [r for r in (workspace.run(n) for n in chosen) if r]
                largest = max(
                    (
                        v
                        for r in runs
                        for _, released in _published(r)
                        for v in released.values()
                    ),
                    default=1,
                )
                sides.clear()
                with sides:
                    boxes = [_side(run, max(largest, 1)) for run in runs]
                for run, box in zip(runs, boxes, strict=True):
                    await _evaluation(run, box)

            ui.timer(0.01, show, once=True)

        redraw = region(body, "w-full")
        count = [len(workspace.finished_runs())]

        def tick() -> None:
            now = len(workspace.finished_runs())
            if now != count[0]:
                count[0] = now
                redraw()

        ui.timer(1.0, tick)


def _published(run: Run) -> list[tuple[str, dict[int, int]]]:
    """Published combinations per length, by aggregates file.

    A linked release publishes two: combinations of persons
    (``aggregates.tsv``) and of links (``link_aggregates.tsv``).
    """
    assert run.release is not None
    released = run.release.metadata.get("released_combinations", {})
    if run.mode != LINKED_MODE:
        return [("Published combinations by length", _by_length(released))]
    sections = [
        ("Published combinations of persons by length", released.get("subjects")),
        ("Published combinations of links by length", released.get("links")),
    ]
    return [(title, _by_length(counts)) for title, counts in sections if counts]


def _by_length(released: dict[str, Any]) -> dict[int, int]:
    return {int(k): int(v) for k, v in released.items()}


def _side(run: Run, largest: int) -> ui.column:
    assert run.release is not None
    meta: dict[str, Any] = run.release.metadata
    longest, columns = meta.get("reporting_length"), len(meta.get("columns", []))
    if run.mode == LINKED_MODE:
        # release.json lists the person aggregates' columns and R, cut to
        # them; the run's own choice covers the link columns too.
        longest, columns = run.reporting_length, len(run.columns)
        counts = [
            ("Protected person count", meta.get("protected_record_count")),
            ("Synthetic persons", meta.get("synthetic_subjects")),
            ("Synthetic rows", meta.get("synthetic_records")),
        ]
    else:
        counts = [
            ("Protected record count", meta.get("protected_record_count")),
            ("Synthetic records", meta.get("synthetic_records")),
        ]
    rows = [
        ("Method", run.method),
        ("Guarantee", run.guarantee),
        ("Longest combination R", longest),
        ("Columns", columns),
        *_settings(run),
        *counts,
        ("Seed", run.seed),
        ("Time", f"{run.duration or 0:.1f} s"),
    ]
    with ui.card().classes("flex-1").props("flat bordered"):
        mark(
            ui.label(f"Run #{run.number}").classes("text-subtitle1 text-weight-bold"),
            role="compare-title",
        )
        with ui.grid(columns="auto 1fr").classes("w-full gap-x-4"):
            for name, value in rows:
                ui.label(name).classes("text-grey-8")
                mark(ui.label(_text(value)), role="compare-value", name=name)
        for title, published in _published(run):
            ui.label(title).classes("text-weight-medium q-mt-sm")
            with ui.grid(columns="auto 1fr auto").classes(
                "w-full items-center gap-x-3"
            ):
                for length, released in sorted(published.items()):
                    ui.label(f"length {length}")
                    bar(released / largest)
                    ui.label(f"{released:,}")
        return ui.column().classes("w-full gap-1")


def _settings(run: Run) -> list[tuple[str, Any]]:
    """The method's own settings, as rows of the comparison."""
    if run.k_settings is not None:
        if run.k_settings.oversampling_ratio is None:
            return []
        return [
            ("Oversampling ratio", run.k_settings.oversampling_ratio),
            ("Oversampling tries", run.k_settings.tries),
        ]
    assert run.dp is not None
    rows: list[tuple[str, Any]] = [
        ("Accuracy", run.dp.accuracy_mode.value),
        ("Invented combinations", run.dp.fabrication_mode.value),
    ]
    if run.mode == LINKED_MODE:
        # A linked release fits no DP model; name the person instead.
        rows.append(("Person identifier", run.read.subject_id))
    elif run.dp.model_share > 0:
        rows.append(("Share for the model", run.dp.model_share))
        rows.append(
            ("Only listed combinations", "yes" if run.forbid_unlisted else "no")
        )
    return rows


async def _evaluation(run: Run, box: ui.column) -> None:
    """Fill ``box`` with the run's evaluation against the sensitive records."""
    if not evaluation_available(linked=run.mode == LINKED_MODE):
        with box:
            ui.label(
                "The evaluation against the sensitive data is not available in "
                "this version."
            ).classes("text-caption text-grey-7")
        return
    with box:
        waiting = ui.row().classes("items-center gap-2")
        with waiting:
            ui.spinner(size="sm")
            ui.label("Evaluating against the sensitive data…").classes("text-grey-7")
    try:
        evaluation = await run_io(evaluate_run, run)
    except SynthcaseError as error:
        box.clear()
        with box:
            ui.label(f"No evaluation: {error}").classes("text-negative")
        return
    box.clear()
    if evaluation is None:
        return
    figures = evaluation_figures(evaluation)
    with box:
        with ui.row().classes("items-center gap-2 q-mt-sm"):
            ui.icon("lock", color="negative")
            mark(
                ui.label(
                    "Evaluation against the sensitive data (not for sharing)"
                ).classes("text-weight-medium text-red-10"),
                role="evaluation",
                run=str(run.number),
            )
        with ui.grid(columns="auto 1fr").classes("w-full gap-x-4"):
            for score in figures.scores:
                ui.label(score.name).classes("text-body2 text-grey-8")
                mark(
                    ui.label(score.text).classes("text-body2"),
                    role="evaluation-score",
                    name=score.name,
                    run=str(run.number),
                )
        for shares in figures.shares:
            _shares(shares)
        for table in figures.tables:
            _table(table, run.number)
        for sentence in figures.summary:
            mark(
                ui.label(sentence).classes("text-caption text-grey-9"),
                role="evaluation-summary",
                run=str(run.number),
            )


def _shares(shares: Shares) -> None:
    if not shares.rows:
        return
    ui.label(shares.title).classes("text-caption text-grey-8")
    with ui.grid(columns="auto 1fr auto").classes("w-full items-center gap-x-3"):
        for label, share in shares.rows:
            ui.label(label)
            bar(share, "teal-6")
            ui.label(percent(share))


def _table(table: Table, run: int) -> None:
    if not table.rows:
        return
    ui.label(table.title).classes("text-caption text-grey-8 q-mt-sm")
    columns = " ".join("auto" for _ in table.header)
    with ui.grid(columns=columns).classes("w-full gap-x-3 text-body2"):
        for heading in table.header:
            ui.label(heading).classes("text-weight-medium")
        for row in table.rows:
            for heading, text in zip(table.header, row, strict=True):
                mark(
                    ui.label(text),
                    role="evaluation-cell",
                    table=table.title,
                    column=heading,
                    run=str(run),
                )


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
