"""statusbadge's KV in the store, on the mock clock (seed 004).

One record per public id; expiry is decided when a record is read (`rules.live`), and each
record's `expires_at` lets the store purge it once dead, so the KV holds at most the servers
heard from within one TTL (plus the purge's lateness). Outcomes only: None for "no live entry".
"""

from __future__ import annotations

from mockserver.apis.statusbadge import rules

__all__ = ["StatusbadgeFake", "SERVERS"]

SERVERS = "statusbadge:servers"


class StatusbadgeFake:
    def __init__(self, store, config) -> None:
        self.store = store
        self.config = config  # StatusbadgeApi.Config: ttl_seconds

    async def record(self, token: str, data: dict, now: float) -> str:
        """Store a heartbeat under its public id; the public id."""
        pid = rules.public_id(token)
        ttl = self.config.ttl_seconds
        return await self.store.update(
            SERVERS, pid, lambda old: (rules.heartbeat(old, pid, data, now, ttl), pid)
        )

    async def get(self, pid: str, now: float) -> dict | None:
        rec = await self.store.get(SERVERS, pid)
        return rec if rules.live(rec, now) else None

    async def all(self, now: float) -> list[dict]:
        records = [rec for _, rec in await self.store.scan(SERVERS) if rules.live(rec, now)]
        return sorted(records, key=lambda rec: rec["publicId"])
