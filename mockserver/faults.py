"""Fault rules: make the next matching requests slow, fail, or lose their connection.

A rule matches an API (and optionally one operation) and applies to the next `times` requests
(all of them when `times` is absent) until removed. Taking a rule is atomic per request in
the store, so with several workers a rule with `times: 1` fires exactly once.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.clock import iso_utc
from mockserver.store import Store

__all__ = ["Faults"]


class Faults:
    def __init__(self, store: Store, apis: list[str]) -> None:
        self._store = store
        self.apis = apis

    @staticmethod
    def _ns(api: str) -> str:
        return f"{api}:faults"

    async def add(self, spec: dict[str, Any], now: float) -> dict:
        seq = await self._store.update(
            "_faults", "seq", lambda s: ({"n": (s or {"n": 0})["n"] + 1}, (s or {"n": 0})["n"] + 1)
        )
        fault = {
            "id": f"fault-{seq}",
            "seq": seq,
            "api": spec["api"],
            "operation": spec.get("operation"),
            "status": spec.get("status"),
            "body": spec.get("body"),
            "headers": spec.get("headers") or {},
            "delay_ms": spec.get("delay_ms") or 0,
            "drop": bool(spec.get("drop", False)),
            "times": spec.get("times"),
            "remaining": spec.get("times"),
            "applied": 0,
            "created_at": iso_utc(now),
        }
        await self._store.put(self._ns(fault["api"]), fault["id"], fault)
        return fault

    async def list(self, api: str | None = None) -> list[dict]:
        out: list[dict] = []
        for name in [api] if api else self.apis:
            out.extend(v for _, v in await self._store.scan(self._ns(name)))
        out.sort(key=lambda f: f["seq"])
        return out

    async def delete(self, fault_id: str) -> bool:
        for name in self.apis:
            if await self._store.delete(self._ns(name), fault_id):
                return True
        return False

    async def clear(self, api: str | None = None) -> None:
        for name in [api] if api else self.apis:
            for key, _ in await self._store.scan(self._ns(name)):
                await self._store.delete(self._ns(name), key)

    async def take(self, api: str, operation: str | None) -> dict | None:
        """The oldest rule matching this request, with one use consumed, or None."""
        candidates = await self._store.scan(self._ns(api))
        if not candidates:
            return None
        candidates.sort(key=lambda kv: kv[1]["seq"])
        for key, rule in candidates:
            if rule["operation"] not in (None, operation):
                continue

            def consume(current: dict | None):
                if current is None:
                    return None, None  # another request took its last use
                current["applied"] += 1
                if current["remaining"] is None:
                    return current, current
                current["remaining"] -= 1
                return (current if current["remaining"] > 0 else None), current

            taken = await self._store.update(self._ns(api), key, consume)
            if taken is not None:
                return taken
        return None
