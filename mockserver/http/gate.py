"""The gate in front of one native API: everything that happens around the engine.

It reads the body once (size limit, a 413 in the API's own format before anything is parsed),
answers CORS preflights where the API documents CORS, applies fault rules, hands the request to
the engine, and journals the request with its verdict before the last byte of the answer goes
out, so a client that asks the journal right after its answer finds it there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from mockserver.core.api import ErrorBody, MockApi
from mockserver.core.clock import RECORD as CLOCK_RECORD
from mockserver.core.context import MockContext
from mockserver.core.errors import FieldErrors, MockError
from mockserver.faults import BODILESS, fault_mark
from mockserver.http.apps import api_app
from mockserver.http.body import read_whole_body
from mockserver.http.compiled import CompiledApi
from mockserver.http.exchange import Exchange, HeldSend, drop_connection, replay_body
from mockserver.http.proxy import GateProxy
from mockserver.http.validation import parse_json_strict, request_headers
from mockserver.journal import NOT_JSON, body_for_journal, new_entry
from mockserver.runtime_settings import RECORD as RUNTIME_RECORD
from mockserver.settings import Settings
from mockserver.spec.loader import Operation, operations, parsed_spec
from mockserver.store import StoreUnavailable

__all__ = ["ApiGate", "PURGE_EVERY", "RequestHeaders"]

log = logging.getLogger("mockserver")

PURGE_EVERY = 60.0  # mock seconds between clean-ups of expired records
# What every request reads first, with the fault rules (`_begin`); never changed.
_CLOCK_ONLY = (CLOCK_RECORD,)
_CLOCK_AND_SETTINGS = (CLOCK_RECORD, RUNTIME_RECORD)

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
        self.operations = operations(parsed_spec(api.spec))
        self.app = api_app(api, settings, self.operations)
        self.cors = api.cors_headers()
        self._next_purge = 0.0
        self.cors_raw = [(k.lower().encode(), v.encode()) for k, v in (self.cors or {}).items()]
        self._static, self._templated = _route_table(self.operations)
        redactor = ctx.journal.redactor
        self.proxy = GateProxy(api, self.app, self._respond, redactor, self.cors_raw)
        # The compiled path answers what it proves valid; connexion everything else.
        self.compiled = (
            CompiledApi(
                self.app,
                name=api.name,
                gate_operations=self.operations,
                validate_responses=settings.validate_responses,
                gate_methods=frozenset({"OPTIONS"} if self.cors is not None else ()),
            )
            if settings.engine == "compiled"
            else None
        )
        self.proxy.compiled = self.compiled

    async def aclose(self) -> None:
        """At the app's shutdown: the upstream's pooled connections (proxy mode)."""
        await self.proxy.aclose()

    def operation(self, method: str, path: str) -> tuple[str | None, dict]:
        """The operation a request is for (in spec order, as a scan would find it): one dict
        lookup for a path without parameters, a regex only for the templated ones."""
        operation_id = self._static.get((method, path))
        if operation_id is not None:
            return operation_id, {}
        for op in self._templated.get(method, ()):
            params = op.match(path)
            if params is not None:
                return op.operation_id, params
        return None, {}

    async def _respond(self, send, err: ErrorBody) -> tuple[int, bytes]:
        body = b"" if err.status in BODILESS else err.encode()
        headers = [(b"content-type", err.media_type.encode())]
        if err.status not in (204, 304):  # RFC 9110 8.6
            headers.append((b"content-length", str(len(body)).encode()))
        headers += [(k.lower().encode(), str(v).encode("latin-1")) for k, v in err.headers.items()]
        given = {k for k, _ in headers}
        headers += [h for h in self.cors_raw if h[0] not in given]  # the answer's own win
        await send({"type": "http.response.start", "status": err.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return err.status, body

    async def __call__(self, scope, receive, send) -> None:
        x = await self._begin(scope, send)
        if x is None:
            return
        settings = self.ctx.settings
        # Read the body once, bounded: the journal needs it and an oversized one gets a 413
        # in the API's own format before any of it is parsed.
        x.raw, too_large, complete = await read_whole_body(scope, receive, settings.max_body_bytes)
        # Once: for faults, the journal, the client's identity and the compiled path's handler.
        # Whatever the handler does with its body, nothing here reads it afterwards.
        x.parsed = _parsed(x.raw)
        x.identity = self._identity(x)
        x.entry["request"]["body"] = body_for_journal(
            x.raw, settings.journal_body_cap, self.ctx.journal.redactor, x.parsed
        )
        # The last part of the answer waits until the journal holds the request, so a client
        # that asks the journal right after its answer finds it there, however slow the store
        # (Redis) or whichever worker it asks.
        if not complete:
            # The client left before its body ended: nobody waits for an answer and nothing it
            # sent is acted on; the journal keeps what arrived (status 0, as a dropped one).
            violation = {"key": "body", "rule": "incomplete", "value": "", "location": "body"}
            message = "the client went away before its body ended"
            x.state["violations"].append({**violation, "message": message})
            await self._journal(x)
            return
        drop_send, send = send, HeldSend(send)
        try:
            x.status, x.body = await self._answer(x, too_large, send, drop_send)
        except StoreUnavailable:
            x.status, x.body = await self._respond(
                send,
                self.api.render_error(MockError(503, "unavailable", "state store unavailable")),
            )
        finally:
            try:
                await self._journal(x)
            finally:
                await send.release()  # the answer completes even if its journal entry is lost

    async def _begin(self, scope, send) -> Exchange | None:
        """The request's exchange record and journal entry, with the runtime settings, the
        clock and (on a shared store) the fault rules and scenarios read together: one store
        round trip (`Store.read_batch`). The API's 503, and None, when the store can't be
        reached."""
        ctx = self.ctx
        method, path = scope["method"], scope["path"]
        operation, path_params = self.operation(method, path)
        runtime, clock = ctx.runtime, ctx.clock
        gets = _CLOCK_ONLY if runtime is None else _CLOCK_AND_SETTINGS
        scans = ctx.faults.reads(self.api.name)
        mark = clock.mark()  # before the read: a move made while it is under way is noticed
        try:
            records, spaces = await ctx.store.read_batch(gets, scans)
        except StoreUnavailable:
            err = MockError(503, "unavailable", "state store unavailable")
            await self._respond(send, self.api.render_error(err))
            return None
        if runtime is not None:  # settings changed at run time by any worker, in force
            runtime.refresh_from(records[1])
        now = clock.now_of(records[0])
        # For the fault read and the engine's clock (_answer).
        read = dict(zip(scans, spaces, strict=True)) if scans else None
        scope["mockserver.reads"] = (records[0], mark, read)
        entry = new_entry(
            api=self.api.name,
            operation=operation,
            method=method,
            path=path,
            query=scope.get("query_string", b"").decode("latin-1"),
            at=now,
            headers=scope["headers"],
            redactor=ctx.journal.redactor,
        )
        scope["mockserver.entry"] = entry
        state: dict[str, Any] = {"operation": operation, "violations": []}
        await self._purge(now)
        return Exchange(scope, entry, state, now, path_params)

    async def _purge(self, now: float) -> None:
        """Bounded memory: expired records go once a (mock) minute, not on a timer thread; a
        clock moved back (reset, clock/set) starts the schedule again from there."""
        if self._next_purge - PURGE_EVERY <= now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        try:
            await self.ctx.store.purge(now - PURGE_EVERY)  # late: fakes decide expiry, not this
        except StoreUnavailable:
            pass

    async def _answer(self, x: Exchange, too_large: bool, send, drop_send) -> tuple[int, bytes]:
        """The steps in order: the body limit, a CORS preflight, faults, then the upstream (a
        proxied API) or the engine. Returns the status (0: dropped) and body sent."""
        limit = self.ctx.settings.max_body_bytes
        proxied = self.proxy.active()
        if too_large:
            err = MockError(
                413, "payload_too_large", f"request body exceeds {limit} bytes", violation=True
            )
            violation = {"key": "body", "rule": "max_size", "message": err.message}
            x.state["violations"].append({**violation, "value": "", "location": "body"})
            return await self._respond(send, self.api.render_error(err))
        if self.cors is not None and x.scope["method"] == "OPTIONS" and not proxied:
            return await self._respond(send, ErrorBody(204, b"", media_type="text/plain"))
        clock_record, mark, read = x.scope["mockserver.reads"]
        fault = await self.ctx.faults.take(
            self.api.name,
            x.state["operation"],
            now=x.now,
            path_params=x.path_params,
            headers=x.scope["headers"],
            body=None if x.parsed is NOT_JSON else x.parsed,
            read=read,
        )
        if fault is not None:
            x.entry["fault"] = fault_mark(fault)
            if fault["delay_ms"]:
                await asyncio.sleep(fault["delay_ms"] / 1000)
                mark = None  # it waited: the engine reads the clock again (core/clock.py)
            if fault["drop"]:
                drop_connection(drop_send)
                return 0, b""
            if fault["status"]:
                return await self._respond(send, self._fault_body(fault))
        if proxied:
            return await self.proxy.answer(x, self._inner(x.scope, x.state, x.raw), send)
        if mark is None:
            return await self._call_app(x.scope, x.state, x.raw, send, x.parsed)
        held = self.ctx.clock.hold(clock_record, mark)  # the clock as read, unless it moved
        try:
            return await self._call_app(x.scope, x.state, x.raw, send, x.parsed)
        finally:
            self.ctx.clock.release(held)

    def _fault_body(self, fault: dict) -> ErrorBody:
        """The fault's own body, or the API's own error body for the fault's status (none for
        204, 205, 304). The rule's headers (checked by faults.check_rule when it was created)
        replace the API's own headers of the same name, whatever their case."""
        status, headers = fault["status"], dict(fault["headers"])
        if status in BODILESS:
            err = ErrorBody(status, b"", {}, media_type="text/plain")
        elif fault.get("body") is not None:
            err = ErrorBody(status, fault["body"], {})
            if isinstance(fault["body"], str):
                err.media_type = "text/plain"
        else:
            kind = _FAULT_KINDS.get(status, "internal" if status >= 500 else "http_error")
            err = self.api.render_error(MockError(status, kind, "fault injected", headers=headers))
            err.status = status  # an API may render e.g. 415 as its 400; the fault asked for 415
        given = {k.lower() for k in headers}
        err.headers = {k: v for k, v in err.headers.items() if k.lower() not in given}
        for name, value in headers.items():
            if name.lower() == "content-type":
                err.media_type = value
            else:
                err.headers[name] = value
        return err

    def _inner(self, scope, state, raw: bytes) -> dict:
        """The scope the engine gets: the gate's state, and headers as connexion must see them."""
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
        # Media types in any case, as connexion compares them; a body without a Content-Type is
        # read as JSON, as the vendors' examples send JSON (assumed; README), where the API
        # allows it. Otherwise connexion hands handlers raw bytes.
        inner["headers"] = request_headers(
            headers, json_default=bool(raw) and self.api.body_without_content_type_is_json
        )
        return inner

    async def _call_app(self, scope, state, raw: bytes, send, parsed) -> tuple[int, bytes]:
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

        inner = self._inner(scope, state, raw)
        if self.compiled is not None:
            answered = await self.compiled.answer(inner, raw, send, cors, parsed)
            if answered is not None:
                return answered
        await self.app(inner, replay_body(raw), capture)
        return captured["status"], b"".join(captured["body"])

    def _identity(self, x: Exchange) -> str | None:
        """Who sent the request (the cadence report's client), from the request alone, taken
        before any handler sees the body; the journal keeps it if the request was valid."""
        operation = x.state["operation"]
        if operation is None:
            return None
        request = {
            "path_params": x.path_params,
            "headers": RequestHeaders(x.scope["headers"]),
            "body": None if x.parsed is NOT_JSON else x.parsed,
        }
        try:
            return self.api.identity(operation, request)
        except Exception:  # an odd body the API's validation will reject anyway
            log.debug("%s: no identity for this request", self.api.name, exc_info=True)
            return None

    async def _journal(self, x: Exchange) -> None:
        settings, state, entry = self.ctx.settings, x.state, x.entry
        entry["status"] = x.status
        entry["violations"] = state["violations"]
        entry["valid"] = not state["violations"]
        entry["response"]["body"] = body_for_journal(
            x.body, settings.journal_body_cap, self.ctx.journal.redactor
        )
        # Identity comes from the request alone: a proxied answer that drifts from the spec
        # still counts as the client's heartbeat for the cadence report.
        request_valid = all(v.get("location") == "response" for v in state["violations"])
        if state["operation"] and request_valid and x.status >= 200:
            entry["identity"] = x.identity
        try:
            await self.ctx.journal.record(self.api.name, entry)
        except StoreUnavailable:
            log.warning("journal entry lost: state store unavailable")


