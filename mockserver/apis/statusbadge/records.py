"""What a snapshot of statusbadge's KV may hold (mockserver.snapshot): one record per server
(`fake.SERVERS`, keyed by its public id, a digest of its token). No token is kept."""

from __future__ import annotations

from mockserver.snapshot import TIME, record

__all__ = ["SCHEMAS"]

_NUMBER = {"type": "number"}

SCHEMAS = {
    "servers": record(
        {
            "publicId": {"type": "string"},
            "data": {
                "type": "object",
                "required": ["status", "players", "maxPlayers"],
                "properties": {
                    "status": {"type": "string"},
                    "players": _NUMBER,
                    "maxPlayers": _NUMBER,
                },
            },
            "timestamp": TIME,
            "heartbeatIntervalSec": {"type": ["number", "null"]},
            "expires_at": TIME,
            "first_seen": TIME,
            "heartbeats": {"type": "integer", "minimum": 1},
        }
    ),
}
