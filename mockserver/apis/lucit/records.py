"""What a snapshot of Lucit's state may hold (mockserver.snapshot): one record per device
(`fake.DEVICES`, keyed by a digest of its lcuid) with its queue of remote instructions. No token
or app id is kept."""

from __future__ import annotations

from mockserver.snapshot import TIME, record

__all__ = ["SCHEMAS"]

_INSTRUCTION = record(
    {
        "instruction": {"type": "string"},
        "parameters": {"type": "array"},
        "run_at": {"anyOf": [TIME, {"type": "null"}]},
        "status": {"enum": [0, 1, 2]},
        "lcuid": {"type": "string"},
        "created_at": TIME,
        "updated_at": TIME,
    }
)

SCHEMAS = {
    "devices": record(
        {
            "lcuid": {"type": "string"},
            "last_heartbeat": {"anyOf": [TIME, {"type": "null"}]},
            "lightning_version": {"type": ["string", "null"]},
            "device_info": {},
            "heartbeats": {"type": "integer", "minimum": 0},
            "instructions": {"type": "array", "items": _INSTRUCTION},
            "seen": TIME,
            "expires_at": TIME,
        }
    ),
}