def _parsed(raw: bytes) -> Any:
    """The body as the API's validator reads it, or NOT_JSON: a body it rejects (a lone
    surrogate, a number too large) reaches the journal as text, never as a value that can't be
    stored or reported."""
    if not raw.strip():
        return NOT_JSON
    try:
        return parse_json_strict(raw)
    except FieldErrors:
        return NOT_JSON


class RequestHeaders(Mapping):
    """A request's headers as {lower-case name: value} (the last of a repeated one), decoded only
    if an API's `identity` reads them: most do not, and the journal entry has its own copy."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._decoded: dict[str, str] | None = None

    def _headers(self) -> dict[str, str]:
        if self._decoded is None:
            self._decoded = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self._raw}
        return self._decoded

    def __getitem__(self, name: str) -> str:
        return self._headers()[name]

    def __iter__(self):
        return iter(self._headers())

    def __len__(self) -> int:
        return len(self._headers())


def _route_table(ops: list[Operation]) -> tuple[dict, dict]:
    """({(method, path): operationId} for templates without parameters that no earlier
    templated operation also matches, {method: [the other operations, in spec order]})."""
    static: dict[tuple[str, str], str] = {}
    templated: dict[str, list[Operation]] = {}
    for op in ops:
        earlier = templated.get(op.method, [])
        if "{" not in op.template and not any(o.match(op.template) for o in earlier):
            static.setdefault((op.method, op.template), op.operation_id)
        else:
            templated.setdefault(op.method, []).append(op)
    return static, templated
