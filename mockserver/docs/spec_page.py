"""The HTML for one spec: its operations (parameters, body, code samples, every response with
an example), its behaviour (documented rules, assumed choices) and its schemas. Anchors carry
the spec's key, so several specs share a page (the control page) without clashes:
`<key>-op-<operationId>`, `<key>-op-<operationId>-r<status>`, `schema-<key>-<name>`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mockserver.docs.html import as_json, assumed, esc, inline, prose
from mockserver.docs.model import Operation, SpecDoc, anchor_id
from mockserver.docs.samples import DEFAULT_ORIGIN, Sample, build_request, generated_samples
from mockserver.docs.vendor import Vendor

__all__ = ["PageContext", "SpecPage"]


@dataclass(frozen=True)
class PageContext:
    """How a spec is shown: on disk or live, at which mock address, with which extras."""

    origin: str = DEFAULT_ORIGIN  # the mock's root in the samples
    live: bool = False
    samples: bool = False  # a vendor API: code samples per operation
    journal_api: str | None = None  # live: whose journal holds this spec's requests
    ui: str | None = None  # live: this spec's Swagger UI page (relative), for "try it"
    vendor: Vendor = field(default_factory=Vendor)


class SpecPage:
    CONSTRAINTS = (
        "format pattern minimum maximum exclusiveMinimum exclusiveMaximum minLength maxLength "
        "minItems maxItems maxProperties default example"
    ).split()

    def __init__(self, doc: SpecDoc, ctx: PageContext | None = None) -> None:
        self.doc = doc
        self.ctx = ctx or PageContext()
        self.prefix = anchor_id(doc.key)

    def schema_anchor(self, name: str) -> str:
        return f"schema-{self.prefix}-{anchor_id(name)}"

    def op_anchor(self, op: Operation) -> str:
        return f"{self.prefix}-{op.anchor}"

    def response_anchor(self, op: Operation, status: Any) -> str:
        return f"{self.op_anchor(op)}-r{anchor_id(str(status))}"

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
        out = [
            "array of " + self.schema(schema.get("items"), depth + 1)
            if kind == "array"
            else f"<i>{esc(kind or 'any')}</i>"
        ]
        facts = self._facts(schema)
        if facts:
            out.append(f'<span class="note">({"; ".join(facts)})</span>')
        if schema.get("description"):
            out.append(f"— {inline(' '.join(str(schema['description']).split()))}")
        out.append(assumed(schema))
        for word, key in (("all of", "allOf"), ("one of", "oneOf"), ("any of", "anyOf")):
            if key in schema:
                items = "".join(f"<li>{self.schema(s, depth + 1)}</li>" for s in schema[key])
                out.append(f'{word}:<ul class="props">{items}</ul>')
        props, required = schema.get("properties") or {}, set(schema.get("required") or [])
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

    def _facts(self, schema: dict) -> list[str]:
        facts = [
            f"{key} <code>{esc(as_json(schema[key]))}</code>"
            for key in self.CONSTRAINTS
            if key in schema and not isinstance(schema[key], dict | list)
        ]
        if "enum" in schema:
            values = (f"<code>{esc(json.dumps(v, default=str))}</code>" for v in schema["enum"])
            facts.append("one of " + ", ".join(values))
        if schema.get("nullable"):
            facts.append("nullable")
        return facts

    def schemas(self) -> str:
        return "".join(
            f'<section class="schema" id="{self.schema_anchor(name)}"><h4><code>{esc(name)}'
            f"</code></h4>{self.schema(schema)}</section>"
            for name, schema in self.doc.schemas().items()
        )

    # --- examples and bodies ------------------------------------------------------------------
    def examples(self, media: dict, media_type: str, status: str | None = None) -> list[str]:
        """The examples of one media type, as blocks. A shared response used under several
        statuses may key its named examples by status ("400", "404"): each status shows its
        own."""
        found = [("Example", media["example"])] if "example" in media else []
        named = media.get("examples") or {}
        if status is not None and status in named:
            named = {status: named[status]}
        for name, example in named.items():
            example = self.doc.resolve(example)
            title = example.get("summary") or ("Example" if name == status else name)
            found.append((title, example.get("value", example.get("externalValue"))))
        return [self._example(title, value, media_type) for title, value in found]

    @staticmethod
    def _example(title: str, value: Any, media_type: str) -> str:
        block = (
            f'<p class="ex-title">{esc(title)}</p><pre class="example">{esc(as_json(value))}</pre>'
        )
        if media_type == "image/svg+xml" and isinstance(value, str):
            picture = base64.b64encode(value.encode()).decode()
            block += (
                f'<img class="svg-example" alt="{esc(title)}" '
                f'src="data:image/svg+xml;base64,{picture}">'
            )
        return block

    def content(self, content: dict | None, status: str | None = None) -> str:
        """Each media type with its examples and its schema (open for a request body, folded
        for a response, whose example is what a reader looks for first)."""
        parts = []
        for media_type, media in (content or {}).items():
            shown = "".join(self.examples(media, media_type, status))
            if not shown and status is not None:
                shown = '<p class="note">No example.</p>'
            fold = "<details>" if status is not None else "<details open>"
            parts.append(
                f'<div class="media"><p>Media type <code>{esc(media_type)}</code></p>{shown}'
                f"{fold}<summary>Schema</summary>{self.schema(media.get('schema'), expand=True)}"
                "</details></div>"
            )
        return "".join(parts)

    # --- operations ---------------------------------------------------------------------------
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
            '<h4>Parameters</h4><div class="scroll"><table><tr><th>Name</th><th>In</th>'
            f"<th>Required</th><th>Schema</th><th>Description</th></tr>{rows}</table></div>"
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
            headers = "".join(
                f"<li><code>{esc(name)}</code> "
                f"{self.schema(self.doc.resolve(h).get('schema'))}</li>"
                for name, h in (response.get("headers") or {}).items()
            )
            body = response.get("content")
            anchor = self.response_anchor(op, status)
            kind = f"s{str(status)[:1]}"
            parts.append(
                f'<div class="response" id="{anchor}"><h5><a class="status {kind}" '
                f'href="#{anchor}">{esc(status)}</a> {inline(response.get("description", ""))}</h5>'
                f"{assumed(raw)}{assumed(response) if response is not raw else ''}"
                + (f'<p>Headers:</p><ul class="props">{headers}</ul>' if headers else "")
                + (self.content(body, str(status)) if body else '<p class="note">No body.</p>')
                + "</div>"
            )
        return "<h4>Responses</h4>" + "".join(parts)

    def samples(self, op: Operation) -> str:
        """Request samples as tabs (radio buttons and CSS: they work without scripts)."""
        if not self.ctx.samples:
            return ""
        samples = self.sample_list(op)
        anchor = self.op_anchor(op)
        tabs, panels, group = [], [], None
        for i, sample in enumerate(samples):
            if sample.source != group:
                group = sample.source
                title = "From the document" if group == "document" else "Generated from the spec"
                tabs.append(f'<span class="tab-group">{title}</span>')
            tab = f"{anchor}-s{i}"
            tabs.append(
                f'<input type="radio" name="{anchor}-samples" id="{tab}"'
                f'{" checked" if i == 0 else ""}><label for="{tab}">{esc(sample.label)}</label>'
            )
            note = f'<p class="note">{inline(sample.note)}</p>' if sample.note else ""
            panels.append(
                f'<div class="panel" data-lang="{esc(sample.lang)}">{note}'
                f'<pre class="code"><code>{esc(sample.code)}</code></pre></div>'
            )
        return f'<h4>Request samples</h4><div class="samples">{"".join(tabs + panels)}</div>'

    def sample_list(self, op: Operation) -> list[Sample]:
        """The vendor document's samples first, then the generated ones."""
        vendor = self.ctx.vendor
        req = build_request(self.doc, op, self.ctx.origin, vendor.overrides)
        places = {
            "origin": self.ctx.origin,
            "server": self.ctx.origin + self.doc.base,
            "url": req.url,
        }
        own = vendor.for_operation(op.op.get("operationId", ""), places)
        return own + generated_samples(req)

    def try_it(self, op: Operation) -> str:
        """Live only: open the operation in Swagger UI, send the sample request from the page,
        and the operation's last journaled requests (filled by assets/live.js)."""
        if not self.ctx.live or not self.ctx.ui:
            return ""
        op_id = op.op.get("operationId", "")
        tag = (op.op.get("tags") or ["default"])[0]
        link = f"{self.ctx.ui}#/{quote(str(tag))}/{quote(op_id)}"
        out = f'<div class="try"><a class="button" href="{esc(link)}">Try it in Swagger UI</a>'
        if self.ctx.journal_api:
            req = build_request(self.doc, op, self.ctx.origin, self.ctx.vendor.overrides)
            data = json.dumps(req.as_dict(self.ctx.origin), ensure_ascii=False)
            out += (
                f'<button type="button" class="send" hidden data-request="{esc(data)}">'
                "Send the sample request</button>"
                '<pre class="answer" hidden></pre></div>'
                f'<div class="recent" data-api="{esc(self.ctx.journal_api)}" '
                f'data-operation="{esc(op_id)}"><h4>Recent requests</h4><p class="note">The '
                f'journal: <a href="../requests?api={esc(quote(self.ctx.journal_api))}">'
                "/__mock/requests</a> (with scripts on, the last 5 are listed here).</p></div>"
            )
            return out
        return out + "</div>"

    def operation(self, op: Operation) -> str:
        auth = "; ".join(" + ".join(req) or "none" for req in self.doc.security(op)) or "none"
        anchor = self.op_anchor(op)
        return (
            f'<section class="op" id="{anchor}"><h3><a class="anchor" href="#{anchor}">'
            f'<span class="method {op.method}">{op.method}</span> <code>{esc(op.native)}</code>'
            f"</a> {inline(op.op.get('summary', ''))}</h3>{prose(op.op.get('description'))}"
            f"{assumed(op.op)}<p class='note'>operationId <code>{esc(op.op.get('operationId', ''))}"
            f"</code> · security: {esc(auth)}</p>"
            + self.try_it(op)
            + self.parameters(op)
            + self.request_body(op)
            + self.samples(op)
            + self.responses(op)
            + "</section>"
        )

    def operations(self) -> str:
        return "".join(self.operation(op) for op in self.doc.operations)

    # --- behaviour ----------------------------------------------------------------------------
    def documented(self) -> str:
        if not self.doc.source:
            return ""
        rules = "".join(f"<li>{inline(rule)}</li>" for rule in self.doc.rules)
        return (
            f'<h3 id="{self.prefix}-documented">Documented</h3><p>Stated in the source document '
            f"<code>{esc(self.doc.source)}</code>:</p>"
            f"<ol>{rules or '<li>(no rules listed)</li>'}</ol>"
        )

    def assumed_table(self) -> str:
        rows = []
        for item in self.doc.assumptions:
            where = esc(item.location)
            op = self.doc.operation_for(item)
            if op is not None:
                where = f'<a href="#{self.op_anchor(op)}">{where}</a>'
            rows.append(f"<tr><td><code>{where}</code></td><td>{inline(item.reason)}</td></tr>")
        head = f'<h3 id="{self.prefix}-assumed">Assumed by the mock</h3>'
        if not rows:
            return head + "<p>Nothing: the spec marks no assumption.</p>"
        return (
            f"{head}<p>{len(rows)} choice(s) the source does not state, each marked "
            "<code>x-mock-assumed</code> where it applies in the spec:</p>"
            f'<div class="scroll"><table><tr><th>Where in the spec</th><th>Why</th></tr>'
            f"{''.join(rows)}</table></div>"
        )

    # --- navigation ---------------------------------------------------------------------------
    def nav_operations(self, relative: bool = False) -> str:
        """One link per operation; `relative`: its path below the spec's base (under a group
        heading that names the base)."""
        return "".join(
            f'<li><a href="#{self.op_anchor(op)}"><span class="m {op.method}">{op.method}</span> '
            f"{esc(op.path if relative else op.native)}</a></li>"
            for op in self.doc.operations
        )

    def nav_schemas(self) -> str:
        return "".join(
            f'<li><a href="#{self.schema_anchor(name)}">{esc(name)}</a></li>'
            for name in self.doc.schemas()
        )
