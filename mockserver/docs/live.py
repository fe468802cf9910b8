"""`/__mock/docs/`: the docs on the running mock, for the APIs it serves.

The same pages as the static site (index, `<api>.html`, control.html, assets/), plus "try it"
on each operation (a link to it in Swagger UI, and a button that sends its sample request) and
its last journaled requests (assets/live.js reads `GET /__mock/requests`); each API's spec as
JSON (`<api>/openapi.json`, `control/openapi.json`, `control/<api>/openapi.json`) and its
interactive Swagger UI (`<api>/ui/`, `control/ui/`), with Swagger UI's assets copied from the
installed `swagger_ui_bundle` package (`swagger-ui/...`), never from a CDN. Everything sits under
`/__mock`, which no vendor API uses, so nothing can shadow a native path; the control token (when
set) guards it like the rest of `/__mock`.

The samples on these pages name the mock at the address the reader used (the request's Host,
when it is a plain host[:port], for the first few addresses; otherwise the default
127.0.0.1:8080). Pages are rendered on the first request for an address and kept: the app is
built for every test server, and most never serve a page.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from mockserver.control import render_control_error
from mockserver.core.errors import MockError
from mockserver.docs.html import esc
from mockserver.docs.model import SpecDoc, load_api_docs
from mockserver.docs.samples import DEFAULT_ORIGIN
from mockserver.docs.static import site_files

__all__ = ["DocsApp", "markdown_safe", "origin_of", "swagger_page"]

HTML = "text/html; charset=utf-8"
JSON = "application/json"
ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": JSON,
    ".png": "image/png",
}
HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$"
)
MAX_ORIGINS = 8  # addresses the pages are rendered for (and kept); then the default one
_NOT_MARKDOWN = {"example", "examples", "default", "enum"}


def swagger_page(title: str, specs: list[tuple[str, str]]) -> str:
    """A Swagger UI page for one spec, or for several with a picker (the control API and each
    API's control routes). Assets are at `../../swagger-ui/` from `/__mock/docs/<key>/ui/`."""
    config: dict = {"dom_id": "#swagger-ui", "deepLinking": True, "validatorUrl": None}
    if len(specs) == 1:
        config["url"] = specs[0][0]
        presets, layout = "[SwaggerUIBundle.presets.apis]", "BaseLayout"
    else:
        config["urls"] = [{"url": url, "name": name} for url, name in specs]
        presets = "[SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset]"
        layout = "StandaloneLayout"
    config_js = json.dumps(config).replace("<", "\\u003c")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{esc(title)}: Swagger UI</title><link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="../../swagger-ui/swagger-ui.css"></head><body>'
        '<p style="font:14px sans-serif;margin:.5rem 1rem"><a href="../../">All API docs</a></p>'
        '<div id="swagger-ui"></div>'
        '<script src="../../swagger-ui/swagger-ui-bundle.js"></script>'
        '<script src="../../swagger-ui/swagger-ui-standalone-preset.js"></script>'
        f"<script>window.ui = SwaggerUIBundle(Object.assign({config_js}, "
        f'{{presets: {presets}, layout: "{layout}"}}));</script></body></html>\n'
    )


def _markdown_text(text: str) -> str:
    """`<` outside code spans as `&lt;`: Swagger UI renders descriptions as Markdown with HTML,
    where `specs/control/<api>.yaml` would lose its `<api>` as an unknown tag."""
    parts = text.split("`")
    return "`".join(part if i % 2 else part.replace("<", "&lt;") for i, part in enumerate(parts))


