"""The API docs, generated from the specs: plain HTML and CSS (no script, no CDN), so the site
opens from disk with the network off.

`build_site(out_dir)` writes index.html, one page per API (`<api>.html`) and control.html.
Each page lists the operations (parameters, bodies, responses, schemas, examples) and a
"Behaviour" section: the rules the source document states (`info.x-mock-behaviour`) and every
`x-mock-assumed` choice with its place in the spec, so documented and assumed stay apart.
The running mock serves the same pages under `/__mock/docs/` (mockserver.docs.live), and the
README's per-API tables come from the same reading of the specs (mockserver.docs.readme).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from mockserver.docs.model import ApiDoc, Operation, SpecDoc, anchor_id, load_api_docs

__all__ = ["build_site", "render_site"]

CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d232a;background:#fbfbfc}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 4rem}
nav{background:#22303c;padding:.5rem 2rem}nav a{color:#e6edf3;margin-right:1.2rem}
code,pre{font:13px/1.4 ui-monospace,monospace}pre{background:#f1f3f5;padding:.6rem;overflow:auto}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d8dde3;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f4}.op{border:1px solid #d8dde3;background:#fff;margin:1rem 0;padding:.2rem 1rem}
.method{display:inline-block;min-width:4.5em;text-align:center;color:#fff;border-radius:3px;
padding:0 .3em;background:#6c757d}.GET{background:#1f7ae0}.POST{background:#2b9348}
.PUT{background:#c77d00}.PATCH{background:#8a5cf6}.DELETE{background:#d62828}
.assumed{border-left:4px solid #e09f3e;background:#fff8ec;padding:.3rem .6rem;margin:.4rem 0}
.required{color:#b00020;font-size:.85em}.props{margin:.2rem 0;padding-left:1.2rem}
.note{color:#56606b}h3 code{font-size:1em}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def inline(text: Any) -> str:
    """Escaped text whose `backtick` spans become <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))


def prose(text: Any) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", str(text or "")) if p.strip()]
    return "".join(f"<p>{inline(' '.join(p.split()))}</p>" for p in paragraphs)


def as_json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def assumed(node: Any) -> str:
    if isinstance(node, dict) and "x-mock-assumed" in node:
        reason = " ".join(str(node["x-mock-assumed"]).split())
        return f'<div class="assumed"><b>Assumed:</b> {inline(reason)}</div>'
    return ""


