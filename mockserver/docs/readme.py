"""The README's per-API tables (endpoints, auth, documented and assumed behaviour), generated
from the specs between two markers, so `mockserver docs --check-readme` and a test can tell when
the README no longer says what the specs say."""

from __future__ import annotations

from mockserver.docs.model import ApiDoc

__all__ = ["README_START", "README_END", "readme_tables", "update_readme"]

README_START = "<!-- api-tables:start -->"
README_END = "<!-- api-tables:end -->"


def _cell(text: str) -> str:
    """One table cell: one line, pipes escaped, and `<` outside code spans kept as text."""
    parts = " ".join(str(text).split()).replace("|", "\\|").split("`")
    return "`".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(parts))


def readme_tables(apis: list[ApiDoc]) -> str:
    """One Markdown table per API: endpoints, auth, documented and assumed behaviour."""
    out = [
        "<!-- generated from specs/*.yaml by `mockserver docs --readme README.md`; "
        "do not edit by hand -->",
        "",
        "## The APIs: endpoints, auth, documented and assumed behaviour",
        "",
        "Each rule marked *documented* is stated in the API's source document; each marked "
        "*assumed* is the mock's choice where the document is silent (`x-mock-assumed` in the "
        "spec, at the place it names). `mockserver docs --out site` renders the full docs.",
    ]
    for api in apis:
        doc = api.spec
        out += [
            "",
            f"### {api.name}: {_cell(doc.title)}",
            "",
            f"Source document: `{doc.source}`" if doc.source else "Source document: none",
            "",
            "| Kind | Detail |",
            "|---|---|",
        ]
        out += [
            f"| endpoint | `{op.method} {op.native}` {_cell(op.op.get('summary', ''))} |"
            for op in doc.operations
        ]
        out += [f"| auth | {_cell(line)} |" for line in doc.auth()]
        out += [f"| documented | {_cell(rule)} |" for rule in doc.rules]
        out += [f"| assumed | `{_cell(a.location)}`: {_cell(a.reason)} |" for a in doc.assumptions]
    return "\n".join(out) + "\n"


def update_readme(text: str, tables: str) -> str:
    """README text with the generated tables between the markers (appended when absent)."""
    block = f"{README_START}\n{tables}{README_END}"
    start, end = text.find(README_START), text.find(README_END)
    if start == -1 or end == -1 or end < start:
        return text.rstrip("\n") + ("\n\n" if text.strip() else "") + block + "\n"
    return text[:start] + block + text[end + len(README_END) :]
