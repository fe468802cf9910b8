"""Small HTML helpers shared by the docs pages: every piece of spec text goes through `esc`,
`inline` or `prose`, so a spec can never inject markup into a page."""

from __future__ import annotations

import html
import json
import re
from typing import Any

__all__ = ["as_json", "assumed", "esc", "first_paragraph", "inline", "prose"]


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def inline(text: Any) -> str:
    """Escaped text whose `backtick` spans become <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))


def _paragraphs(text: Any) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", str(text or "")) if p.strip()]


def prose(text: Any) -> str:
    return "".join(f"<p>{inline(p)}</p>" for p in _paragraphs(text))


def first_paragraph(text: Any) -> str:
    """The first paragraph of a description, as plain text (the page's one-line summary)."""
    paragraphs = _paragraphs(text)
    return paragraphs[0] if paragraphs else ""


def as_json(value: Any) -> str:
    """A value as a reader expects to see it in a page: strings as they are, the rest as
    indented JSON (keys in the spec's order, so the same spec gives the same bytes)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def assumed(node: Any) -> str:
    if isinstance(node, dict) and "x-mock-assumed" in node:
        reason = " ".join(str(node["x-mock-assumed"]).split())
        return f'<div class="assumed"><b>Assumed:</b> {inline(reason)}</div>'
    return ""
