"""The search box's index: every operation, schema, documented rule and assumption of the
site with the page and anchor it lives at, as a script (`assets/search-index.js`) so it loads
from disk too (browsers refuse `fetch` on file: URLs). assets/search.js reads it."""

from __future__ import annotations

import json

from mockserver.docs.model import ApiDoc, SpecDoc
from mockserver.docs.spec_page import SpecPage

__all__ = ["search_entries", "search_index"]


def _entries(doc: SpecDoc, page_name: str) -> list[dict]:
    page = SpecPage(doc)
    out = [
        {
            "t": f"{op.method} {op.native}",
            "x": str(op.op.get("summary", "")),
            "k": "operation",
            "u": f"{page_name}#{page.op_anchor(op)}",
        }
        for op in doc.operations
    ]
    out += [
        {"t": name, "x": doc.title, "k": "schema", "u": f"{page_name}#{page.schema_anchor(name)}"}
        for name in doc.schemas()
    ]
    out += [
        {"t": rule, "x": doc.title, "k": "documented", "u": f"{page_name}#{page.prefix}-documented"}
        for rule in doc.rules
    ]
    out += [
        {
            "t": item.location,
            "x": item.reason,
            "k": "assumed",
            "u": f"{page_name}#{page.prefix}-assumed",
        }
        for item in doc.assumptions
    ]
    return out


def search_entries(apis: list[ApiDoc], control: SpecDoc) -> list[dict]:
    entries = []
    for api in apis:
        entries += _entries(api.spec, f"{api.name}.html")
    for doc in [control] + [api.control for api in apis if api.control]:
        entries += _entries(doc, "control.html")
    return entries


def search_index(apis: list[ApiDoc], control: SpecDoc) -> str:
    data = json.dumps(search_entries(apis, control), ensure_ascii=False, separators=(",", ":"))
    return "window.DOCS_INDEX = " + data.replace("<", "\\u003c") + ";\n"
