"""What a newcomer sees first: `serve`'s summary and the landing page at `GET /__mock/`.

Both list the enabled APIs with their native routes (from each spec, heartbeat first; CORS
preflights left out), how to authenticate (`auth_hint()`) and, for an API a client can't use
before something is seeded through the control API, the API's own sentence (`needs_seeding`).
The page links to the docs, the report, the journal, health and the clock, all relative to
`/__mock/`, so it works behind a proxy's root path too. It is plain HTML and CSS (no script, no
request beyond this mock) and sits behind the control token like the rest of `/__mock`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from mockserver.control import render_control_error
from mockserver.core.errors import MockError
from mockserver.spec.loader import operations, parsed_spec

if TYPE_CHECKING:
    from mockserver.core.api import MockApi
    from mockserver.settings import Settings

__all__ = [
    "ApiPageRedirects",
    "LandingPage",
    "api_routes",
    "landing_html",
    "seeding_warnings",
    "serve_summary",
]

HTML = "text/html; charset=utf-8"
CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d232a;background:#fbfbfc}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 4rem}
nav{background:#22303c;padding:.5rem 2rem}nav a{color:#e6edf3;margin-right:1.2rem}
code{font:13px/1.4 ui-monospace,monospace}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #d8dde3;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f4}section{border:1px solid #d8dde3;background:#fff;margin:1rem 0;
padding:.2rem 1rem}ul{list-style:none;padding-left:0}
.method{display:inline-block;min-width:4.5em;text-align:center;color:#fff;border-radius:3px;
padding:0 .3em;background:#6c757d}.GET{background:#1f7ae0}.POST{background:#2b9348}
.PATCH{background:#8a5cf6}
.note{border-left:4px solid #e09f3e;background:#fff8ec;padding:.3rem .6rem}
"""
LINKS = (  # (href relative to /__mock/, label, what it is)
    ("docs/", "API docs", "every API's operations, schemas, examples and behaviour"),
    ("docs/control.html", "control API docs", "what tests and people use to drive the mock"),
    ("ui/", "dashboard", "live heartbeat timelines, the journal, faults and the clock"),
    ("report?format=html", "report", "heartbeat timelines and findings in one HTML file"),
    ("report?format=text", "report (text)", "per API: requests, invalid ones, cadence"),
    ("report", "report (JSON)", "the same, for a program"),
    ("requests", "journal", "every request with its verdict, credentials redacted"),
    ("health", "health", "enabled APIs, store, clock"),
    ("clock", "clock", "the mock clock; move it with POST /__mock/clock/advance"),
)


def api_routes(api: MockApi) -> list[tuple[str, str]]:
    """(METHOD, native path template) of each of the API's operations, the heartbeat first;
    CORS preflights (OPTIONS) are not routes a client calls."""
    ops = [op for op in operations(parsed_spec(api.spec)) if op.method != "OPTIONS"]
    ops.sort(key=lambda op: op.operation_id != api.heartbeat_operation)
    return [(op.method, op.template) for op in ops]


def serve_summary(apis: dict[str, MockApi], base: str, settings: Settings) -> list[str]:
    """`serve`'s lines: each API's routes with its auth, what it needs seeded, then the landing
    page and the docs (or that the control API is off)."""
    lines = []
    for name, api in apis.items():
        for i, (method, path) in enumerate(api_routes(api)):
            auth = f"  auth: {api.auth_hint()}" if i == 0 and api.auth_hint() else ""
            lines.append(f"{name if i == 0 else '':<12} {method:<5} {base}{path}{auth}")
        if api.needs_seeding and settings.control:
            lines.append(f"{'':<12} seeding: {api.needs_seeding}")
    if not settings.control:
        return [*lines, f"{'control':<12} off"]
    token = " (X-Mock-Token required)" if settings.control_token else ""
    return [
        *lines,
        f"{'control':<12} {base}/__mock/  (landing page: routes, docs, report){token}",
        f"{'docs':<12} {base}/__mock/docs/",
    ]


def seeding_warnings(apis: dict[str, MockApi], settings: Settings) -> list[str]:
    """One line per enabled API that can't be used with the control API off."""
    if settings.control:
        return []
    return [
        f"mockserver: warning: --no-control leaves {name} unusable: {api.needs_seeding}"
        for name, api in apis.items()
        if api.needs_seeding
    ]


