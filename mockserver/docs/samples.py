"""Code samples for one operation, generated from its spec: the method, the native URL on the
mock, the credential its security scheme asks for, its required headers and the documented
example body. cURL, Python (httpx) and JavaScript (fetch) for every vendor operation; the
vendor document's own languages come from mockserver.docs.vendor.

A sample is what a reader copies, so it must work: tests/e2e/test_doc_samples.py runs every
cURL, Python and JavaScript sample against a live mock and requires the documented answer.
Credentials are placeholders (the document's own where it has one, else `YOUR_API_KEY`-style),
which the mock accepts by default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from mockserver.docs.model import Operation, SpecDoc

__all__ = [
    "DEFAULT_ORIGIN",
    "Overrides",
    "Sample",
    "SampleRequest",
    "build_request",
    "curl",
    "fetch_js",
    "generated_samples",
    "httpx_py",
    "sample_value",
]

DEFAULT_ORIGIN = "http://127.0.0.1:8080"  # `mockserver serve`'s default address
PLACEHOLDER_TOKEN = "YOUR_TOKEN"
PLACEHOLDER_KEY = "YOUR_API_KEY"
PLACEHOLDER_BASIC = "username:password"


@dataclass(frozen=True)
class Overrides:
    """What the spec cannot say about a runnable sample, per API (docs/vendor/<api>.yaml):
    the document's placeholder credential per security scheme, a parameter value that works
    on the mock, and a body for an operation whose document shows none."""

    credentials: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    label: str  # the tab's title
    lang: str  # shell, python, javascript, lua, csharp, php
    code: str
    source: str = "generated"  # or "document": a copy of the vendor document's own sample
    note: str = ""


@dataclass(frozen=True)
class SampleRequest:
    """One request as every sample sends it."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None
    has_body: bool = False
    basic: tuple[str, str] | None = None  # HTTP Basic (user, password)
    expect: int | None = None  # the status of the documented success answer

    def as_dict(self, origin: str) -> dict:
        """For the live page's "Send" button: a path on this origin, the headers to send."""
        headers = dict(self.headers)
        if self.basic:
            headers["Authorization"] = "Basic " + _b64(":".join(self.basic))
        out = {"method": self.method, "url": self.url.removeprefix(origin) or "/"}
        out["headers"] = headers
        if self.has_body:
            out["body"] = json.dumps(self.body, ensure_ascii=False)
        return out


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def sample_value(doc: SpecDoc, schema: Any, depth: int = 0) -> Any:
    """A value the schema accepts, preferring what the spec shows: its example, default or
    first enum value; objects get their required properties only."""
    schema = doc.resolve(schema)
    if not isinstance(schema, dict) or depth > 8:
        return None
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return sample_value(doc, schema[key][0], depth + 1)
    if schema.get("allOf"):
        merged: dict = {}
        for part in schema["allOf"]:
            value = sample_value(doc, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {
            name: sample_value(doc, props.get(name), depth + 1)
            for name in schema.get("required") or []
        }
    if kind == "array":
        return [sample_value(doc, schema.get("items"), depth + 1)] if schema.get("minItems") else []
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    return "string"  # what Swagger UI shows for a string without an example


def _param_value(doc: SpecDoc, param: dict, overrides: Overrides) -> Any:
    name = param.get("name", "")
    if name in overrides.parameters:
        return overrides.parameters[name]
    if "example" in param:
        return param["example"]
    return sample_value(doc, param.get("schema"))


def _body(doc: SpecDoc, op: Operation, overrides: Overrides) -> tuple[bool, Any]:
    op_id = op.op.get("operationId", "")
    if op_id in overrides.bodies:
        return True, overrides.bodies[op_id]
    body = doc.resolve(op.op.get("requestBody")) or {}
    media = (body.get("content") or {}).get("application/json")
    if media is None:
        return False, None
    if "example" in media:
        return True, media["example"]
    for example in (media.get("examples") or {}).values():
        return True, doc.resolve(example).get("value")
    return True, sample_value(doc, media.get("schema"))


def _auth(doc: SpecDoc, op: Operation, overrides: Overrides):
    """(headers, query, basic) for the operation's first security requirement."""
    headers: list[tuple[str, str]] = []
    query: list[tuple[str, str]] = []
    basic = None
    requirements = doc.security(op)
    schemes = (doc.spec.get("components") or {}).get("securitySchemes") or {}
    for name in requirements[0] if requirements else {}:
        scheme = doc.resolve(schemes.get(name) or {})
        credential = overrides.credentials.get(name)
        kind, how = scheme.get("type"), str(scheme.get("scheme", "")).lower()
        if kind == "http" and how == "basic":
            user, _, password = (credential or PLACEHOLDER_BASIC).partition(":")
            basic = (user, password)
        elif kind == "http":
            headers.append(("Authorization", f"{how.title()} {credential or PLACEHOLDER_TOKEN}"))
        elif kind == "apiKey" and scheme.get("in") == "query":
            query.append((scheme.get("name", name), credential or PLACEHOLDER_KEY))
        elif kind == "apiKey" and scheme.get("in") == "cookie":
            headers.append(
                ("Cookie", f"{scheme.get('name', name)}={credential or PLACEHOLDER_KEY}")
            )
        elif kind == "apiKey":
            headers.append((scheme.get("name", name), credential or PLACEHOLDER_KEY))
    return headers, query, basic


def success_status(op: Operation) -> int | None:
    """The first 2xx the operation documents: the answer its samples must get."""
    for status in op.op.get("responses") or {}:
        if str(status).isdigit() and 200 <= int(status) < 300:
            return int(status)
    return None


def _accepts_json(doc: SpecDoc, op: Operation, status: int | None) -> bool:
    response = doc.resolve((op.op.get("responses") or {}).get(str(status)) or {})
    return "application/json" in (response.get("content") or {})


def build_request(
    doc: SpecDoc, op: Operation, origin: str = DEFAULT_ORIGIN, overrides: Overrides | None = None
) -> SampleRequest:
    overrides = overrides or Overrides()
    path, headers, query = op.native, [], []
    for param in doc.parameters(op):
        where, name = param.get("in"), param.get("name", "")
        if where == "path":
            value = quote(str(_param_value(doc, param, overrides)), safe="-._~*")
            path = path.replace("{" + name + "}", value)
        elif param.get("required") and where == "query":
            query.append((name, str(_param_value(doc, param, overrides))))
        elif param.get("required") and where == "header":
            headers.append((name, str(_param_value(doc, param, overrides))))
    auth_headers, auth_query, basic = _auth(doc, op, overrides)
    has_body, body = _body(doc, op, overrides)
    expect = success_status(op)
    extra = [("Accept", "application/json")] if _accepts_json(doc, op, expect) else []
    if has_body:
        extra.append(("Content-Type", "application/json"))
    url = (
        origin.rstrip("/")
        + path
        + ("?" + urlencode(query + auth_query) if query or auth_query else "")
    )
    return SampleRequest(
        op.method, url, tuple(auth_headers + headers + extra), body, has_body, basic, expect
    )


# --- the generated languages -------------------------------------------------------------------


def _sq(text: str) -> str:
    """A POSIX shell single-quoted word."""
    return "'" + text.replace("'", "'\\''") + "'"


def curl(req: SampleRequest) -> str:
    parts = [f"curl --request {req.method}", f"--url {_sq(req.url)}"]
    if req.basic:
        parts.append(f"--user {_sq(':'.join(req.basic))}")
    parts += [f"--header {_sq(f'{name}: {value}')}" for name, value in req.headers]
    if req.has_body:
        parts.append(f"--data {_sq(json.dumps(req.body, indent=2, ensure_ascii=False))}")
    return " \\\n  ".join(parts)


def _py(value: Any, indent: int) -> str:
    """A JSON value as a Python literal, one item per line like black would lay it out."""
    pad, inner = " " * indent, " " * (indent + 4)
    if isinstance(value, dict) and value:
        items = "".join(
            f"{inner}{json.dumps(k)}: {_py(v, indent + 4)},\n" for k, v in value.items()
        )
        return "{\n" + items + pad + "}"
    if isinstance(value, list) and value:
        return "[\n" + "".join(f"{inner}{_py(v, indent + 4)},\n" for v in value) + pad + "]"
    if value is True or value is False or value is None:
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def httpx_py(req: SampleRequest) -> str:
    method = req.method.lower()
    call = (
        f"httpx.{method}("
        if method in ("get", "post", "put", "patch", "delete", "options", "head")
        else f'httpx.request("{req.method}", '
    )
    args = [json.dumps(req.url)]
    if req.basic:
        args.append(f"auth=({json.dumps(req.basic[0])}, {json.dumps(req.basic[1])})")
    headers = {k: v for k, v in req.headers if not (req.has_body and k == "Content-Type")}
    if headers:  # json= sets Content-Type itself
        args.append("headers=" + _py(headers, 4))
    if req.has_body:
        args.append("json=" + _py(req.body, 4))
    body = "".join(f"    {arg},\n" for arg in args)
    return f"import httpx\n\nresponse = {call}\n{body})\nprint(response.status_code, response.text)"


def _js_indent(text: str, by: int) -> str:
    return text.replace("\n", "\n" + " " * by)


def fetch_js(req: SampleRequest) -> str:
    headers = [f"    {json.dumps(name)}: {json.dumps(value)}," for name, value in req.headers]
    if req.basic:
        credential = json.dumps(":".join(req.basic))
        headers.insert(0, f'    "Authorization": "Basic " + btoa({credential}),')
    options = [f"  method: {json.dumps(req.method)},"]
    if headers:
        options.append("  headers: {\n" + "\n".join(headers) + "\n  },")
    if req.has_body:
        body = _js_indent(json.dumps(req.body, indent=2, ensure_ascii=False), 2)
        options.append(f"  body: JSON.stringify({body}),")
    return (
        f"const response = await fetch({json.dumps(req.url)}, {{\n"
        + "\n".join(options)
        + "\n});\nconsole.log(response.status, await response.text());"
    )


def generated_samples(req: SampleRequest) -> list[Sample]:
    return [
        Sample("cURL", "shell", curl(req)),
        Sample("Python (httpx)", "python", httpx_py(req)),
        Sample("JavaScript (fetch)", "javascript", fetch_js(req)),
    ]
