"""Sonoran's state in the store: the per-key rate windows and the latest heartbeat per key and
server (seed 000). Every method returns an outcome; the handlers turn outcomes into answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.apis.sonoran import rules
from mockserver.core.ratelimit import RateWindow
from mockserver.core.redaction import mask_credential

__all__ = ["SonoranFake", "Accepted", "OverLimit", "NotConfigured", "Outcome"]

HEARTBEATS = "sonoran:heartbeats"
WINDOWS = "sonoran:windows"


@dataclass(frozen=True)
class Accepted:
    """The heartbeat is recorded: `record` is the key's latest heartbeat for the server."""

    record: dict


@dataclass(frozen=True)
class OverLimit:
    """The key has used its `limit` slots of the window; one frees in `retry_after` seconds."""

    limit: int
    retry_after: int


@dataclass(frozen=True)
class NotConfigured:
    """The serverId is not one of the pinned `server_ids`."""

    server_id: int


Outcome = Accepted | OverLimit | NotConfigured


class SonoranFake:
    def __init__(self, store, config) -> None:
        self.store = store
        self.config = config
        self.window = RateWindow(store, WINDOWS, config.rate_limit_per_minute, rules.WINDOW_SECONDS)

    async def heartbeat(self, api_key: str, server_id: int, player_count: int, now: float):
        """The limiter answers first (a key over its limit gets 429 even for an unknown
        server), but only an accepted heartbeat takes a slot."""
        cfg = self.config
        kid = rules.key_id(api_key)
        configured = rules.configured(server_id, cfg.server_ids)
        admission = await self.window.admit(kid, now, take=configured)
        if not admission.allowed:
            return OverLimit(cfg.rate_limit_per_minute, admission.retry_after)
        if not configured:
            return NotConfigured(server_id)

        def write(old: dict | None):
            rec = rules.beat(
                old,
                masked_key=mask_credential(api_key),
                kid=kid,
                server_id=server_id,
                player_count=player_count,
                now=now,
                retention=cfg.heartbeat_retention_seconds,
            )
            return rec, rec

        return Accepted(await self.store.update(HEARTBEATS, f"{kid}:{server_id}", write))

    async def servers(self, now: float) -> list[dict]:
        """The latest heartbeat of every key and server that is still kept, by key and server."""
        retention = self.config.heartbeat_retention_seconds
        records = [
            rec for _, rec in await self.store.scan(HEARTBEATS) if rules.kept(rec, now, retention)
        ]
        records.sort(key=lambda r: (r["keyId"], r["serverId"]))
        return records