class SpecPage:
    """The HTML for one spec's operations, behaviour and schemas. Anchors carry the spec's key,
    so several specs can share a page (the control page)."""

    CONSTRAINTS = (
        "format pattern minimum maximum exclusiveMinimum exclusiveMaximum minLength maxLength "
        "minItems maxItems default example"
    ).split()

    def __init__(self, doc: SpecDoc) -> None:
        self.doc = doc
        self.prefix = anchor_id(doc.key)

    def schema_anchor(self, name: str) -> str:
        return f"schema-{self.prefix}-{anchor_id(name)}"

    def op_anchor(self, op: Operation) -> str:
        return f"{self.prefix}-{op.anchor}"

    # --- schemas ------------------------------------------------------------------------------
    def schema(self, schema: Any, depth: int = 0, expand: bool = False) -> str:
        """A schema as a readable tree; a named component is a link to its definition under
        "Schemas" (`expand` shows it in place too: bodies, so a reader needn't jump)."""
        if not isinstance(schema, dict) or depth > 12:
            return "<i>any</i>"
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            link = f'<a href="#{self.schema_anchor(name)}">{esc(name)}</a>'
            return f"{link}: {self.schema(self.doc.lookup(ref), depth + 1)}" if expand else link
        schema = self.doc.resolve(schema)
        kind = schema.get("type")
        if kind == "array":
            out = ["array of " + self.schema(schema.get("items"), depth + 1)]
        else:
            out = [f"<i>{esc(kind or 'any')}</i>"]
        facts = [
            f"{key} <code>{esc(as_json(schema[key]))}</code>"
            for key in self.CONSTRAINTS
            if key in schema and not isinstance(schema[key], dict | list)
        ]
        if "enum" in schema:
            facts.append(
                "one of "
                + ", ".join(
                    f"<code>{esc(json.dumps(v, default=str))}</code>" for v in schema["enum"]
                )
            )
        if schema.get("nullable"):
            facts.append("nullable")
        if facts:
            out.append(f'<span class="note">({"; ".join(facts)})</span>')
        if schema.get("description"):
            out.append(f"— {inline(' '.join(str(schema['description']).split()))}")
        out.append(assumed(schema))
        for word, key in (("all of", "allOf"), ("one of", "oneOf"), ("any of", "anyOf")):
            if key in schema:
                items = "".join(f"<li>{self.schema(s, depth + 1)}</li>" for s in schema[key])
                out.append(f'{word}:<ul class="props">{items}</ul>')
        props = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        if props:
            rows = "".join(
                f"<li><code>{esc(name)}</code>"
                + (' <span class="required">required</span>' if name in required else "")
                + f" {self.schema(prop, depth + 1)}</li>"
                for name, prop in props.items()
            )
            out.append(f'<ul class="props">{rows}</ul>')
        extra = schema.get("additionalProperties")
        if extra is False:
            out.append('<span class="note">(no other properties)</span>')
        elif isinstance(extra, dict):
            out.append(f"other properties: {self.schema(extra, depth + 1)}")
        return " ".join(part for part in out if part)

    def schemas(self) -> str:
        blocks = [
            f'<section id="{self.schema_anchor(name)}"><h4><code>{esc(name)}</code></h4>'
            f"{self.schema(schema)}</section>"
            for name, schema in self.doc.schemas().items()
        ]
        return "<h3>Schemas</h3>" + "".join(blocks) if blocks else ""

    # --- operations ---------------------------------------------------------------------------
    def examples(self, media: dict) -> str:
        found = []
        if "example" in media:
            found.append(("Example", media["example"]))
        for name, example in (media.get("examples") or {}).items():
            example = self.doc.resolve(example)
            title = name + (f" — {example['summary']}" if example.get("summary") else "")
            found.append((title, example.get("value", example.get("externalValue"))))
        return "".join(
            f"<p>{esc(title)}:</p><pre>{esc(as_json(value))}</pre>" for title, value in found
        )

    def content(self, content: dict | None) -> str:
        return "".join(
            f"<div>Media type <code>{esc(media_type)}</code>: "
            f"{self.schema(media.get('schema'), expand=True)}</div>{self.examples(media)}"
            for media_type, media in (content or {}).items()
        )

    def parameters(self, op: Operation) -> str:
        params = self.doc.parameters(op)
        if not params:
            return ""
        rows = "".join(
            f"<tr><td><code>{esc(p.get('name'))}</code></td><td>{esc(p.get('in'))}</td>"
            f"<td>{'yes' if p.get('required') else 'no'}</td><td>{self.schema(p.get('schema'))}"
            + (f"<br>example <code>{esc(as_json(p['example']))}</code>" if "example" in p else "")
            + f"</td><td>{inline(p.get('description', ''))}{assumed(p)}</td></tr>"
            for p in params
        )
        return (
            "<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Required</th>"
            f"<th>Schema</th><th>Description</th></tr>{rows}</table>"
        )

    def request_body(self, op: Operation) -> str:
        body = self.doc.resolve(op.op.get("requestBody"))
        if not body:
            return ""
        need = "required" if body.get("required") else "optional"
        return (
            f"<h4>Request body ({need})</h4>{prose(body.get('description'))}{assumed(body)}"
            + self.content(body.get("content"))
        )

    def responses(self, op: Operation) -> str:
        parts = []
        for status, raw in (op.op.get("responses") or {}).items():
            response = self.doc.resolve(raw)
            headers = response.get("headers") or {}
            header_list = "".join(
                f"<li><code>{esc(name)}</code> {self.schema(self.doc.resolve(h).get('schema'))}"
                "</li>"
                for name, h in headers.items()
            )
            parts.append(
                f"<h5>{esc(status)} <span class='note'>{inline(response.get('description', ''))}"
                f"</span></h5>{assumed(raw)}{assumed(response) if response is not raw else ''}"
                + (f'Headers:<ul class="props">{header_list}</ul>' if header_list else "")
                + self.content(response.get("content"))
            )
        return "<h4>Responses</h4>" + "".join(parts)

    def operation(self, op: Operation) -> str:
        auth = "; ".join(" + ".join(req) or "none" for req in self.doc.security(op)) or "none"
        return (
            f'<section class="op" id="{self.op_anchor(op)}"><h3><span class="method {op.method}">'
            f"{op.method}</span> <code>{esc(op.native)}</code> {inline(op.op.get('summary', ''))}"
            f"</h3>{prose(op.op.get('description'))}{assumed(op.op)}"
            f"<p class='note'>operationId <code>{esc(op.op.get('operationId', ''))}</code>"
            f" · security: {esc(auth)}</p>"
            + self.parameters(op)
            + self.request_body(op)
            + self.responses(op)
            + "</section>"
        )

    def operations(self) -> str:
        toc = "".join(
            f'<li><a href="#{self.op_anchor(op)}"><code>{op.method} {esc(op.native)}</code></a> '
            f"{inline(op.op.get('summary', ''))}</li>"
            for op in self.doc.operations
        )
        return f"<ul>{toc}</ul>" + "".join(self.operation(op) for op in self.doc.operations)

    # --- behaviour ----------------------------------------------------------------------------
    def documented(self) -> str:
        if not self.doc.source:
            return ""
        rules = "".join(f"<li>{inline(rule)}</li>" for rule in self.doc.rules)
        return (
            f"<h3>Documented</h3><p>Stated in the source document <code>{esc(self.doc.source)}"
            f"</code>:</p><ol>{rules or '<li>(no rules listed)</li>'}</ol>"
        )

    def assumed_table(self) -> str:
        rows = []
        for item in self.doc.assumptions:
            where = esc(item.location)
            op = self.doc.operation_for(item)
            if op is not None:
                where = f'<a href="#{self.op_anchor(op)}">{where}</a>'
            rows.append(f"<tr><td><code>{where}</code></td><td>{inline(item.reason)}</td></tr>")
        if not rows:
            return "<h3>Assumed by the mock</h3><p>Nothing: the spec marks no assumption.</p>"
        return (
            f"<h3>Assumed by the mock</h3><p>{len(rows)} choice(s) the source does not state, each "
            "marked <code>x-mock-assumed</code> where it applies in the spec:</p>"
            f"<table><tr><th>Where in the spec</th><th>Why</th></tr>{''.join(rows)}</table>"
        )


