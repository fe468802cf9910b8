"""What a snapshot of PlayWave's state may hold (mockserver.snapshot): sessions (`fake.SESSIONS`,
keyed by game_session_id) and PCs (`fake.PCS`, keyed by pc_id), in the compact fields `rules`
describes. A session seeded with a `game_api_key` keeps that key as given (`k`): it is what a
heartbeat's X-Api-Key is compared with, so a snapshot holds it (README)."""

from __future__ import annotations

from mockserver.snapshot import TIME, record

__all__ = ["SCHEMAS"]

_TEXT = {"type": "string"}

SCHEMAS = {
    "s": record(
        {"u": _TEXT, "c": TIME, "h": TIME, "i": {"type": "integer", "minimum": 0}},
        {"p": _TEXT, "k": _TEXT, "e": TIME, "n": TIME, "t": TIME, "r": TIME, "expires_at": TIME},
    ),
    "pc": record({"s": _TEXT, "a": TIME}, {"q": TIME, "expires_at": TIME}),
}
