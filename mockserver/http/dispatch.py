"""The ASGI entry point: route by path prefix, longest first, to an API gate or the control API.

Two APIs share `/api`, so routing is by full path with one connexion app per API (several specs
in one connexion app at overlapping base paths break routing in connexion 3.3). The control API
and its docs sit behind the X-Mock-Token check when a token is set.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from mockserver.core.clock import monotonic
from mockserver.core.context import MockContext
from mockserver.core.errors import MockError
from mockserver.http.gate import ApiGate
from mockserver.http.requestlog import log_request, log_unrouted, request_log
from mockserver.settings import Settings

__all__ = ["ENTRY", "MockServerApp", "RequestLog", "send_json", "token_gate"]

ENTRY = "mockserver.entry"  # the scope key where the gate leaves the request's journal entry


async def send_json(send, status: int, body: bytes) -> None:
    """A whole JSON answer straight from the dispatcher (no API app involved)."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def token_gate(app, token: str | None, render):
    """`app` behind the X-Mock-Token header when `token` is set (a 401 in the control format)."""
    if token is None:
        return app

    async def gate(scope, receive, send):
        headers = dict(scope["headers"])
        if headers.get(b"x-mock-token", b"").decode("latin-1") != token:
            err = render(MockError(401, "auth", "the control API needs the X-Mock-Token header"))
            await send_json(send, 401, err.encode())
            return
        await app(scope, receive, send)

    return gate


class RequestLog:
    """One API's gate, timed: once the gate has journaled the request, its line goes to the
    request log (mockserver.http.requestlog). The logger is asked once per request whether it
    writes at all; when it does not, the gate is called as it is, nothing is measured."""

    def __init__(self, gate: ApiGate) -> None:
        self.gate = gate
        self.api = gate.api.name

    async def __call__(self, scope, receive, send) -> None:
        if not request_log.isEnabledFor(logging.INFO):
            await self.gate(scope, receive, send)
            return
        started = monotonic()
        try:
            await self.gate(scope, receive, send)
        finally:
            elapsed_ms = (monotonic() - started) * 1000
            log_request(self.api, scope.pop(ENTRY, None), elapsed_ms, scope)


class MockServerApp:
    """The ASGI app `build_app` returns: its context and its route table."""

    def __init__(
        self, settings: Settings, ctx: MockContext, routes: list[tuple[str, Any]], control=None
    ) -> None:
        self.settings = settings
        self.ctx = ctx
        self.control = control
        self.routes = sorted(routes, key=lambda r: -len(r[0]))
        # What requests go to: each gate behind its request log (unless quiet); `routes` keeps
        # the gates themselves for whoever inspects them.
        self._table = [
            (p, RequestLog(t) if isinstance(t, ApiGate) and not settings.quiet else t)
            for p, t in self.routes
        ]

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        path = scope["path"]
        for prefix, target in self._table:
            if path.startswith(prefix):
                await target(scope, receive, send)
                return
        body = {"error": "Not Found", "message": f"no mocked API serves {path}"}
        await send_json(send, 404, json.dumps(body).encode())
        if not self.settings.quiet and request_log.isEnabledFor(logging.INFO):
            await self._log_unrouted(scope)

    async def _log_unrouted(self, scope) -> None:
        """A path no API serves (a mistyped base URL) gets its line too, so the log shows why
        a client hears only 404s."""
        from mockserver.store import StoreUnavailable

        try:
            now = await self.ctx.clock.now()
        except StoreUnavailable:
            now = None
        log_unrouted(now, scope["method"], scope["path"])

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for target in {id(t): t for _, t in self.routes if hasattr(t, "aclose")}.values():
                    await target.aclose()  # an API gate's upstream connections (proxy mode)
                await self.ctx.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