def _page(title: str, nav: list[tuple[str, str]], body: str) -> str:
    links = "".join(f'<a href="{esc(href)}">{esc(text)}</a>' for href, text in nav)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{esc(title)}</title><style>{CSS}</style></head>'
        f"<body><nav>{links}</nav><main>{body}</main></body></html>\n"
    )


def _overview(doc: SpecDoc, ui: str | None) -> str:
    servers = "".join(
        f"<li><code>{esc(s.get('url'))}</code> {inline(s.get('description', ''))}</li>"
        for s in doc.servers
    )
    auth = "".join(f"<li>{inline(line)}</li>" for line in doc.auth())
    return (
        f"{prose(doc.info.get('description'))}<table>"
        f"<tr><th>Spec</th><td><code>{esc(doc.file)}</code> (version "
        f"{esc(doc.info.get('version', '?'))})</td></tr>"
        + (f"<tr><th>Source</th><td><code>{esc(doc.source)}</code></td></tr>" if doc.source else "")
        + f"<tr><th>Servers</th><td><ul>{servers}</ul>Paths below start with the first server's "
        f"path: <code>{esc(doc.base or '/')}</code></td></tr>"
        f"<tr><th>Auth</th><td><ul>{auth}</ul></td></tr>"
        + (f'<tr><th>Try it</th><td><a href="{esc(ui)}">Swagger UI</a></td></tr>' if ui else "")
        + "</table>"
    )


def render_api_page(api: ApiDoc, nav: list[tuple[str, str]], live: bool = False) -> str:
    page = SpecPage(api.spec)
    control = (
        f"<p>The mock's own routes for this API (seeding, inspection) are on the "
        f'<a href="control.html#control-{anchor_id(api.name)}">control page</a>.</p>'
        if api.control
        else ""
    )
    body = (
        f"<h1>{esc(api.spec.title)}</h1>"
        + _overview(api.spec, f"{api.name}/ui/" if live else None)
        + control
        + f'<h2 id="behaviour">Behaviour</h2>{page.documented()}{page.assumed_table()}'
        + f'<h2 id="operations">Operations</h2>{page.operations()}{page.schemas()}'
    )
    return _page(api.spec.title, nav, body)


