"""What the benchmark sends, and the mock settings it runs with: edit here, nowhere else.

One :class:`Heartbeat` per API, built from the seed documents (shared/seeds):
- statusbadge (004): ``POST /api/heartbeat``, the documented curl body (bodies/statusbadge.json);
- sonoran (000): ``POST /v2/general/servers/1/heartbeat``, Bearer key, ``{"playerCount": 42}``;
- collect (001): ``POST /api/systems/heartbeat``, Basic auth, ``{"system_id": ...}``;
- lucit (003): ``POST /api/v3/analytics/lightning-devices/{lcuid}/heartbeat``, Bearer + AppIdV3;
- playwave (002): ``PATCH /v1/game/session/heartbeat``, X-Api-Key, a session seeded first through
  ``POST /__mock/playwave/sessions``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from httpjson import request_json

__all__ = [
    "API_ORDER",
    "MOCK_ENV",
    "SCALE_FILLS",
    "Heartbeat",
    "ScaleFill",
    "build_heartbeat",
    "statusbadge_seed_body",
]

BENCH_DIR = Path(__file__).resolve().parent

# Settings the mock runs with during the benchmark (environment of `mockserver serve`).
# Sonoran's documented 10 requests/minute per key would turn a throughput run into 429s; 0 = off.
MOCK_ENV: dict[str, str] = {
    "MOCKSERVER_SONORAN__RATE_LIMIT_PER_MINUTE": "0",
}

API_ORDER = ("statusbadge", "sonoran", "collect", "lucit", "playwave")

_BEARER = {"Authorization": "Bearer k"}
_BASIC = {"Authorization": "Basic " + base64.b64encode(b"bench:bench").decode()}
_LUCIT_APP = {"AppIdV3": "LCUID-LAP-00000000-0000-0000-0000-000000000000"}
_JSON = {"Content-Type": "application/json", "Accept": "application/json"}
PLAYWAVE_KEY = {"X-Api-Key": "bench-key"}


@dataclass(frozen=True)
class Heartbeat:
    """One API's heartbeat request; ``bodies`` are sent round robin (one body = always the same)."""

    api: str
    method: str
    path: str
    headers: dict[str, str]
    bodies: list[str] = field(default_factory=list)

    def first_body(self) -> bytes | None:
        return self.bodies[0].encode() if self.bodies else None


def statusbadge_seed_body() -> dict:
    return json.loads((BENCH_DIR / "bodies" / "statusbadge.json").read_text())


def _statusbadge(base_url: str, count: int) -> Heartbeat:
    body = statusbadge_seed_body()
    bodies = [json.dumps(body, separators=(",", ":"))]
    for _ in range(count - 1):
        body["token"] = f"sk_live_{uuid.uuid4()}"
        bodies.append(json.dumps(body, separators=(",", ":")))
    return Heartbeat("statusbadge", "POST", "/api/heartbeat", dict(_JSON), bodies)


def _sonoran(base_url: str, count: int) -> Heartbeat:
    return Heartbeat(
        "sonoran",
        "POST",
        "/v2/general/servers/1/heartbeat",
        {**_JSON, **_BEARER},
        ['{"playerCount":42}'],
    )


def _collect(base_url: str, count: int) -> Heartbeat:
    return Heartbeat(
        "collect",
        "POST",
        "/api/systems/heartbeat",
        {**_JSON, **_BASIC},
        ['{"system_id":"4cf3053f-d0d5-4b10-b752-ff8f7b63c2f7"}'],
    )


def _lucit(base_url: str, count: int) -> Heartbeat:
    return Heartbeat(
        "lucit",
        "POST",
        "/api/v3/analytics/lightning-devices/LCUID-LD-x/heartbeat",
        {**_JSON, **_BEARER, **_LUCIT_APP},
        ['{"lightning_version":"1.0"}'],
    )


def create_playwave_session(base_url: str, provider_user_id: str) -> str:
    """Seed one session through the control API; returns its ``game_session_id``."""
    status, answer = request_json(
        "POST",
        base_url + "/__mock/playwave/sessions",
        {"provider_user_id": provider_user_id},
        headers=PLAYWAVE_KEY,
    )
    if status not in (200, 201) or not isinstance(answer, dict) or "game_session_id" not in answer:
        raise RuntimeError(f"POST /__mock/playwave/sessions -> {status}: {str(answer)[:200]}")
    return answer["game_session_id"]


def _playwave(base_url: str, count: int) -> Heartbeat:
    bodies = []
    for i in range(count):
        user = str(123 + i)
        session = create_playwave_session(base_url, user)
        bodies.append(json.dumps({"game_session_id": session, "provider_user_id": user}))
    return Heartbeat(
        "playwave", "PATCH", "/v1/game/session/heartbeat", {**_JSON, **PLAYWAVE_KEY}, bodies
    )


_BUILDERS: dict[str, Callable[[str, int], Heartbeat]] = {
    "statusbadge": _statusbadge,
    "sonoran": _sonoran,
    "collect": _collect,
    "lucit": _lucit,
    "playwave": _playwave,
}


def build_heartbeat(api: str, base_url: str, count: int = 1) -> Heartbeat:
    """The heartbeat of ``api`` over ``count`` distinct servers/sessions (seeded if needed)."""
    return _BUILDERS[api](base_url, count)


@dataclass(frozen=True)
class ScaleFill:
    """How to create many live things of one API with wrk/fresh.lua, and how to count them."""

    api: str
    what: str
    method: str
    path: str
    headers: dict[str, str]
    body_template: str  # {{UUID}} / {{DIGITS}} are replaced per request
    count_path: str  # GET: a list (or {"<key>": [...]}) of what exists


SCALE_FILLS = (
    ScaleFill(
        "statusbadge",
        "servers",
        "POST",
        "/api/heartbeat",
        dict(_JSON),
        json.dumps({**statusbadge_seed_body(), "token": "sk_live_{{UUID}}"}, separators=(",", ":")),
        "/__mock/statusbadge/servers",
    ),
    ScaleFill(
        "playwave",
        "sessions",
        "POST",
        "/__mock/playwave/sessions",
        {**_JSON, **PLAYWAVE_KEY},
        '{"provider_user_id":"{{DIGITS}}"}',
        "/__mock/playwave/sessions",
    ),
)
