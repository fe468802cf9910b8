"""Sonoran CAD v2 heartbeat rules (seed 000) as pure functions of records and "now".

No store, no clock: `SonoranFake` reads the records, asks these functions, and writes what they
return. Documented (000): 10 requests per minute, per API key rather than per IP address; the
answer echoes serverId and playerCount with receivedAtUtc. Assumed (spec x-mock-assumed): any
well-formed bearer token is a key unless `api_keys` pins them; every positive serverId is
configured unless `server_ids` pins them; only accepted heartbeats take a rate slot; the latest
heartbeat per key and server is kept `heartbeat_retention_seconds` after it was received, then
forgotten (it includes its last instant, as PlayWave's periods do).

A heartbeat record, one per (key, server): `apiKey` the key masked, `keyId`, `serverId`,
`playerCount`, `receivedAt` (epoch seconds, mock clock), `firstSeen`, `heartbeats`, and
`expires_at` for the store's late clean-up.
"""

from __future__ import annotations

import hashlib
import re

from mockserver.core.clock import LAST_INSTANT, iso_utc
from mockserver.core.config import ANY

__all__ = [
    "LAST_INSTANT",
    "iso_utc",
    "WINDOW_SECONDS",
    "BEARER_TOKEN",
    "key_id",
    "accepts_key",
    "configured",
    "lapse",
    "kept",
    "beat",
    "answer",
]

WINDOW_SECONDS = 60.0  # 000: "10 requests per minute"
# RFC 6750 b64token: what a well-formed `Authorization: Bearer <token>` carries.
BEARER_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


def key_id(api_key: str) -> str:
    """A non-secret name for an API key: state is keyed by it, so the store holds no keys."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


def accepts_key(token: str, api_keys: list[str] | None) -> bool:
    """A well-formed bearer token, and one of the pinned keys when `api_keys` pins them."""
    return bool(BEARER_TOKEN.match(token)) and (api_keys is ANY or token in api_keys)


def configured(server_id: int, server_ids: list[int] | None) -> bool:
    """Whether the community has this server (assumed: every id unless pinned)."""
    return server_ids is ANY or server_id in server_ids


def lapse(rec: dict, retention: float) -> float:
    """The last instant the record is kept: its latest heartbeat plus the retention."""
    return rec["receivedAt"] + retention


def kept(rec: dict | None, now: float, retention: float) -> bool:
    """Decided when read, so a forgotten record reads as absent before the purge removes it."""
    return rec is not None and now <= lapse(rec, retention)


def beat(
    old: dict | None,
    *,
    masked_key: str,
    kid: str,
    server_id: int,
    player_count: int,
    now: float,
    retention: float,
) -> dict:
    """The record after an accepted heartbeat; a forgotten old record counts as none."""
    previous = old if kept(old, now, retention) else None
    rec = {
        "apiKey": masked_key,
        "keyId": kid,
        "serverId": server_id,
        "playerCount": player_count,
        "receivedAt": now,
        "firstSeen": previous["firstSeen"] if previous else now,
        "heartbeats": (previous["heartbeats"] if previous else 0) + 1,
    }
    rec["expires_at"] = lapse(rec, retention)
    return rec


def answer(rec: dict) -> dict:
    """000's 200 body: what was sent, with receivedAtUtc in whole UTC seconds."""
    return {
        "serverId": rec["serverId"],
        "playerCount": rec["playerCount"],
        "receivedAtUtc": iso_utc(rec["receivedAt"]),
    }
