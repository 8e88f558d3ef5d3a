"""Inline SVG charts for the steward's report.

Small, dependency-free drawings: grouped bar charts and score meters,
returned as SVG markup to embed in a page. Every text (titles, category
labels, series names) is escaped for HTML, so a label taken from the data
cannot inject markup. Each bar carries a ``<title>`` with its exact value,
which browsers show on hover without any script.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

__all__ = ["PALETTE", "bar_chart", "score_meter"]

PALETTE = ("#2f6aa3", "#d9822b", "#6b8e23", "#8e44ad")
"""Series colours, in series order."""

_WIDTH, _HEIGHT = 640, 250
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 30, 56


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _format(value: float, percent: bool) -> str:
    if percent:
        return f"{100 * value:.1f}%"
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def _nice_top(value: float) -> float:
    """Smallest of 1, 2, 2.5 or 5 times a power of ten that is >= value.

    >>> _nice_top(0.83), _nice_top(7), _nice_top(0)
    (1.0, 10.0, 1.0)
    """
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    percent: bool = False,
    maximum: float | None = None,
    axis_label: str = "",
) -> str:
    """Draw a grouped bar chart.

    Args:
        title: Chart title, also its accessible name.
        categories: Label of each group of bars, along the x axis.
        series: ``(name, values)`` per series, one value per category;
            ``None`` draws no bar.
        percent: Show values (shares in 0..1) as percentages.
        maximum: Top of the y axis; by default a round number above the
            largest value.
        axis_label: Text along the x axis.

    Returns:
        A ``<figure>`` holding the SVG and a caption.
    """
    values = [v for _, vs in series for v in vs if v is not None]
    top = maximum if maximum is not None else _nice_top(max(values, default=0.0))
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{_e(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_e(title)}</title>",
    ]
    for i in range(5):
        tick = top * i / 4
        y = _TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_WIDTH - _RIGHT}" y2="{y:.1f}" '
            'class="grid"/>'
            f'<text x="{_LEFT - 6}" y="{y + 3:.1f}" class="tick" '
            f'text-anchor="end">{_e(_format(tick, percent))}</text>'
        )
    n = max(1, len(categories))
    group_w = plot_w / n
    bar_w = group_w * 0.8 / max(1, len(series))
    show_values = n * len(series) <= 24
    rotate = n > 10
    for c, label in enumerate(categories):
        x0 = _LEFT + c * group_w + group_w * 0.1
        for s, (name, vs) in enumerate(series):
            value = vs[c]
            if value is None:
                continue
            h = plot_h * min(max(value / top, 0.0), 1.0) if top > 0 else 0.0
            x, y = x0 + s * bar_w, _TOP + plot_h - h
            text = _format(value, percent)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w * 0.92:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{_e(name)}, {_e(label)}: {_e(text)}</title></rect>"
            )
            if show_values:
                parts.append(
                    f'<text x="{x + bar_w * 0.46:.1f}" y="{y - 3:.1f}" '
                    f'class="value" text-anchor="middle">{_e(text)}</text>'
                )
        cx = _LEFT + (c + 0.5) * group_w
        ly = _TOP + plot_h + 14
        transform = f' transform="rotate(-35 {cx:.1f} {ly:.1f})"' if rotate else ""
        anchor = "end" if rotate else "middle"
        parts.append(
            f'<text x="{cx:.1f}" y="{ly:.1f}" class="tick" text-anchor="{anchor}"'
            f"{transform}>{_e(label)}</text>"
        )
    if axis_label:
        parts.append(
            f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 4}" class="axis" '
            f'text-anchor="middle">{_e(axis_label)}</text>'
        )
    x = _LEFT
    for s, (name, _) in enumerate(series):
        parts.append(
            f'<rect x="{x}" y="8" width="12" height="12" '
            f'fill="{PALETTE[s % len(PALETTE)]}"/>'
            f'<text x="{x + 16}" y="18" class="legend">{_e(name)}</text>'
        )
        x += 24 + 8 * len(name)
    parts.append("</svg>")
    return (
        f'<figure class="chart"><figcaption>{_e(title)}</figcaption>'
        f"{''.join(parts)}</figure>"
    )


def score_meter(label: str, value: float | None, maximum: float = 1000.0) -> str:
    """Draw a horizontal meter of a score from 0 to ``maximum``."""
    share = 0.0 if value is None else min(max(value / maximum, 0.0), 1.0)
    text = "n/a" if value is None else f"{value:.0f} / {maximum:.0f}"
    width = 300
    return (
        f'<div class="meter"><span class="meter-label">{_e(label)}</span>'
        f'<svg viewBox="0 0 {width} 18" width="{width}" height="18" role="img" '
        f'aria-label="{_e(label)}: {_e(text)}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect x="0" y="0" width="{width}" height="18" class="meter-track"/>'
        f'<rect x="0" y="0" width="{width * share:.1f}" height="18" '
        f'fill="{PALETTE[0]}"/></svg>'
        f'<span class="meter-value">{_e(text)}</span></div>'
    )
