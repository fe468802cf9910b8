"""statusbadge's KV rules as pure functions of a record and "now" (seed 004, "Heartbeat API").
No store, no clock: `StatusbadgeFake` reads a record, asks these rules, and writes what they give.

Documented (004): public id = `srv_pub_` + the first 12 hex of SHA-256(token without
`sk_live_`); each heartbeat is stored under the public id with data, timestamp and
heartbeatIntervalSec, TTL 300 s; the badge is offline after
staleTimeoutMs = max(60000, min(300000, heartbeatIntervalSec × 2000)) of silence (300000 ms
without an interval). Assumed (spec x-mock-assumed): both periods include their last instant
(an entry is live while now <= expires_at; online while the silence is <= staleTimeoutMs); a
heartbeat after the entry expired starts it over (first seen now, one heartbeat); the badge's
wording and colours.

A record: `publicId`, `data`, `timestamp`, `heartbeatIntervalSec`, `expires_at` (the KV TTL,
which the store's purge uses for its late clean-up), `first_seen`, `heartbeats`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = [
    "TOKEN_PREFIX",
    "Verdict",
    "badge",
    "heartbeat",
    "live",
    "public_id",
    "stale_timeout_ms",
    "verdict",
]

TOKEN_PREFIX = "sk_live_"


def public_id(token: str) -> str:
    """004: strip `sk_live_`, SHA-256 the UUID text, first 12 hex characters, `srv_pub_`."""
    uuid_text = token[len(TOKEN_PREFIX) :] if token.startswith(TOKEN_PREFIX) else token
    return "srv_pub_" + hashlib.sha256(uuid_text.encode()).hexdigest()[:12]


def stale_timeout_ms(
    interval_sec: float | None, *, floor_ms: int = 60_000, cap_ms: int = 300_000
) -> int:
    """004: max(60000, min(300000, heartbeatIntervalSec × 2000)); 300000 when not sent."""
    if interval_sec is None:
        return cap_ms
    return int(max(floor_ms, min(cap_ms, interval_sec * 2000)))


def live(rec: dict | None, now: float) -> bool:
    """The KV entry still exists: its TTL includes its last instant."""
    return rec is not None and now <= rec["expires_at"]


def heartbeat(old: dict | None, pid: str, data: dict, now: float, ttl: float) -> dict:
    """The entry a heartbeat stores: this one's data, a fresh TTL, and the history of the entry
    it replaces while that one is live."""
    fresh = live(old, now)
    return {
        "publicId": pid,
        "data": data,
        "timestamp": now,
        "heartbeatIntervalSec": data.get("heartbeatIntervalSec"),
        "expires_at": now + ttl,
        "first_seen": old["first_seen"] if fresh else now,
        "heartbeats": (old["heartbeats"] if fresh else 0) + 1,
    }


@dataclass(frozen=True)
class Verdict:
    online: bool
    status: str  # the reported status while online, "offline" once stale
    stale_ms: int


def verdict(rec: dict, now: float, *, floor_ms: int, cap_ms: int) -> Verdict:
    stale_ms = stale_timeout_ms(rec["heartbeatIntervalSec"], floor_ms=floor_ms, cap_ms=cap_ms)
    online = (now - rec["timestamp"]) * 1000 <= stale_ms
    return Verdict(online, rec["data"]["status"] if online else "offline", stale_ms)


def badge(rec: dict | None, seen: Verdict | None) -> tuple[str, str, int]:
    """(message, colour, status) of the badge (assumed: 004 names "the badge endpoint" only):
    the reported status and players while online, "offline" once stale, "not found" (404)
    for an entry that expired or was never stored."""
    if rec is None or seen is None:
        return "not found", "#9f9f9f", 404
    if not seen.online:
        return "offline", "#e05d44", 200
    data = rec["data"]
    colour = "#4c1" if seen.status == "online" else "#dfb317"
    return f"{seen.status} {data['players']:g}/{data['maxPlayers']:g}", colour, 200
