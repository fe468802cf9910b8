"""Core `/__mock` handlers: health, reset, clock, journal, faults and scenarios
(specs/control.yaml); verification, state snapshots and runtime settings are in
mockserver.control_drive.

Each handler is a few lines: it parses, asks the context, and renders. Per-API routes
(`/__mock/<api>/...`) live in the API modules, never here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from mockserver import __version__
from mockserver.control_drive import DriveHandlers, query_matcher
from mockserver.core import jsontext
from mockserver.core.api import ErrorBody, MockApi
from mockserver.core.clock import ClockRangeError, parse_iso
from mockserver.core.context import MockContext
from mockserver.core.errors import FieldError, MockError
from mockserver.faults import check_rule, shown_rule
from mockserver.http.upstream import redacted_url
from mockserver.journal import DEFAULT_LIMIT, JournalPage
from mockserver.scenarios import Scenarios, check_scenario, library_names, load_scenario
from mockserver.scenarios.shown import shown_run
from mockserver.spec.loader import operations, parsed_spec
from mockserver.store import StoreUnavailable

__all__ = ["ControlHandlers", "render_control_error", "stream_page"]

log = logging.getLogger("mockserver")


_dumps = jsontext.dumps
MAX_SCENARIOS = 100  # running at once: every kind of record is bounded
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


def _scenario_timeline(runs: list[dict]) -> list[dict]:
    """The report's view of each scenario: its steps on the mock clock, without bodies."""
    keys = ("index", "due_at", "method", "path", "state", "status", "fired_at")
    return [
        {
            "name": run["name"],
            "started_at": run["started_at"],
            "steps": [{k: step[k] for k in keys} for step in run["steps"]],
        }
        for run in runs
    ]


def _invalid(problems: list[FieldError]) -> MockError:
    """A control body that breaks the control API's rules: a 400 naming every problem."""
    message = "; ".join(f"{p.key}: {p.message}" for p in problems)
    return MockError(400, "validation", message, fields=problems)


def _clock_range(exc: ClockRangeError, key: str, value) -> MockError:
    """A clock move out of range (specs/control.yaml): a 400, and the clock did not move."""
    field = FieldError(key, "range", str(exc), str(value))
    return MockError(400, "validation", str(exc), fields=[field])


