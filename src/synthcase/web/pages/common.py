"""The frame every page shares: header, step links, messages.

Every value that comes from the case file or a release is shown through
text elements (labels, table cells, notifications), which the browser
displays as text: no page builds HTML from data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nicegui import ui

__all__ = [
    "STEPS",
    "bar",
    "error_card",
    "hint",
    "mark",
    "notify_error",
    "page_frame",
    "percent",
    "region",
]

STEPS = (
    ("/", "1 · Prepare"),
    ("/select", "2 · Select"),
    ("/synthesize", "3 · Synthesize"),
    ("/navigate", "4 · Explore"),
    ("/export", "5 · Export"),
)

_PRIVATE_NOTE = (
    "synthcase runs only on this computer: nothing you load or create here is "
    "sent anywhere. Stopping the app forgets everything."
)


@contextmanager
def page_frame(path: str, title: str, intro: str) -> Iterator[None]:
    """Lay out the header, the step links and the page's title and intro."""
    ui.page_title(f"synthcase · {title}")
    ui.query("body").classes("bg-grey-1")
    with ui.header().classes("items-center bg-indigo-9 q-px-lg q-py-sm gap-6"):
        ui.label("synthcase").classes("text-h6 text-weight-bold")
        with ui.row().classes("gap-1"):
            for target, label in STEPS:
                button = ui.button(
                    label, on_click=lambda t=target: ui.navigate.to(t)
                ).props("flat no-caps color=white")
                if target == path:
                    button.classes("bg-indigo-7 text-weight-bold")
                    button.props('aria-current="page"')
    with ui.column().classes("w-full max-w-6xl mx-auto q-pa-lg gap-4"):
        ui.label(title).classes("text-h5 text-weight-medium")
        ui.label(intro).classes("text-body1 text-grey-8")
        yield
        ui.separator()
        ui.label(_PRIVATE_NOTE).classes("text-caption text-grey-7")


def error_card(message: str) -> ui.card:
    """A red card holding a problem and its fix (shown as text)."""
    card = ui.card().classes("w-full bg-red-1 border-l-4 border-red-700")
    with card, ui.row().classes("items-start no-wrap gap-3"):
        ui.icon("error_outline", color="negative").classes("text-h5")
        text = ui.label(message).classes("text-body1 text-red-10")
        text.props["role"] = "alert"
        mark(text, role="error")
    return card


def hint(text: str) -> None:
    """A help icon that shows ``text`` when hovered or focused."""
    with ui.icon("help_outline", color="grey-7").classes("cursor-help text-body1"):
        ui.tooltip(text).classes("text-body2").style("max-width: 22rem")


def notify_error(message: str) -> None:
    """A notification that stays until closed, for a problem to fix."""
    ui.notify(
        message, type="negative", multi_line=True, close_button="Close", timeout=0
    )


def percent(share: float) -> str:
    """``0.1234`` as ``12.3 %``."""
    return f"{100 * share:.1f} %"


def mark(element: ui.element, **attributes: str) -> ui.element:
    """Set ``data-*`` attributes on ``element`` (used by tests and styles).

    The values are assigned as properties, not parsed from a string, so any
    text (a column name with quotes, say) is kept as it is.
    """
    for key, value in attributes.items():
        element.props[f"data-{key.replace('_', '-')}"] = value
    return element


def bar(share: float, color: str = "indigo-6") -> None:
    """A horizontal bar ``share`` (0 to 1) of the available width."""
    width = max(0.0, min(share, 1.0)) * 100
    with ui.element("div").classes("w-full bg-grey-3 rounded h-3"):
        ui.element("div").classes(f"bg-{color} rounded h-3").style(
            f"width: {width:.1f}%"
        )


def region(
    build: Callable[[], None], classes: str = "w-full gap-4"
) -> Callable[[], None]:
    """Draw ``build`` in a container now; return a function that redraws it."""
    container = ui.column().classes(classes)

    def redraw() -> None:
        container.clear()
        with container:
            build()

    redraw()
    return redraw
