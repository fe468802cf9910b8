"""What a snapshot of Sonoran's state may hold (mockserver.snapshot): the latest heartbeat per
API key and server (`fake.HEARTBEATS`, keyed `<keyId>:<serverId>`) and each key's rate window
(`fake.WINDOWS`, keyed by keyId). Keys are digests and `apiKey` is masked: no API key is kept."""

from __future__ import annotations

from mockserver.snapshot import TIME, record

__all__ = ["SCHEMAS"]

_COUNT = {"type": "integer", "minimum": 1}

SCHEMAS = {
    "heartbeats": record(
        {
            "apiKey": {"type": "string"},
            "keyId": {"type": "string"},
            "serverId": {"type": "integer", "minimum": 1, "maximum": 2147483647},
            "playerCount": {"type": "integer", "minimum": 0, "maximum": 10000},
            "receivedAt": TIME,
            "firstSeen": TIME,
            "heartbeats": _COUNT,
            "expires_at": TIME,
        }
    ),
    "windows": record({"hits": {"type": "array", "items": TIME}, "expires_at": TIME}),
}