def _api_section(name: str, api: MockApi) -> str:
    routes = "".join(
        f'<li><span class="method {esc(m)}">{esc(m)}</span> <code>{esc(p)}</code></li>'
        for m, p in api_routes(api)
    )
    seeding = (
        f'<p class="note">Before the first call: {esc(api.needs_seeding)}.</p>'
        if api.needs_seeding
        else ""
    )
    return (
        f'<section id="{esc(name)}"><h2><code>{esc(name)}</code>: '
        f"{esc(api.title)}</h2><ul>{routes}</ul>"
        f"<p>Auth: {esc(api.auth_hint() or 'none')}</p>{seeding}"
        f'<p><a href="docs/{esc(name)}.html">docs</a> · '
        f'<a href="docs/{esc(name)}/ui/">Swagger UI</a> · '
        f'<a href="report?format=text&amp;api={esc(name)}">report</a> · '
        f'<a href="requests?api={esc(name)}">journal</a></p></section>'
    )


def landing_html(apis: dict[str, MockApi], version: str) -> str:
    links = "".join(
        f'<tr><td><a href="{esc(href)}">{esc(label)}</a></td><td>{esc(what)}</td></tr>'
        for href, label, what in LINKS
    )
    sections = "".join(_api_section(name, api) for name, api in apis.items())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>heartbeat-mockserver</title><link rel="icon" href="data:,"><style>{CSS}</style>'
        '</head><body><nav><a href="./">mockserver</a><a href="docs/">docs</a>'
        '<a href="ui/">dashboard</a><a href="report?format=html">report</a>'
        '<a href="requests">journal</a></nav><main>'
        f"<h1>heartbeat-mockserver {esc(version)}</h1>"
        "<p>Each API below answers at its native paths on this host: point a client at this "
        "base URL and change nothing else. The mock validates every request against the "
        "API's spec, keeps state on its own clock and records each request with its verdict."
        f"</p><table><tr><th>link</th><th>what</th></tr>{links}</table>"
        f"{sections}</main></body></html>\n"
    )


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


async def _send(send, status: int, body: bytes, kind: str, headers=(), length=None) -> None:
    size = len(body) if length is None else length
    head = [(b"content-type", kind.encode()), (b"content-length", str(size).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*head, *headers]})
    await send({"type": "http.response.body", "body": body})


async def _redirect(scope, send, path: str) -> None:
    location = (scope.get("root_path", "") + path).encode()
    await _send(send, 308, b"", HTML, [(b"location", location)])


class LandingPage:
    """`GET /__mock/` (and `/__mock`, redirected to it) in front of the control API `app`,
    which answers every other path; the page is rendered on first request and kept."""

    def __init__(self, app, apis: dict[str, MockApi], version: str, prefix: str = "/__mock"):
        self.app = app
        self.apis = apis
        self.version = version
        self.prefix = prefix
        self._page: bytes | None = None

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope.get("type") != "http" or path not in (self.prefix, self.prefix + "/"):
            await self.app(scope, receive, send)
            return
        if path == self.prefix:
            await _redirect(scope, send, self.prefix + "/")
            return
        if scope["method"] not in ("GET", "HEAD"):
            err = MockError(405, "method_not_allowed", "the landing page is read-only")
            rendered = render_control_error(err)
            allow = [(b"allow", b"GET, HEAD")]
            await _send(send, 405, rendered.encode(), rendered.media_type, allow)
            return
        if self._page is None:
            self._page = landing_html(self.apis, self.version).encode()
        body = b"" if scope["method"] == "HEAD" else self._page
        await _send(send, 200, body, HTML, length=len(self._page))


class ApiPageRedirects:
    """`/__mock/docs/<api>` and `/__mock/docs/<api>/` lead to that API's page (`<api>.html`) in
    front of the docs `app`: the URL a person types after seeing `<api>/ui/` and
    `<api>/openapi.json`, which was a 404."""

    def __init__(self, app, names: list[str], prefix: str = "/__mock/docs") -> None:
        self.app = app
        self.pages = {f"{prefix}/{name}{end}": name for name in names for end in ("", "/")}
        self.prefix = prefix

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        name = self.pages.get(scope.get("path", "")) if scope.get("type") == "http" else None
        if name is None or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        await _redirect(scope, send, f"{self.prefix}/{name}.html")
