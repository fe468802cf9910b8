"""Core `/__mock` handlers: health, reset, clock, journal and faults (specs/control.yaml).

Each handler is a few lines: it parses, asks the context, and renders. Per-API routes
(`/__mock/<api>/...`) live in the API modules, never here.
"""

from __future__ import annotations

from mockserver import __version__
from mockserver.core.api import ErrorBody
from mockserver.core.clock import parse_iso
from mockserver.core.context import MockContext
from mockserver.core.errors import FieldError, MockError

__all__ = ["ControlHandlers", "render_control_error"]


def render_control_error(err: MockError) -> ErrorBody:
    body = {"error": {"status": err.status, "kind": err.kind, "message": err.message}}
    if err.fields:
        body["error"]["fields"] = [f.as_dict() for f in err.fields]
    return ErrorBody(err.status, body, dict(err.headers))


class ControlHandlers:
    def __init__(self, ctx: MockContext) -> None:
        self.ctx = ctx

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
            "clock": await self.ctx.clock.describe(),
        }, 200

    async def control_reset(self, api: str | None = None):
        """Forget state, journal, faults and rate windows: of one API, or all and the clock."""
        name = self._api(api)
        if name:
            await self.ctx.apis[name].reset()
            await self.ctx.journal.clear(name)
            await self.ctx.faults.clear(name)
        else:
            await self.ctx.store.clear()
        return {
            "reset": [name] if name else list(self.ctx.apis),
            "clock": await self.ctx.clock.describe(),
        }, 200

    async def control_clock(self):
        return await self.ctx.clock.describe(), 200

    async def control_clock_advance(self, body: dict):
        await self.ctx.clock.advance(float(body["seconds"]))
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
        await self.ctx.clock.set(epoch, frozen=body.get("frozen"))
        return await self.ctx.clock.describe(), 200

    async def control_requests(
        self,
        api: str | None = None,
        status: int | None = None,
        valid: bool | None = None,
        since: str | None = None,
    ):
        if since is not None:
            try:
                parse_iso(since)
            except ValueError:
                raise MockError(
                    400,
                    "validation",
                    "since must be an ISO-8601 timestamp",
                    fields=[
                        FieldError("since", "format", "not an ISO-8601 timestamp", since, "query")
                    ],
                ) from None
        entries = await self.ctx.journal.entries(
            api=self._api(api), status=status, valid=valid, since=since
        )
        return {"requests": entries, "count": len(entries)}, 200

    async def control_requests_clear(self):
        await self.ctx.journal.clear()
        return None, 204

    async def control_report(self, api: str | None = None, format: str = "json"):
        from mockserver.report import build_report, render_text

        name = self._api(api)
        apis = {name: self.ctx.apis[name]} if name else self.ctx.apis
        report = build_report(
            apis, await self.ctx.journal.entries(api=name), await self.ctx.clock.now()
        )
        if format == "text":
            return render_text(report), 200, {"Content-Type": "text/plain"}
        return report, 200, {"Content-Type": "application/json"}

    async def control_faults_add(self, body: dict):
        self._api(body["api"])
        if not (body.get("status") or body.get("delay_ms") or body.get("drop")):
            raise MockError(
                400,
                "validation",
                "a fault needs status, delay_ms or drop",
                fields=[
                    FieldError("status", "required", "one of status, delay_ms, drop is required")
                ],
            )
        fault = await self.ctx.faults.add(body, await self.ctx.clock.now())
        return fault, 201

    async def control_faults(self, api: str | None = None):
        return {"faults": await self.ctx.faults.list(self._api(api))}, 200

    async def control_faults_clear(self):
        await self.ctx.faults.clear()
        return None, 204

    async def control_fault_delete(self, fault_id: str):
        if not await self.ctx.faults.delete(fault_id):
            raise MockError(404, "not_found", f"no fault {fault_id!r}")
        return None, 204
