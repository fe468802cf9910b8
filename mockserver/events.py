"""The control events that change what a timeline means, on the mock clock (issue 20).

A heartbeat timeline is read against the mock clock, so a clock that jumped, froze or was set,
and a fault rule that was active, must be drawn with it: without them a 250 s gap made by one
`clock/advance` looks like a client that went silent, and a 503 looks like the API's own.
The control API records each such call here (`clock.advance`, `clock.set`, `clock.freeze`,
`clock.unfreeze`, `clock.reset`, `fault.added`, `fault.removed`, `fault.expired`,
`scenario.started`, `scenario.stopped`); the report reads them back (`GET /__mock/events`, the
report's `events`, the HTML report's bands and breaks).

Events live in the store as logs, so every worker (and Redis) sees one history: an API's
events in `<api>:events` (reset with that API, as its journal is), the clock's and the
scenarios' in `_events:mock` (reset with everything). Each log keeps its newest `cap` events
and one sequence numbers them all, so a merged read is in the order they happened.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.clock import iso_utc
from mockserver.store import Store, StoreUnavailable

__all__ = ["EVENTS_CAP", "Events", "fault_summary"]

EVENTS_CAP = 1000  # per log: every kind of record is bounded
_SEQ_NS, _MOCK_LOG = "_events", "_events:mock"


def fault_summary(fault: dict[str, Any]) -> dict[str, Any]:
    """What a timeline shows of a fault rule: what it does and when it may fire."""
    window = fault.get("window") or {}
    return {
        "id": fault["id"],
        "operation": fault.get("operation"),
        "status": fault.get("status"),
        "drop": bool(fault.get("drop")),
        "delay_ms": fault.get("delay_ms") or 0,
        "delay": fault.get("delay"),
        "times": fault.get("times"),
        "probability": fault.get("probability"),
        "window": {"start": window.get("start"), "end": window.get("end")},
    }


class Events:
    """The event log over a store: stateless, so any number of these share one history."""

    def __init__(self, store: Store, apis: list[str], cap: int = EVENTS_CAP) -> None:
        self._store = store
        self.apis = apis
        self.cap = cap

    async def record(self, kind: str, at: float, *, api: str | None = None, **details) -> None:
        """Add an event at mock time `at`. A store that is down loses the event, never the
        control call it describes (that call has already happened)."""

        def bump(s: dict | None):
            n = (s or {"n": 0})["n"] + 1
            return {"n": n}, n

        event = {"kind": kind, "at": iso_utc(at, micros=True), "epoch": at, "api": api}
        event.update(details)
        try:
            seq = await self._store.update(_SEQ_NS, "seq", bump)
            event["id"] = seq
            log = f"{api}:events" if api else _MOCK_LOG
            await self._store.log_append(log, event, self.cap, seq=seq)
        except StoreUnavailable:
            return

    async def list(self, api: str | None = None) -> list[dict]:
        """Every kept event (of the mock and of `api`, or of every API), oldest first: at most
        `cap` per log, so bounded however long the mock runs."""
        logs = [_MOCK_LOG] + [f"{name}:events" for name in ([api] if api else self.apis)]
        out: list[dict] = []
        for log in logs:
            out.extend(await self._store.log_read(log, limit=self.cap))
        out.sort(key=lambda e: e["id"])
        return out
