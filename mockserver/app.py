"""`build_app(settings)`: the ASGI app that serves every enabled API at its native paths.

One connexion `AsyncApp` per API sits behind a small path-prefix dispatcher (shared/notes:
several specs in one connexion app at overlapping base paths break routing in connexion 3.3).
Each API app is wrapped by `ApiGate`, which reads the body once (size limit), applies fault
rules, adds CORS where the API documents it, and journals the request with its verdict.
`/__mock` is a connexion app of its own, built from specs/control.yaml plus each API's control spec.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import logging
import re
from pathlib import Path
from typing import Any

import yaml
from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionResponse
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from connexion.spec import OpenAPISpecification
from starlette.exceptions import HTTPException

from mockserver.api import ErrorBody, MockApi
from mockserver.apis import api_class, api_names
from mockserver.clock import Clock
from mockserver.context import MockContext
from mockserver.control import ControlHandlers, render_control_error
from mockserver.docs_live import DocsApp
from mockserver.errors import MockError, classify
from mockserver.faults import Faults
from mockserver.journal import NOT_JSON, Journal, body_for_journal, new_entry, parse_body
from mockserver.settings import Settings, SettingsError
from mockserver.store import StoreUnavailable, open_store
from mockserver.validation import VALIDATOR_MAP

__all__ = ["build_app", "MockServerApp", "SPEC_DIR", "spec_path"]

log = logging.getLogger("mockserver")


def _find_spec_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "specs", here.parent / "specs"):
        if (candidate / "control.yaml").is_file():
            return candidate
    raise FileNotFoundError("the OpenAPI specs were not found next to the mockserver package")


SPEC_DIR = _find_spec_dir()


def spec_path(name: str) -> Path:
    return SPEC_DIR / name


_NO_UI = SwaggerUIOptions(swagger_ui=False, serve_spec=False)
PURGE_EVERY = 60.0  # mock seconds between clean-ups of expired records


def _compile_operations(spec: dict, base: str = "") -> list[tuple[str, re.Pattern, str]]:
    """(METHOD, path regex, operationId) for every operation, to name a request's operation
    before connexion routes it (faults and the journal need it even when validation fails)."""
    servers = spec.get("servers") or [{"url": "/"}]
    if not base:
        url = servers[0]["url"]
        base = re.sub(r"^[a-z]+://[^/]+", "", url).rstrip("/")
    ops = []
    for path, item in spec.get("paths", {}).items():
        pattern = re.sub(
            r"\{([^}]+)\}",
            r"(?P<\1>[^/]+)",
            re.escape(base + path).replace(r"\{", "{").replace(r"\}", "}"),
        )
        regex = re.compile(f"^{pattern}$")
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                ops.append((method.upper(), regex, op["operationId"]))
    return ops


def _classify(exc: BaseException) -> MockError:
    """`classify`, plus the shared store going away mid-request: the API's own 503."""
    if isinstance(exc, StoreUnavailable):
        log.warning("%s", exc)
        return MockError(503, "unavailable", "state store unavailable")
    return classify(exc)


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _parsed_spec(spec_file: str) -> dict:
    """Each spec file parsed once per process, with libyaml when present: parsing the YAML was
    most of build_app's time (pure-Python PyYAML, each spec read twice)."""
    with open(spec_path(spec_file)) as fh:
        return yaml.load(fh, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


@contextlib.contextmanager
def _bundled_specs_trusted():
    """Connexion re-validates every spec against the OpenAPI meta-schema on each start (~0.3 s
    for the eleven here, half of build_app). The bundled specs are validated by the test suite
    (tests/unit/test_specs.py, openapi-spec-validator), so the mock skips that while it builds."""
    own = OpenAPISpecification.__dict__.get("_validate_spec")  # inherited in connexion 3.3
    OpenAPISpecification._validate_spec = classmethod(lambda cls, spec: None)
    try:
        yield
    finally:
        if own is None:
            del OpenAPISpecification._validate_spec
        else:
            OpenAPISpecification._validate_spec = own


def load_spec(spec_file: str) -> dict:
    """A private copy of a spec, for connexion (which may change what it is given)."""
    return copy.deepcopy(_parsed_spec(spec_file))


def heartbeat_route(api: MockApi) -> tuple[str, str]:
    """(METHOD, native path template) of an API's heartbeat, as the spec states it."""
    spec = _parsed_spec(api.spec)
    base = re.sub(r"^[a-z]+://[^/]+", "", (spec.get("servers") or [{"url": ""}])[0]["url"])
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") == api.heartbeat_operation:
                return method.upper(), base.rstrip("/") + path
    return "", api.prefixes[0]


def _load_operations(spec_file: str, base: str = "") -> list[tuple[str, re.Pattern, str]]:
    return _compile_operations(_parsed_spec(spec_file), base)


def _allow(operations, path: str) -> str | None:
    """The methods the spec declares for `path`: connexion's own 405 lists only the methods of
    the first route it tried when a path has several."""
    methods = sorted({m for m, regex, _ in operations if regex.match(path)})
    return ", ".join(methods) if methods else None


def _error_response(err: ErrorBody) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=err.status,
        content_type=err.media_type,
        body=err.encode(),
        headers=err.headers,
    )


