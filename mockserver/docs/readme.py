"""The README's generated parts, each between two markers, so `mockserver docs --check-readme`
and a test can tell when the README no longer says what the code says: the per-API tables
(endpoints, auth, documented and assumed behaviour) from the specs, and the settings reference
(every API setting with its type, default and meaning) from the API Config classes."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import re
import textwrap
import tokenize
from typing import Any

from mockserver.docs.model import ApiDoc

__all__ = [
    "README_START",
    "README_END",
    "SETTINGS_START",
    "SETTINGS_END",
    "field_comments",
    "readme_tables",
    "settings_reference",
    "update_readme",
]

README_START = "<!-- api-tables:start -->"
README_END = "<!-- api-tables:end -->"
SETTINGS_START = "<!-- settings-reference:start -->"
SETTINGS_END = "<!-- settings-reference:end -->"


def _cell(text: str) -> str:
    """One table cell: one line, pipes escaped, and `<` outside code spans kept as text."""
    parts = " ".join(str(text).split()).replace("|", "\\|").split("`")
    return "`".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(parts))


def _source(info: dict) -> str:
    """The vendor document by its title and public URL (`x-mock-source-title`, `-url`), as a
    reader can find it; the seed file name (`x-mock-source`) is only the project's own copy."""
    title = info.get("x-mock-source-title") or info.get("x-mock-source")
    if not title:
        return "none"
    url = info.get("x-mock-source-url")
    return f"“{_cell(title)}”" + (f", {url}" if url else " (the document gives no public URL)")


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
            f"Source document: {_source(doc.info)}",
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


def field_comments(config: type) -> dict[str, str]:
    """Each field of a Config dataclass with the comment that says what it is: the one on its
    line, else the comment block right above it. A leading seed number ("004: KV TTL 5
    minutes") reads "documented: ..." in the README, which cites documents by title."""
    source = textwrap.dedent(inspect.getsource(config))
    comments = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    code_lines = {n for n, line in enumerate(source.splitlines(), 1) if line.strip().split("#")[0]}
    out: dict[str, str] = {}
    for node in ast.parse(source).body[0].body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        text = comments.get(node.lineno) or comments.get(node.end_lineno or node.lineno)
        above, line = [], node.lineno - 1
        while not text and line in comments and line not in code_lines:
            above.insert(0, comments[line])
            line -= 1
        out[node.target.id] = _for_readers(text or " ".join(above))
    return out


def _for_readers(comment: str) -> str:
    """A code comment in the README's words: documents by role, not by seed number, and the
    `ANY`/`None` sentinel as what a TOML user does (leave the setting out)."""
    comment = re.sub(r"^\d{3}: ", "documented: ", comment)
    comment = re.sub(r"\b\d{3}\b(?= (states|says|shows))", "the document", comment)
    return re.sub(r"\b(?:None|ANY)\b", "unset", comment)


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value: Any = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`".replace("'", '"')


def settings_reference(classes: list[type] | None = None) -> str:
    """One table per API: each setting of its Config with its type, default and meaning."""
    from mockserver.apis import api_class, api_names
    from mockserver.core.config import ProxySettings, describe, field_types

    classes = classes if classes is not None else [api_class(n) for n in api_names()]
    out = [
        "<!-- generated from each API's Config by `mockserver docs --readme README.md`; "
        "do not edit by hand -->",
    ]
    generic = {f.name for f in dataclasses.fields(ProxySettings)}
    tables = [(f"`[apis.{c.name}]`", c.Config, generic) for c in classes]
    for title, config, skip in [("every API, `[apis.<api>]`", ProxySettings, set()), *tables]:
        types, docs = field_types(config), field_comments(config)
        out += ["", title, "", "| setting | type | default | what it is |"]
        out.append("|---|---|---|---|")
        for f in dataclasses.fields(config):
            if f.name in skip:  # the generic ones, in the first table
                continue
            kind, what = _cell(describe(types[f.name])), _cell(docs.get(f.name, ""))
            out.append(f"| `{f.name}` | {kind} | {_default(f)} | {what} |")
    return "\n".join(out) + "\n"


def _between(text: str, start: str, end: str, content: str) -> str | None:
    """`text` with `content` between the markers, or None when they are not both there."""
    i, j = text.find(start), text.find(end)
    if i == -1 or j == -1 or j < i:
        return None
    return text[:i] + f"{start}\n{content}{end}" + text[j + len(end) :]


def update_readme(text: str, tables: str, settings: str | None = None) -> str:
    """README text with the generated tables between their markers (appended when absent), and
    the settings reference between its markers where the README has them (`settings`, or the
    registry's APIs')."""
    block = f"{README_START}\n{tables}{README_END}"
    updated = _between(text, README_START, README_END, tables)
    if updated is None:
        updated = text.rstrip("\n") + ("\n\n" if text.strip() else "") + block + "\n"
    if SETTINGS_START in updated:
        content = settings if settings is not None else settings_reference()
        updated = _between(updated, SETTINGS_START, SETTINGS_END, content) or updated
    return updated