class ControlHandlers(DriveHandlers):
    def __init__(self, ctx: MockContext) -> None:
        self.ctx = ctx
        # Scenario steps fire when a request arrives (before its faults are taken) or the clock
        # moves; build_app binds the runner to the whole app, which steps call in process.
        self.scenarios = Scenarios(ctx.store, ctx.faults, ctx.settings.control_token)
        ctx.faults.before_take = self.scenarios.fire_due
        self.events = ctx.faults.events  # what changed the meaning of a timeline (events.py)

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
            "engine": self.ctx.settings.engine,
            "proxied": self._proxied(),
            "clock": await self.ctx.clock.describe(),
        }, 200

    def _proxied(self) -> list[dict]:
        """The APIs proxied now (issue 19) and where to, as `serve` prints them: the URL
        redacted as in the journal (no userinfo, secret query values masked)."""
        redactor = self.ctx.journal.redactor
        return [
            {
                "api": name,
                "url": redacted_url(api.config.proxy, redactor),
                "mode": api.config.proxy_mode,
                "timeout_seconds": api.config.proxy_timeout_seconds,
            }
            for name, api in self.ctx.apis.items()
            if api.config.proxy
        ]

    async def control_reset(self, api: str | None = None):
        """Forget state, journal, faults and rate windows: of one API, or all and the clock."""
        name = self._api(api)
        before = await self.ctx.clock.now()
        if name:
            await self.ctx.apis[name].reset()  # every namespace under its name: journal, faults
            await self.events.record("reset", await self.ctx.clock.now(), api=name)
        else:
            await self.ctx.store.clear()  # events too: the journal they explain is gone
            now = await self.ctx.clock.now()
            await self.events.record("clock.reset", now, to=now, seconds=now - before)
        return {
            "reset": [name] if name else list(self.ctx.apis),
            "clock": await self.ctx.clock.describe(),
        }, 200

    async def control_clock(self):
        return await self.ctx.clock.describe(), 200

    async def _clock_moved(self, kind: str, before: float, **details) -> dict:
        """Record the move (a jump from `before` to now) and fire the steps due by now."""
        now = await self.ctx.clock.now()
        await self.events.record(kind, before, to=now, seconds=now - before, **details)
        await self.scenarios.fire_due(now)
        return await self.ctx.clock.describe()

    async def control_clock_advance(self, body: dict):
        before = await self.ctx.clock.now()
        try:
            await self.ctx.clock.advance(float(body["seconds"]))
        except ClockRangeError as exc:
            raise _clock_range(exc, "seconds", body["seconds"]) from None
        return await self._clock_moved("clock.advance", before), 200

    async def control_clock_freeze(self):
        before = await self.ctx.clock.now()
        await self.ctx.clock.freeze()
        return await self._clock_moved("clock.freeze", before), 200

    async def control_clock_unfreeze(self):
        before = await self.ctx.clock.now()
        await self.ctx.clock.unfreeze()
        return await self._clock_moved("clock.unfreeze", before), 200

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
        before = await self.ctx.clock.now()
        try:
            await self.ctx.clock.set(epoch, frozen=body.get("frozen"))
        except ClockRangeError as exc:
            raise _clock_range(exc, "now", body["now"]) from None
        moved = await self._clock_moved("clock.set", before, frozen=body.get("frozen"))
        return moved, 200

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
        matcher = self._matcher(query_matcher(criteria, body_contains, header), "query")
        where = matcher.matches if set(matcher.criteria) - {"api"} else None
        page = self.ctx.journal.page(limit=limit, after=after, api=api, where=where)
        return await stream_page(page)

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
        report["scenarios"] = _scenario_timeline(await self.scenarios.list())
        report["events"] = await self.events.list(name)
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
            raise _invalid(problems)
        fault = await self.ctx.faults.add(body, await self.ctx.clock.now())
        return shown_rule(fault, self.ctx.journal.redactor), 201

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
        faults = await self.ctx.faults.list(self._api(api))
        return {"faults": [shown_rule(f, self.ctx.journal.redactor) for f in faults]}, 200

    async def control_faults_clear(self):
        await self.ctx.faults.clear(now=await self.ctx.clock.now())
        return None, 204

    async def control_fault_delete(self, fault_id: str):
        if not await self.ctx.faults.delete(fault_id, await self.ctx.clock.now()):
            raise MockError(404, "not_found", f"no fault {fault_id!r}")
        return None, 204

    async def control_scenarios_start(self, body: dict):
        """Start a scenario: its own steps, or a named one from the library (`vars` override
        its defaults). Steps due at once fire before the answer."""
        spec = dict(body)
        if spec.get("steps") is None:
            spec = self._library_scenario(body)
        problems = check_scenario(spec, self._control_operations())
        if problems:
            raise _invalid(problems)
        if await self.ctx.store.count("_scenarios") >= MAX_SCENARIOS:
            raise MockError(409, "conflict", f"{MAX_SCENARIOS} scenarios run already; stop some")
        now = await self.ctx.clock.now()
        run = await self.scenarios.start(spec, now)
        if run is None:
            raise MockError(409, "conflict", f"scenario {spec['name']!r} runs already; stop it")
        await self.events.record("scenario.started", now, name=spec["name"])
        return shown_run(run, self.ctx.journal.redactor), 201

    @staticmethod
    def _library_scenario(body: dict) -> dict:
        name = body["name"]
        if name not in library_names():
            raise MockError(
                404,
                "not_found",
                f"no named scenario {name!r} (and no steps given); named: "
                + ", ".join(library_names()),
                fields=[FieldError("name", "enum", "not a named scenario", name)],
            )
        spec = load_scenario(name)
        unknown = sorted(set(body.get("vars") or {}) - set(spec.get("vars") or {}))
        if unknown:
            raise MockError(
                400,
                "validation",
                f"vars: {name} has no var {unknown[0]!r}",
                fields=[FieldError(f"vars.{unknown[0]}", "unknown", "not a var of this scenario")],
            )
        spec["vars"] = {**(spec.get("vars") or {}), **(body.get("vars") or {})}
        return spec

    def _control_operations(self) -> list:
        ops = operations(parsed_spec("control.yaml"), "/__mock")
        for name, api in self.ctx.apis.items():
            if api.control_spec:
                ops += operations(parsed_spec(f"control/{api.control_spec}"), f"/__mock/{name}")
        return ops

    async def control_scenarios(self):
        await self.scenarios.fire_due(await self.ctx.clock.now())
        redactor = self.ctx.journal.redactor
        runs = [shown_run(run, redactor) for run in await self.scenarios.list()]
        return {"scenarios": runs, "named": library_names()}, 200

    async def control_scenarios_clear(self):
        names = [run["name"] for run in await self.scenarios.list()]
        await self.scenarios.stop()
        now = await self.ctx.clock.now()
        for name in names:
            await self.events.record("scenario.stopped", now, name=name)
        return None, 204

    async def control_scenario_delete(self, name: str):
        if not await self.scenarios.stop(name):
            raise MockError(404, "not_found", f"no scenario {name!r}")
        await self.events.record("scenario.stopped", await self.ctx.clock.now(), name=name)
        return None, 204

    async def control_events(self, api: str | None = None):
        return {"events": await self.events.list(self._api(api))}, 200