# A native API needs no Swagger UI (docs live under /__mock/docs) and no lifespan of its own (the
# dispatcher answers it): two fewer layers on every heartbeat.
_API_MIDDLEWARES = [
    m
    for m in ConnexionMiddleware.default_middlewares
    if m not in (SwaggerUIMiddleware, LifespanMiddleware)
]


def _make_api_app(api: MockApi, settings: Settings, operations) -> AsyncApp:
    app = AsyncApp(
        f"mockserver.{api.name}",
        specification_dir=str(SPEC_DIR),
        validator_map=VALIDATOR_MAP,
        swagger_ui_options=_NO_UI,
        middlewares=list(_API_MIDDLEWARES),
    )
    app.add_api(
        load_spec(api.spec),
        resolver=Resolver(function_resolver=lambda op_id: getattr(api, op_id)),
        security_map=api.security_map(),
        validate_responses=settings.validate_responses,
        pythonic_params=False,
    )

    async def on_error(request, exc: BaseException) -> ConnexionResponse:
        err = _classify(exc)
        if err.status >= 500 and not isinstance(exc, (MockError, StoreUnavailable)):
            log.error("%s: unexpected error", api.name, exc_info=exc)
        if err.kind == "method_not_allowed":
            err.headers["Allow"] = _allow(operations, request.scope["path"]) or err.headers.get(
                "Allow", ""
            )
        # Some formats name the request in their errors (Laravel's 404/405: "The GET method is
        # not supported for route api/v3/...").
        err.data.setdefault("method", request.scope.get("method"))
        err.data.setdefault("path", request.scope.get("path"))
        state = request.scope.get("mockserver")
        if state is not None:
            if err.violation:
                state["violations"].extend(
                    [f.as_dict() for f in err.fields]
                    or [
                        {
                            "key": "",
                            "rule": err.kind,
                            "message": err.message,
                            "value": "",
                            "location": "request",
                        }
                    ]
                )
        return _error_response(api.render_error(err))

    for key in (Exception, HTTPException, ProblemException, MockError):
        app.add_error_handler(key, on_error)
    return app


