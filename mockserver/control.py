"""Core `/__mock` handlers: health, reset, clock, journal, verification, faults, state snapshots
and runtime settings (specs/control.yaml).

Each handler is a few lines: it parses, asks the context, and renders. Per-API routes
(`/__mock/<api>/...`) live in the API modules, never here.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from mockserver import __version__
from mockserver.core.api import ErrorBody, MockApi
from mockserver.core.clock import ClockRangeError, parse_iso
from mockserver.core.context import MockContext
from mockserver.core.errors import FieldError, MockError, value_text
from mockserver.faults import check_rule
from mockserver.journal import DEFAULT_LIMIT, JournalPage
from mockserver.matcher import Matcher, MatcherError
from mockserver.runtime_settings import SettingsChangeError
from mockserver.snapshot import SnapshotError, Snapshots
from mockserver.spec.loader import operations, parsed_spec
from mockserver.store import StoreUnavailable
from mockserver.verification import Expectation, Tally, verdict

__all__ = ["ControlHandlers", "render_control_error", "stream_page"]

log = logging.getLogger("mockserver")


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
FLUSH_BYTES = 64 * 1024  # a streamed page goes out in pieces about this big


async def stream_page(page: JournalPage) -> StreamingResponse:
    """A journal page as JSON, written as it is read from the store, so a page costs the
    memory of a store chunk and a write buffer, not of the page. The first entry is read
    before the answer starts, so a store that is down gets its 503; one that fails later
    cuts the answer short (the connection is aborted; a client never sees a partial page
    as a whole one)."""
    entries = aiter(page)
    first = await anext(entries, None)

    async def body() -> AsyncIterator[bytes]:
        buf, entry, sep = bytearray(b'{"requests":['), first, b""
        while entry is not None:
            buf += sep + entry.encode("utf-8", "backslashreplace")  # JSON escapes a lone surrogate
            sep = b","
            if len(buf) >= FLUSH_BYTES:
                yield bytes(buf)
                buf.clear()
                await asyncio.sleep(0)  # let other requests in between pieces
            try:
                entry = await anext(entries, None)
            except StoreUnavailable:
                log.warning("journal page cut short: state store unavailable")
                raise
        tail = {"count": page.count, "next_after": page.next_after}
        buf += b"]," + _dumps(tail).encode()[1:]
        yield bytes(buf)

    return StreamingResponse(body(), media_type="application/json")


def render_control_error(err: MockError) -> ErrorBody:
    body = {"error": {"status": err.status, "kind": err.kind, "message": err.message}}
    if err.fields:
        body["error"]["fields"] = [f.as_dict() for f in err.fields]
    return ErrorBody(err.status, body, dict(err.headers))


def _invalid(field: str, message: str, value=None, location: str = "body") -> MockError:
    return MockError(
        400,
        "validation",
        message,
        fields=[FieldError(field, "invalid", message, value_text(value), location)],
    )


def _query_matcher(criteria: dict, body_contains: str | None, header: list[str] | None) -> dict:
    """`GET /__mock/requests`'s filters as a matcher: `body_contains` is JSON text and each
    `header` is `Name: value`."""
    if body_contains is not None:
        try:
            criteria["body"] = json.loads(body_contains)
        except ValueError:
            raise _invalid(
                "body_contains", "body_contains must be JSON text", body_contains, "query"
            ) from None
    for item in header or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise _invalid("header", "each header must be `Name: value`", item, "query")
        criteria.setdefault("headers", {})[name.strip()] = value.strip()
    return criteria


def _clock_range(exc: ClockRangeError, key: str, value) -> MockError:
    """A clock move out of range (specs/control.yaml): a 400, and the clock did not move."""
    field = FieldError(key, "range", str(exc), str(value))
    return MockError(400, "validation", str(exc), fields=[field])


class ControlHandlers:
    def __init__(self, ctx: MockContext) -> None:
        self.ctx = ctx
        self.snapshots = Snapshots(ctx.store, ctx.clock, ctx.apis)

    def _api(self, name: str | None) -> str | None:
        if name is not None and name not in self.ctx.apis:
            raise MockError(
                404,
                "not_found",
                f"API {name!r} is not enabled; enabled: {', '.join(self.ctx.apis)}",
                fields=[FieldError("api", "enum", "unknown API", name, "query")],
            )
        return name

    async def control_health(self):
        return {
            "status": "ok",
            "version": __version__,
            "apis": list(self.ctx.apis),
            "store": self.ctx.store.kind,
            "clock": await self.ctx.clock.describe(),
        }, 200

    async def control_reset(self, api: str | None = None):
        """Forget state, journal, faults and rate windows: of one API, or all and the clock."""
        name = self._api(api)
        if name:
            await self.ctx.apis[name].reset()  # every namespace under its name: journal, faults
        else:
            await self.ctx.store.clear()
        return {
            "reset": [name] if name else list(self.ctx.apis),
            "clock": await self.ctx.clock.describe(),
        }, 200

    async def control_clock(self):
        return await self.ctx.clock.describe(), 200

    async def control_clock_advance(self, body: dict):
        try:
            await self.ctx.clock.advance(float(body["seconds"]))
        except ClockRangeError as exc:
            raise _clock_range(exc, "seconds", body["seconds"]) from None
        return await self.ctx.clock.describe(), 200

    async def control_clock_freeze(self):
        await self.ctx.clock.freeze()
        return await self.ctx.clock.describe(), 200

    async def control_clock_unfreeze(self):
        await self.ctx.clock.unfreeze()
        return await self.ctx.clock.describe(), 200

    async def control_clock_set(self, body: dict):
        try:
            epoch = parse_iso(body["now"])
        except ValueError:
            raise MockError(
                400,
                "validation",
                "now must be an ISO-8601 timestamp",
                fields=[FieldError("now", "format", "not an ISO-8601 timestamp", body["now"])],
            ) from None
        try:
            await self.ctx.clock.set(epoch, frozen=body.get("frozen"))
        except ClockRangeError as exc:
            raise _clock_range(exc, "now", body["now"]) from None
        return await self.ctx.clock.describe(), 200

    async def control_requests(
        self,
        api: str | None = None,
        status: int | None = None,
        valid: bool | None = None,
        since: str | None = None,
        after: int = 0,
        limit: int = DEFAULT_LIMIT,
        until: str | None = None,
        operation: str | None = None,
        method: str | None = None,
        path: str | None = None,
        path_pattern: str | None = None,
        fault: bool | None = None,
        body_contains: str | None = None,
        header: list[str] | None = None,
    ):
        """One page of the journal, filtered by a matcher (mockserver.matcher)."""
        criteria = {
            "api": api,
            "status": status,
            "valid": valid,
            "since": since,
            "until": until,
            "operation": operation,
            "method": method,
            "path": path,
            "path_pattern": path_pattern,
            "fault": fault,
        }
        matcher = self._matcher(_query_matcher(criteria, body_contains, header), "query")
        where = matcher.matches if set(matcher.criteria) - {"api"} else None
        page = self.ctx.journal.page(limit=limit, after=after, api=api, where=where)
        return await stream_page(page)

    def _matcher(self, criteria: dict, location: str = "body") -> Matcher:
        self._api(criteria.get("api"))
        try:
            return Matcher(criteria, self.ctx.journal.redactor)
        except MatcherError as exc:
            raise _invalid(exc.field, exc.message, exc.value, location) from None

    async def _tally(self, matcher: Matcher) -> Tally:
        """The matcher over the whole journal, read a chunk at a time (bounded memory)."""
        tally = Tally(matcher)
        async for entry in self.ctx.journal.scan(api=matcher.criteria.get("api")):
            tally.add(entry)
        return tally

    async def control_requests_count(self, body: dict):
        return {"count": (await self._tally(self._matcher(body))).count}, 200

    async def control_verify(self, body: dict):
        criteria = {k: v for k, v in body.items() if k not in ("count", "at_least", "at_most")}
        matcher = self._matcher(criteria)
        try:
            expectation = Expectation.parse(body)
        except MatcherError as exc:
            raise _invalid(exc.field, exc.message, exc.value) from None
        answer = verdict(matcher, expectation, await self._tally(matcher))
        return answer, 200 if answer["ok"] else 422

    async def control_requests_clear(self):
        await self.ctx.journal.clear()
        return None, 204

    async def control_report(self, api: str | None = None, format: str = "json"):
        from mockserver.report import ReportBuilder, render_text
        from mockserver.report_html import render_html

        name = self._api(api)
        apis = {name: self.ctx.apis[name]} if name else self.ctx.apis
        builder = ReportBuilder(apis, timelines=format == "html")
        async for entry in self.ctx.journal.scan(api=name):  # a chunk at a time, never all
            builder.add(entry)
        now = await self.ctx.clock.now()
        report = builder.build(now)
        if format == "text":
            return render_text(report), 200, {"Content-Type": "text/plain"}
        if format == "html":
            return render_html(report, now), 200, {"Content-Type": "text/html"}
        return report, 200, {"Content-Type": "application/json"}

    async def control_faults_add(self, body: dict):
        api = self.ctx.apis.get(body["api"])
        if api is None:
            problems = [
                FieldError(
                    "api", "enum", f"not enabled; enabled: {', '.join(self.ctx.apis)}", body["api"]
                )
            ]
        else:
            problems = check_rule(body, self._fault_operations(api))
        if problems:
            raise MockError(
                400,
                "validation",
                "; ".join(f"{p.key}: {p.message}" for p in problems),
                fields=problems,
            )
        fault = await self.ctx.faults.add(body, await self.ctx.clock.now())
        return fault, 201

    @staticmethod
    def _fault_operations(api: MockApi) -> set[str]:
        """The operations a fault can fire on: all but the CORS preflights the gate answers
        before it looks at faults."""
        cors = api.cors_headers() is not None
        return {
            op.operation_id
            for op in operations(parsed_spec(api.spec))
            if not (cors and op.method == "OPTIONS")
        }

    async def control_faults(self, api: str | None = None):
        return {"faults": await self.ctx.faults.list(self._api(api))}, 200

    async def control_faults_clear(self):
        await self.ctx.faults.clear()
        return None, 204

    async def control_fault_delete(self, fault_id: str):
        if not await self.ctx.faults.delete(fault_id):
            raise MockError(404, "not_found", f"no fault {fault_id!r}")
        return None, 204

    # --- state snapshots ------------------------------------------------------------------
    async def control_state(self):
        return await self.snapshots.take(), 200

    async def control_state_restore(self, body: dict):
        try:
            return await self.snapshots.restore(body), 200
        except SnapshotError as exc:
            raise _invalid(exc.field or "body", str(exc)) from None

    # --- runtime settings -----------------------------------------------------------------
    async def control_settings(self):
        await self.ctx.runtime.refresh()  # what every worker holds now; a 503 if it can't be read
        return self.ctx.runtime.describe(), 200

    async def control_settings_change(self, api: str, body: dict):
        try:
            return await self.ctx.runtime.change(api, body), 200
        except SettingsChangeError as exc:
            raise _settings_error(exc, api, body) from None

    async def control_settings_clear(self, api: str | None = None):
        try:
            await self.ctx.runtime.clear(api)
        except SettingsChangeError as exc:
            raise _settings_error(exc, api) from None
        return None, 204


def _settings_error(
    exc: SettingsChangeError, api: str | None, body: dict | None = None
) -> MockError:
    if exc.status == 404:
        field = FieldError("api", "enum", "unknown API", value_text(api), "path")
        return MockError(404, "not_found", exc.message, fields=[field])
    return _invalid(exc.setting or "body", exc.message, (body or {}).get(exc.setting or ""))
