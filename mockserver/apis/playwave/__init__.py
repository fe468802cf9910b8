"""PlayWave game-session heartbeat (seed 002): thin handlers over `PlaywaveFake`.

The native API is one operation, `PATCH /v1/game/session/heartbeat`; sessions come from the
verify endpoint the document does not describe, so the control routes under
`/__mock/playwave` create them and drive exhaustion, ending and the PC launchers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mockserver.apis.playwave import errors, records
from mockserver.apis.playwave.client import PlaywaveControl
from mockserver.apis.playwave.fake import PlaywaveFake
from mockserver.core.api import CadencePolicy, ErrorBody, MockApi, StopAnswer
from mockserver.core.config import ANY, list_setting
from mockserver.core.errors import MockError
from mockserver.http.security import security_map

__all__ = ["PlaywaveApi"]


class PlaywaveApi(MockApi):
    name = "playwave"
    title = "PlayWave game-session heartbeat"
    source = "002_ec8b4c6a1163a7a8.txt"
    body_without_content_type_is_json = False  # 002: Content-Type application/json is required
    spec = "playwave.yaml"
    control_spec = "playwave.yaml"
    control_client = PlaywaveControl
    prefixes = ("/v1/game/session",)
    heartbeat_operation = "playwave_heartbeat"
    # 002: "Clients stop heartbeating on 404 and 410 (the Luau example) and on SESSION_REPLACED".
    stop_answers = (
        StopAnswer(404, ("error", "code")),
        StopAnswer(410, ("error", "code")),
        StopAnswer(200, ("data", "result"), "SESSION_REPLACED"),
    )
    record_schemas = records.SCHEMAS  # what a restored snapshot may hold
    needs_seeding = (
        "its sessions come only from POST /__mock/playwave/sessions (the verify endpoint that "
        "creates them is not documented)"
    )
    secret_headers = frozenset({"x-api-key"})  # 002: the per-game key

    # Shown by their prefix in GET /__mock/settings: what clients send as credentials.
    secret_settings = frozenset({"api_keys"})

    @dataclass
    class Config:
        next_heartbeat_in: int = 120  # 002: "Must be called every 2 minutes (120 seconds)"
        ttl_seconds: float = 240  # 002: Redis TTL 4 min
        charge_grace_seconds: float = 120  # 002: "auto-terminates after 2 min grace"
        launcher_timeout_seconds: float = 240  # 002: launcher silent "for over 4 minutes"
        ending_seconds: float = 5  # assumed: how long SESSION_ENDING lasts
        ended_retention_seconds: float = 240  # assumed: SESSION_ENDED, then SESSION_NOT_FOUND
        pc_retention_seconds: float = 3600  # assumed: a PC's record outlives its last change by
        api_keys: list[str] | None = ANY  # pinned X-Api-Keys; ANY: any non-empty key

        def __post_init__(self) -> None:
            beat = self.next_heartbeat_in
            if isinstance(beat, bool) or not isinstance(beat, int) or beat < 1:
                raise ValueError(f"next_heartbeat_in must be an integer >= 1, got {beat!r}")
            for name in (
                "ttl_seconds",
                "charge_grace_seconds",
                "launcher_timeout_seconds",
                "ending_seconds",
                "ended_retention_seconds",
                "pc_retention_seconds",
            ):
                value = getattr(self, name)
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not math.isfinite(value)
                    or value < 0
                ):
                    raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
            self.api_keys = list_setting("api_keys", self.api_keys, str)
            if any(not key or key != key.strip() for key in self.api_keys or ()):
                raise ValueError("api_keys must be non-empty, without surrounding spaces")

    def __init__(self, ctx, config: PlaywaveApi.Config) -> None:
        super().__init__(ctx, config)
        self.fake = PlaywaveFake(ctx.store, config)

    # --- native API ------------------------------------------------------------------------
    async def playwave_heartbeat(self, body: dict, user: str):
        """`user` is the X-Api-Key the security check accepted."""
        if not isinstance(body, dict):
            raise errors.NotJson()
        now = await self.clock.now()
        beat = await self.fake.heartbeat(
            body["game_session_id"], body["provider_user_id"], user, now
        )
        if beat.state.status != 200:
            raise errors.heartbeat_error(beat.state)
        data = {
            "result": beat.state.result,
            "next_heartbeat_in": self.config.next_heartbeat_in,
            "play_duration_sec": beat.play_duration_sec,
        }
        return {"success": True, "request_id": errors.request_id(), "data": data}, 200

    # --- control routes (/__mock/playwave) --------------------------------------------------
    async def playwave_create_session(self, body: dict):
        now = await self.clock.now()
        sid, created = await self.fake.create(body, now)
        if not created:
            raise errors.SessionExists(sid)
        return await self._session(sid, now), 201

    async def playwave_list_sessions(self, pc_id: str | None = None):
        sessions = await self.fake.all(await self.clock.now(), pc_id)
        return {"sessions": sessions, "count": len(sessions)}, 200

    async def playwave_get_session(self, game_session_id: str):
        return await self._session(game_session_id, await self.clock.now()), 200

    async def playwave_exhaust_session(self, game_session_id: str):
        return await self._mark(game_session_id, "e")

    async def playwave_end_session(self, game_session_id: str):
        return await self._mark(game_session_id, "n")

    async def _mark(self, sid: str, field: str):
        now = await self.clock.now()
        if not await self.fake.mark(sid, field, now):
            raise errors.NoSuchSession(sid)
        return await self._session(sid, now), 200

    async def _session(self, sid: str, now: float) -> dict:
        view = await self.fake.view(sid, now)
        if view is None:
            raise errors.NoSuchSession(sid)
        return view

    async def playwave_get_launcher(self, pc_id: str):
        return await self.fake.launcher(pc_id, None, await self.clock.now()), 200

    async def playwave_stop_launcher(self, pc_id: str):
        return await self.fake.launcher(pc_id, "stop", await self.clock.now()), 200

    async def playwave_start_launcher(self, pc_id: str):
        return await self.fake.launcher(pc_id, "start", await self.clock.now()), 200

    async def playwave_launcher_heartbeat(self, pc_id: str):
        return await self.fake.launcher(pc_id, "heartbeat", await self.clock.now()), 200

    # --- what core asks -------------------------------------------------------------------
    def security_map(self) -> dict:
        def check(api_key: str, required_scopes=None) -> dict | None:
            config = self.config  # the settings in force now (runtime settings)
            if not api_key or (config.api_keys is not ANY and api_key not in config.api_keys):
                return None
            return {"sub": api_key}

        return security_map(api_key=check)

    def auth_hint(self) -> str:
        if self.config.api_keys is not ANY:
            return "X-Api-Key: one of the pinned keys (setting api_keys)"
        return "X-Api-Key: any non-empty per-game key"

    def identity(self, operation, request) -> str | None:
        body = request.get("body")
        if operation == self.heartbeat_operation and isinstance(body, dict):
            sid = body.get("game_session_id")
            return sid if isinstance(sid, str) else None
        return None

    def cadence(self, identity=None, entries=None) -> CadencePolicy:
        return CadencePolicy(
            interval=self.config.next_heartbeat_in,
            ttl=self.config.ttl_seconds,
            ttl_effect="the session expired",  # 002: the session's Redis TTL ran out
        )

    def render_error(self, err: MockError) -> ErrorBody:
        return errors.render_error(err)