_FAULT_KINDS = {
    400: "validation",
    401: "auth",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


class ApiGate:
    """Everything that happens around one API's connexion app (see the module docstring)."""

    def __init__(self, ctx: MockContext, api: MockApi, settings: Settings) -> None:
        self.ctx = ctx
        self.api = api
        self.operations = _load_operations(api.spec)
        self.app = _make_api_app(api, settings, self.operations)
        self.cors = api.cors_headers()
        self._next_purge = 0.0
        self.cors_raw = [(k.lower().encode(), v.encode()) for k, v in (self.cors or {}).items()]

    def operation(self, method: str, path: str) -> tuple[str | None, dict]:
        for op_method, regex, op_id in self.operations:
            m = regex.match(path)
            if m and op_method == method:
                return op_id, m.groupdict()
        return None, {}

    async def _respond(self, send, err: ErrorBody) -> tuple[int, bytes]:
        body = err.encode()
        headers = [
            (b"content-type", err.media_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        headers += [(k.lower().encode(), str(v).encode()) for k, v in err.headers.items()]
        headers += self.cors_raw
        await send({"type": "http.response.start", "status": err.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return err.status, body

    async def __call__(self, scope, receive, send) -> None:
        ctx, api = self.ctx, self.api
        settings = ctx.settings
        method, path = scope["method"], scope["path"]
        operation, path_params = self.operation(method, path)
        try:
            now = await ctx.clock.now()
        except StoreUnavailable:
            await self._respond(
                send, api.render_error(MockError(503, "unavailable", "state store unavailable"))
            )
            return
        entry = new_entry(
            api=api.name,
            operation=operation,
            method=method,
            path=path,
            query=scope.get("query_string", b"").decode("latin-1"),
            at=now,
            headers=scope["headers"],
        )
        state: dict[str, Any] = {
            "api": api.name,
            "operation": operation,
            "violations": [],
        }
        if now >= self._next_purge:
            # Bounded memory: expired records go once a (mock) minute, not on a timer thread.
            self._next_purge = now + PURGE_EVERY
            try:
                await ctx.store.purge(now - PURGE_EVERY)  # late: fakes decide expiry, not this
            except StoreUnavailable:
                pass

        # Read the body once, bounded: the journal needs it and an oversized one gets a 413
        # in the API's own format before any of it is parsed.
        raw, too_large = await self._read_body(scope, receive, settings.max_body_bytes)
        parsed = parse_body(raw)  # once: for the journal and the client's identity
        entry["request"]["body"] = body_for_journal(raw, settings.journal_body_cap, parsed)
        status, resp_body = 0, b""
        # The last part of the answer waits until the journal holds the request, so a client
        # that asks the journal right after its answer finds it there, however slow the store
        # (Redis) or whichever worker it asks.
        drop_send, send = send, _HeldSend(send)

        try:
            if too_large:
                err = MockError(
                    413,
                    "payload_too_large",
                    f"request body exceeds {settings.max_body_bytes} bytes",
                    violation=True,
                )
                state["violations"].append(
                    {
                        "key": "body",
                        "rule": "max_size",
                        "message": err.message,
                        "value": "",
                        "location": "body",
                    }
                )
                status, resp_body = await self._respond(send, api.render_error(err))
                return
            if self.cors is not None and method == "OPTIONS":
                status, resp_body = await self._respond(
                    send, ErrorBody(204, b"", media_type="text/plain")
                )
                return
            fault = await ctx.faults.take(api.name, operation)
            if fault is not None:
                entry["fault"] = {k: fault[k] for k in ("id", "status", "delay_ms", "drop")}
                if fault["delay_ms"]:
                    await asyncio.sleep(fault["delay_ms"] / 1000)
                if fault["drop"]:
                    _drop_connection(drop_send)
                    status = 0
                    return
                if fault["status"]:
                    status, resp_body = await self._respond(send, self._fault_body(fault))
                    return
            status, resp_body = await self._call_app(scope, state, raw, send)
        except StoreUnavailable:
            status, resp_body = await self._respond(
                send, api.render_error(MockError(503, "unavailable", "state store unavailable"))
            )
        finally:
            await self._journal(entry, state, parsed, path_params, scope, status, resp_body)
            await send.release()

    def _fault_body(self, fault: dict) -> ErrorBody:
        """The fault's own body, or the API's own error body for the fault's status."""
        status, headers = fault["status"], dict(fault["headers"])
        if fault.get("body") is not None:
            err = ErrorBody(status, fault["body"], headers)
            if isinstance(fault["body"], str):
                given = {k.lower(): v for k, v in headers.items()}
                err.media_type = given.get("content-type", "text/plain")
            return err
        kind = _FAULT_KINDS.get(status, "internal" if status >= 500 else "http_error")
        err = self.api.render_error(MockError(status, kind, "fault injected", headers=headers))
        err.status = status  # an API may render e.g. 415 as its 400; the fault asked for 415
        err.headers.update(headers)
        return err

    async def _read_body(self, scope, receive, limit: int) -> tuple[bytes, bool]:
        declared = 0
        for k, v in scope["headers"]:
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    declared = 0
        if declared > limit:
            return b"", True
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", True
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), False

    async def _call_app(self, scope, state, raw: bytes, send) -> tuple[int, bytes]:
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # nothing more will come; connexion only asks once
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        captured = {"status": 0, "body": []}
        cors = self.cors_raw

        async def capture(message):
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                if cors:
                    message = dict(message)
                    message["headers"] = list(message.get("headers", [])) + cors
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        inner = dict(scope)
        inner["mockserver"] = state
        # The body was read whole above; say its true length, so a chunked request (no
        # Content-Length) is not taken for an empty one by connexion's body validator.
        headers = [
            (k, v)
            for k, v in scope["headers"]
            if k not in (b"content-length", b"transfer-encoding")
        ]
        headers.append((b"content-length", str(len(raw)).encode()))
        if (
            raw
            and self.api.body_without_content_type_is_json
            and not any(k == b"content-type" for k, _ in headers)
        ):
            # A body without a Content-Type is read as JSON, as the vendors' examples send JSON
            # (assumed; README). Otherwise connexion hands handlers raw bytes.
            headers.append((b"content-type", b"application/json"))
        inner["headers"] = headers
        await self.app(inner, replay, capture)
        return captured["status"], b"".join(captured["body"])

    async def _journal(self, entry, state, parsed, path_params, scope, status, resp_body) -> None:
        settings = self.ctx.settings
        entry["status"] = status
        entry["violations"] = state["violations"]
        entry["valid"] = not state["violations"]
        entry["response"]["body"] = body_for_journal(resp_body, settings.journal_body_cap)
        if state["operation"] and entry["valid"] and 200 <= status < 500:
            body = None if parsed is NOT_JSON else parsed
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            entry["identity"] = self.api.identity(
                state["operation"], {"path_params": path_params, "headers": headers, "body": body}
            )
        try:
            await self.ctx.journal.record(self.api.name, entry)
        except StoreUnavailable:
            log.warning("journal entry lost: state store unavailable")


class _HeldSend:
    """An ASGI `send` that holds back the final body message until `release()`."""

    def __init__(self, send) -> None:
        self._send = send
        self._held: dict | None = None

    async def __call__(self, message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self._held = message
            return
        await self._send(message)

    async def release(self) -> None:
        if self._held is not None:
            message, self._held = self._held, None
            await self._send(message)


async def _send_json(send, status: int, body: bytes) -> None:
    """A whole JSON answer straight from the dispatcher (no API app involved)."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _drop_connection(send) -> None:
    """Close the client's connection without an answer (a `drop` fault). Uvicorn's protocol
    objects expose their transport; anywhere else the response is simply never sent."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None:
        transport.close()
        return
    raise ConnectionAbortedError("fault: connection dropped")


class MockServerApp:
    """The ASGI app: routes by path prefix, longest first, to an API gate or the control app."""

    def __init__(self, settings: Settings) -> None:
        enabled = settings.apis or api_names()
        unknown = [n for n in enabled if n not in api_names()]
        if unknown:
            raise SettingsError(f"unknown API {unknown[0]!r}; known: {', '.join(api_names())}")
        stray = sorted(set(settings.api_settings) - set(api_names()))
        if stray:
            raise SettingsError(f"settings for unknown API {stray[0]!r}")
        self.settings = settings
        try:
            store = open_store(settings.store)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        clock = Clock(store)
        self.ctx = MockContext(
            settings=settings,
            store=store,
            clock=clock,
            journal=Journal(store, cap=settings.journal_cap, apis=list(enabled)),
            faults=Faults(store, list(enabled)),
        )
        routes: list[tuple[str, Any]] = []
        for name in enabled:
            cls = api_class(name)
            try:
                config = cls.make_config(settings.for_api(name))
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
            api = cls(self.ctx, config)
            self.ctx.apis[name] = api
            gate = ApiGate(self.ctx, api, settings)
            routes.extend((prefix, gate) for prefix in cls.prefixes)
        self.control = ControlHandlers(self.ctx)
        if settings.control:
            routes.append(("/__mock", self._control_gate(self._make_control_app())))
            specs = [(n, a.spec, a.control_spec) for n, a in self.ctx.apis.items()]
            routes.append(("/__mock/docs", self._control_gate(DocsApp(SPEC_DIR, specs))))
        self.routes = sorted(routes, key=lambda r: -len(r[0]))

    def _make_control_app(self) -> AsyncApp:
        app = AsyncApp(
            "mockserver.control",
            specification_dir=str(SPEC_DIR),
            validator_map=VALIDATOR_MAP,
            swagger_ui_options=_NO_UI,
        )
        control = self.control
        app.add_api(
            load_spec("control.yaml"),
            base_path="/__mock",
            resolver=Resolver(function_resolver=lambda op_id: getattr(control, op_id)),
            validate_responses=self.settings.validate_responses,
            pythonic_params=False,
        )
        for name, api in self.ctx.apis.items():
            if api.control_spec:
                app.add_api(
                    load_spec(f"control/{api.control_spec}"),
                    base_path=f"/__mock/{name}",
                    resolver=Resolver(function_resolver=lambda op_id, api=api: getattr(api, op_id)),
                    validate_responses=self.settings.validate_responses,
                    pythonic_params=False,
                )

        operations = _load_operations("control.yaml", "/__mock")
        for name, api in self.ctx.apis.items():
            if api.control_spec:
                operations += _load_operations(f"control/{api.control_spec}", f"/__mock/{name}")

        async def on_error(request, exc):
            err = _classify(exc)
            if err.kind == "method_not_allowed":
                err.headers["Allow"] = _allow(operations, request.scope["path"]) or err.headers.get(
                    "Allow", ""
                )
            if err.status >= 500 and not isinstance(exc, (MockError, StoreUnavailable)):
                log.error("control: unexpected error", exc_info=exc)
            return _error_response(render_control_error(err))

        for key in (Exception, HTTPException, ProblemException, MockError):
            app.add_error_handler(key, on_error)
        return app

    def _control_gate(self, app: AsyncApp):
        token = self.settings.control_token

        async def gate(scope, receive, send):
            if token is not None:
                headers = dict(scope["headers"])
                if headers.get(b"x-mock-token", b"").decode("latin-1") != token:
                    err = render_control_error(
                        MockError(401, "auth", "the control API needs the X-Mock-Token header")
                    )
                    await _send_json(send, 401, err.encode())
                    return
            await app(scope, receive, send)

        return gate

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        path = scope["path"]
        for prefix, target in self.routes:
            if path.startswith(prefix):
                await target(scope, receive, send)
                return
        body = {"error": "Not Found", "message": f"no mocked API serves {path}"}
        await _send_json(send, 404, json.dumps(body).encode())

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.ctx.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def build_app(settings: Settings | None = None) -> MockServerApp:
    with _bundled_specs_trusted():
        return MockServerApp(settings or Settings())
