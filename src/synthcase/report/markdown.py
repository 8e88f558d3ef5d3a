"""A small, safe markdown-to-HTML converter for privacy statements.

Only the forms synthcase's own statements use are converted: headings,
paragraphs, bullet and numbered lists, fenced code, code spans, bold,
emphasis and link text. Everything is escaped first and the patterns only
wrap escaped text in fixed tags, so no input can produce markup of its own.
"""

from __future__ import annotations

import html
import re

__all__ = ["markdown_html"]

_HEADING = re.compile(r"(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_BULLET = re.compile(r"[-*+]\s+(.*)")
_NUMBERED = re.compile(r"[0-9]+[.)]\s+(.*)")
_CODE_SPAN = re.compile(r"(`[^`]*`)")
_STRONG = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")
_EMPHASIS = re.compile(r"(?<![*\w])[*_](\S(?:.*?\S)?)[*_](?![*\w])")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _inline(text: str) -> str:
    """Escape ``text`` and apply code spans, bold, emphasis and link text.

    Escaping comes first and the patterns only wrap escaped text in fixed
    tags, so no input can produce markup of its own. A link becomes its text
    followed by its address in brackets: the page itself links nowhere.
    """
    pieces = []
    for piece in _CODE_SPAN.split(text):
        if piece.startswith("`") and piece.endswith("`") and len(piece) >= 2:
            pieces.append(f"<code>{html.escape(piece[1:-1])}</code>")
            continue
        piece = html.escape(piece)
        piece = _LINK.sub(r"\1 (\2)", piece)
        piece = _STRONG.sub(r"<strong>\1</strong>", piece)
        piece = _EMPHASIS.sub(r"<em>\1</em>", piece)
        pieces.append(piece)
    return "".join(pieces)


def markdown_html(text: str) -> str:
    """Convert a small subset of markdown to HTML, escaping everything.

    Handles headings, paragraphs, bullet and numbered lists, fenced code and
    the inline forms of :func:`_inline`; anything else is shown as text.
    """
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    fence: list[str] | None = None

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            blocks.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            inner = "".join(f"<li>{_inline(item)}</li>" for item in items)
            blocks.append(f"<{list_tag}>{inner}</{list_tag}>")
            items.clear()
            list_tag = ""

    for raw in text.splitlines():
        line = raw.strip()
        if fence is not None:
            if line.startswith("```"):
                blocks.append(f"<pre>{html.escape(chr(10).join(fence))}</pre>")
                fence = None
            else:
                fence.append(raw)
            continue
        if line.startswith("```"):
            flush()
            fence = []
            continue
        heading = _HEADING.fullmatch(line)
        bullet = _BULLET.fullmatch(line)
        numbered = _NUMBERED.fullmatch(line)
        if not line:
            flush()
        elif heading:
            flush()
            level = min(len(heading.group(1)) + 2, 6)
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            tag = "ul" if bullet else "ol"
            if paragraph or list_tag != tag:
                flush()
            list_tag = tag
            items.append((bullet or numbered).group(1))  # type: ignore[union-attr]
        elif items and raw[:1].isspace():
            items[-1] += " " + line
        else:
            if items:
                flush()
            paragraph.append(line)
    if fence is not None:
        blocks.append(f"<pre>{html.escape(chr(10).join(fence))}</pre>")
    flush()
    return "\n".join(blocks)
