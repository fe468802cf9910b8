"""What a snapshot of collect's state may hold (mockserver.snapshot): each system's heartbeats
(`fake.SYSTEMS`, keyed by system_id; `last_user` is the Basic user name, never its password)
and the armed external API errors (`fake.EXTERNAL`, one record `armed`)."""

from __future__ import annotations

from mockserver.snapshot import TIME, record

__all__ = ["SCHEMAS"]

_RULE = record(
    {
        "id": {"type": "string"},
        "system_id": {"type": ["string", "null"]},
        "times": {"type": "integer", "minimum": 1},
        "remaining": {"type": "integer", "minimum": 1},
        "applied": {"type": "integer", "minimum": 0},
        "message": {"type": "string"},
        "details": {},
    }
)

SCHEMAS = {
    "systems": record(
        {
            "system_id": {"type": "string"},
            "first_heartbeat": TIME,
            "last_heartbeat": TIME,
            "heartbeats": {"type": "integer", "minimum": 1},
            "last_user": {"type": ["string", "null"]},
            "expires_at": TIME,
        }
    ),
    "external_errors": record(
        {
            "seq": {"type": "integer", "minimum": 0},
            "rules": {"type": "array", "items": _RULE, "maxItems": 100},
        }
    ),
}
