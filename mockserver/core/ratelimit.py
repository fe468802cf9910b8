"""A sliding window rate limit on the mock clock, kept in the store (any API may use it).

Moving the mock clock frees slots exactly as waiting would (DESIGN.md, "One clock").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Admission", "RateWindow"]


@dataclass
class Admission:
    allowed: bool
    retry_after: int = 0  # whole seconds until a slot frees (when not allowed)


class RateWindow:
    """A sliding window of `limit` accepted requests per `window` seconds and key, on the mock
    clock. The key's accepted request times live in one store record, changed only through
    `store.update`, so concurrent requests (or workers sharing Redis) can't both take the
    last slot. Only requests that are admitted with `take=True` occupy a slot."""

    def __init__(self, store, ns: str, limit: int, window: float) -> None:
        self.store = store
        self.ns = ns
        self.limit = limit
        self.window = window

    def _live(self, rec: dict | None, now: float) -> list[float]:
        # A request at t holds its slot until t + window. Times after `now` belong to a clock
        # that was set back; they are dropped rather than blocking the key for longer.
        hits = rec["hits"] if rec else []
        return [t for t in hits if now - self.window < t <= now]

    def _retry_after(self, hits: list[float], now: float) -> int:
        return max(1, math.ceil(min(hits) + self.window - now))

    async def admit(self, key: str, now: float, *, take: bool = True) -> Admission:
        if self.limit <= 0:
            return Admission(True)

        def decide(rec: dict | None):
            hits = self._live(rec, now)
            if len(hits) >= self.limit:
                return self._record(hits), Admission(False, self._retry_after(hits, now))
            if take:
                hits.append(now)
            return self._record(hits), Admission(True)

        return await self.store.update(self.ns, key, decide)

    def _record(self, hits: list[float]) -> dict | None:
        if not hits:
            return None
        return {"hits": hits, "expires_at": max(hits) + self.window}