def render_control_page(apis: list[ApiDoc], control: SpecDoc, nav, live: bool = False) -> str:
    docs = [control] + [api.control for api in apis if api.control]
    sections = []
    for doc in docs:
        page = SpecPage(doc)
        section_id = "control" if doc is control else f"control-{anchor_id(doc.key.split('/')[-1])}"
        sections.append(
            f'<h2 id="{section_id}">{esc(doc.title)}</h2>'
            + _overview(doc, "control/ui/" if live and doc is control else None)
            + (page.assumed_table() if doc.assumptions else "")
            + page.operations()
            + page.schemas()
        )
    body = (
        f"<h1>{esc(control.title)}</h1><h2 id='behaviour'>Behaviour</h2><p>Not a vendor API: "
        "every route here is the mock's own design, so nothing is documented elsewhere or "
        "assumed. Each API's own routes sit below <code>/__mock/&lt;api&gt;/</code>.</p>"
        + "".join(sections)
    )
    return _page(control.title, nav, body)


def render_index(apis: list[ApiDoc], control: SpecDoc, nav, live: bool = False) -> str:
    def endpoints(doc: SpecDoc) -> str:
        return "<br>".join(f"<code>{op.method} {esc(op.native)}</code>" for op in doc.operations)

    rows = []
    for api in apis:
        doc = api.spec
        ui = f'<br><a href="{esc(api.name)}/ui/">Swagger UI</a>' if live else ""
        rows.append(
            f'<tr><td><a href="{esc(api.name)}.html">{esc(doc.title)}</a><br>'
            f"<code>{esc(api.name)}</code>{ui}</td><td>{endpoints(doc)}</td>"
            f"<td>{'<br>'.join(inline(line) for line in doc.auth())}</td>"
            f"<td><code>{esc(doc.source or '—')}</code></td>"
            f'<td><a href="{esc(api.name)}.html#behaviour">{len(doc.rules)} documented, '
            f"{len(doc.assumptions)} assumed</a></td></tr>"
        )
    ui = '<br><a href="control/ui/">Swagger UI</a>' if live else ""
    rows.append(
        f'<tr><td><a href="control.html">{esc(control.title)}</a>{ui}</td>'
        f"<td>{endpoints(control)}<br>+ each API's routes under <code>/__mock/&lt;api&gt;/</code>"
        "</td><td>none (or <code>X-Mock-Token</code> when the mock runs with a control token)</td>"
        "<td>— (the mock's own)</td><td>—</td></tr>"
    )
    body = (
        "<h1>heartbeat-mockserver: API docs</h1><p>Generated from the OpenAPI specs the mock "
        "serves. Each API is served at its native paths, so a client only changes its base URL. "
        "Every page separates the rules its source document states from the choices the mock "
        "assumes.</p><table><tr><th>API</th><th>Native endpoints</th><th>Auth</th>"
        f"<th>Source document</th><th>Behaviour</th></tr>{''.join(rows)}</table>"
    )
    return _page("heartbeat-mockserver API docs", nav, body)


def render_site(apis: list[ApiDoc], control: SpecDoc, live: bool = False) -> dict[str, str]:
    """File name -> HTML for the index, each API's page and the control page."""
    nav = [("index.html", "All APIs")] + [(f"{a.name}.html", a.name) for a in apis]
    nav.append(("control.html", "control"))
    if live:
        nav[0] = ("./", "All APIs")
    pages = {"index.html": render_index(apis, control, nav, live)}
    for api in apis:
        pages[f"{api.name}.html"] = render_api_page(api, nav, live)
    pages["control.html"] = render_control_page(apis, control, nav, live)
    return pages


def _default_spec_dir() -> Path:
    from mockserver.spec.loader import SPEC_DIR

    return SPEC_DIR


def build_site(out_dir: str | Path, spec_dir: Path | None = None) -> list[Path]:
    """Write the static site for every `specs/*.yaml`; returns the files written."""
    apis, control = load_api_docs(spec_dir or _default_spec_dir())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_site(apis, control).items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return written
