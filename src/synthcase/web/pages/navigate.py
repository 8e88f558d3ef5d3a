"""Explore page: bar charts of a run's synthetic records, with selection.

Each column shows how many synthetic records hold each value. Clicking a
value selects it (one value per column); every chart then counts only the
synthetic records matching the other selected values. Next to each count
stands the protected count of the same combination from the release's
aggregates, when the combination has at most ``R`` values and was
published. Everything here is releasable: synthetic records and protected
counts.
"""

from __future__ import annotations

import pandas as pd
from nicegui import ui

from synthcase.pipeline import Release
from synthcase.web.pages.common import error_card, hint, mark, page_frame
from synthcase.web.state import Workspace

__all__ = ["navigate_page"]

_SELECTED = "bg-indigo-2 text-weight-bold"


def navigate_page(workspace: Workspace, run: int | None = None) -> None:
    """Build the explore page, showing run number ``run`` (default: latest)."""
    with page_frame(
        "/navigate",
        "Explore a run",
        "Click values to select them (one per column). Each chart then counts "
        "the synthetic records that match your selection, next to the "
        "protected count published in the release.",
    ):
        finished = workspace.finished_runs()
        if not finished:
            error_card("No finished run yet. Start one on 3 · Synthesize.")
            return
        numbers = [r.number for r in finished]
        chosen = run if run in numbers else numbers[-1]
        with ui.row().classes("items-center gap-4"):
            mark(
                ui.select(
                    {n: f"Run #{n}" for n in numbers},
                    value=chosen,
                    label="Run",
                    on_change=lambda e: ui.navigate.to(f"/navigate?run={e.value}"),
                ).classes("w-40"),
                role="run-select",
            )
        found = workspace.run(chosen)
        assert found is not None and found.release is not None
        _Explorer(found.release).build()


class _Explorer:
    """The charts of one release and the steward's selection."""

    def __init__(self, release: Release) -> None:
        assert release.synthetic is not None
        self.release = release
        self.frame: pd.DataFrame = release.synthetic
        self.aggregates = release.aggregates
        self.length = self.aggregates.reporting_length
        self.selection: dict[str, str] = {}
        self.rows: dict[str, list[tuple[str, tuple[ui.element, ...]]]] = {}

    def build(self) -> None:
        with ui.card().classes("w-full sticky top-16 z-10"):
            with ui.row().classes("items-center gap-6"):
                ui.label("Selection").classes("text-h6")
                self.chosen = mark(ui.label(""), role="selection")
                ui.button("Clear", on_click=self.clear).props("flat dense no-caps")
            with ui.row().classes("items-baseline gap-8"):
                with ui.row().classes("items-baseline gap-2"):
                    ui.label("Synthetic records:").classes("text-grey-8")
                    self.synthetic = mark(
                        ui.label("").classes("text-h6"), role="selection-synthetic"
                    )
                with ui.row().classes("items-baseline gap-2"):
                    ui.label("Protected count:").classes("text-grey-8")
                    self.protected = mark(
                        ui.label("").classes("text-h6"), role="selection-protected"
                    )
                    hint(self._protection())
            ui.label(
                f"— : the combination has more than {self.length} values, so the "
                "release does not publish its count."
            ).classes("text-caption text-grey-7")
        with ui.grid(columns="repeat(auto-fill, minmax(22rem, 1fr))").classes(
            "w-full gap-4"
        ):
            for j, column in enumerate(self.aggregates.columns):
                labels = list(self.aggregates.categories[j])
                extra = self.frame[column].dropna().unique()
                labels += sorted(str(v) for v in extra if v not in set(labels))
                with ui.card().classes("w-full gap-1"):
                    ui.label(column).classes("text-subtitle1 text-weight-bold")
                    with ui.row().classes("w-full text-caption text-grey-7 no-wrap"):
                        ui.label("value").classes("flex-1")
                        ui.label("synthetic").classes("w-16 text-right")
                        ui.label("protected").classes("w-16 text-right")
                    for label in labels:
                        self._row(column, label)
        self.update()

    def _protection(self) -> str:
        """How the release protects its counts, for the protected-count hint."""
        privacy = self.release.metadata.get("privacy", {})
        if "resolution" in privacy:
            how = (
                "rounded down to a multiple of k = "
                f"{privacy['resolution']}; combinations fewer than k records "
                "share are left out"
            )
        else:
            how = "with noise added to protect each person; rare ones may be left out"
        return (
            "The count published in the release for exactly this combination, "
            f"{how}. Only combinations of up to {self.length} values are published."
        )

    def _row(self, column: str, label: str) -> None:
        row = ui.element("div").classes(
            "w-full flex items-center no-wrap gap-2 q-px-xs rounded cursor-pointer"
        )
        mark(row, column=column, value=label)
        row.props["role"] = "button"
        row.props["tabindex"] = "0"
        row.on("click", lambda c=column, v=label: self.toggle(c, v))
        row.on("keydown.enter", lambda c=column, v=label: self.toggle(c, v))
        with row:
            with ui.column().classes("flex-1 gap-0 min-w-0"):
                ui.label(label).classes("text-body2 ellipsis")
                with ui.element("div").classes("w-full bg-grey-3 rounded h-2"):
                    inner = ui.element("div").classes("bg-indigo-5 rounded h-2")
            synthetic = mark(
                ui.label("").classes("w-16 text-right"), role="synthetic-count"
            )
            protected = mark(
                ui.label("").classes("w-16 text-right text-grey-8"),
                role="protected-count",
            )
        refs = (row, inner, synthetic, protected)
        self.rows.setdefault(column, []).append((label, refs))

    def toggle(self, column: str, value: str) -> None:
        if self.selection.get(column) == value:
            del self.selection[column]
        else:
            self.selection[column] = value
        self.update()

    def clear(self) -> None:
        self.selection.clear()
        self.update()

    def update(self) -> None:
        matches = self._matching(self.selection)
        self.chosen.text = (
            "; ".join(f"{c} = {v}" for c, v in self.selection.items())
            or "nothing selected (click a value)"
        )
        self.synthetic.text = f"{int(matches.sum()):,}"
        self.protected.text = self._protected(self.selection)
        for column in self.aggregates.columns:
            others = {c: v for c, v in self.selection.items() if c != column}
            counts = self.frame.loc[self._matching(others), column].value_counts()
            largest = max(int(counts.max()) if len(counts) else 0, 1)
            for label, (row, inner, synthetic, protected) in self.rows.get(column, []):
                count = int(counts.get(label, 0))
                inner.style(f"width: {100 * count / largest:.1f}%")
                synthetic.text = f"{count:,}"
                protected.text = self._protected({**others, column: label})
                if self.selection.get(column) == label:
                    row.classes(add=_SELECTED)
                else:
                    row.classes(remove=_SELECTED)

    def _matching(self, selection: dict[str, str]) -> pd.Series:
        mask = pd.Series(True, index=self.frame.index)
        for column, value in selection.items():
            mask &= (self.frame[column] == value).fillna(False).astype(bool)
        return mask

    def _protected(self, selection: dict[str, str]) -> str:
        if not selection:
            return f"{self.aggregates.record_count:,}"
        if len(selection) > self.length:
            return "—"
        count = self.aggregates.count_of(selection)
        return "not published" if count is None else f"{count:,}"