def markdown_safe(node: Any) -> Any:
    """A copy of a spec whose `description` texts read in Swagger UI as written; examples,
    defaults and enums are data and stay as they are."""
    if isinstance(node, dict):
        return {
            key: _markdown_text(value)
            if key == "description" and isinstance(value, str)
            else value
            if key in _NOT_MARKDOWN
            else markdown_safe(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [markdown_safe(value) for value in node]
    return node


def origin_of(scope) -> str:
    """The mock's root as the reader reached it, for the samples; the default for anything
    that is not a plain host[:port] (a Host header is the client's to write)."""
    host = next((v for k, v in scope.get("headers") or [] if k == b"host"), b"").decode("latin-1")
    if not HOST.match(host):
        return DEFAULT_ORIGIN
    scheme = "https" if scope.get("scheme") == "https" else "http"
    return f"{scheme}://{host}{scope.get('root_path', '')}".rstrip("/")


def spec_json(doc: SpecDoc, *, serve_here: bool) -> bytes:
    """The spec for Swagger UI. A vendor spec's first server is the vendor's host; "Try it out"
    must call this mock, so a server at this host (the spec's base path) goes first."""
    spec = markdown_safe(copy.deepcopy(doc.spec))
    if serve_here:
        here = {"url": doc.base or "/", "description": "this mock"}
        spec["servers"] = [here, *doc.servers]
    return json.dumps(spec, default=str).encode()


class DocsApp:
    def __init__(
        self,
        spec_dir: Path,
        apis: list[tuple[str, str, str | None]],
        prefix: str = "/__mock/docs",
    ) -> None:
        self.spec_dir = spec_dir
        self.apis = apis  # (name, spec file, control spec file) per enabled API
        self.prefix = prefix
        self._files: dict[str, dict[str, tuple[bytes, str]]] = {}
        self._assets: dict[str, tuple[bytes, str]] = {}

    def files(self, origin: str = DEFAULT_ORIGIN) -> dict[str, tuple[bytes, str]]:
        """The site for one address. Past MAX_ORIGINS addresses, the default one's: a render
        takes a few hundred ms, so a client rotating Host names must not get one per request."""
        if origin not in self._files and len(self._files) >= MAX_ORIGINS:
            origin = DEFAULT_ORIGIN
        if origin not in self._files:
            self._files[origin] = self._render(origin)
        return self._files[origin]

    def _render(self, origin: str) -> dict[str, tuple[bytes, str]]:
        apis, control = load_api_docs(self.spec_dir, self.apis)
        files = {
            name: (data, ASSET_TYPES.get(Path(name).suffix, HTML))
            for name, data in site_files(apis, control, True, origin).items()
        }
        files[""] = files["index.html"]
        pickers = [("../openapi.json", "control")]
        for api in apis:
            files[f"{api.name}/openapi.json"] = (spec_json(api.spec, serve_here=True), JSON)
            page = swagger_page(api.spec.title, [("../openapi.json", api.name)])
            files[f"{api.name}/ui/"] = (page.encode(), HTML)
            if api.control:
                files[f"control/{api.name}/openapi.json"] = (
                    spec_json(api.control, serve_here=False),
                    JSON,
                )
                pickers.append((f"../{api.name}/openapi.json", f"{api.name} control routes"))
        files["control/openapi.json"] = (spec_json(control, serve_here=False), JSON)
        files["control/ui/"] = (swagger_page(control.title, pickers).encode(), HTML)
        return files

    def asset(self, name: str) -> tuple[bytes, str] | None:
        """A file of the installed Swagger UI bundle, by its plain name (no sub-paths)."""
        if name not in self._assets:
            from swagger_ui_bundle import swagger_ui_path

            path = Path(str(swagger_ui_path)) / name
            kind = ASSET_TYPES.get(path.suffix)
            if "/" in name or name.startswith(".") or kind is None or not path.is_file():
                return None
            self._assets[name] = (path.read_bytes(), kind)
        return self._assets[name]

    async def __call__(self, scope, receive, send) -> None:
        path = scope["path"]
        rest = path[len(self.prefix) :]
        if rest and not rest.startswith("/"):
            await self._error(send, MockError(404, "not_found", f"no docs at {path}"))
            return
        if scope["method"] not in ("GET", "HEAD"):
            error = MockError(
                405, "method_not_allowed", "the docs are read-only", headers={"Allow": "GET, HEAD"}
            )
            await self._error(send, error)
            return
        name = rest[1:]
        files = self.files(origin_of(scope))
        found = files.get(name) if rest else None
        if found is None and name.startswith("swagger-ui/"):
            found = self.asset(name[len("swagger-ui/") :])
        if found is None and (rest == "" or name + "/" in files):
            # pages link relatively, so `/__mock/docs` and `<api>/ui` need their trailing slash
            location = scope.get("root_path", "") + self.prefix + "/" + (name + "/" if name else "")
            await _send(send, 308, b"", HTML, [(b"location", location.encode())])
            return
        if found is None:
            await self._error(send, MockError(404, "not_found", f"no docs at {path}"))
            return
        body, kind = found
        await _send(send, 200, b"" if scope["method"] == "HEAD" else body, kind, length=len(body))

    async def _error(self, send, err: MockError) -> None:
        rendered = render_control_error(err)
        headers = [(k.lower().encode(), v.encode()) for k, v in rendered.headers.items()]
        await _send(send, err.status, rendered.encode(), rendered.media_type, headers)


async def _send(send, status: int, body: bytes, kind: str, headers=(), length: int | None = None):
    head = [
        (b"content-type", kind.encode()),
        (b"content-length", str(len(body) if length is None else length).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
