"""PlayWave game-session heartbeat (seed 002): thin handlers over `PlaywaveFake`.

The native API is one operation, `PATCH /v1/game/session/heartbeat`; sessions come from the
verify endpoint the document does not describe, so the control routes under
`/__mock/playwave` create them and drive exhaustion, ending and the PC launchers.
"""

from __future__ import annotations

import secrets

from connexion import request as current_request

from mockserver.apis.playwave.fake import PlaywaveFake, SessionExists
from mockserver.apis.playwave.rules import PlaywaveConfig
from mockserver.client import ApiControl
from mockserver.core.api import CadencePolicy, ErrorBody, MockApi
from mockserver.core.errors import UPPER_CODES, FieldError, MockError
from mockserver.http.security import security_map

__all__ = ["PlaywaveApi", "SessionNotFound", "SessionEnded", "SessionEnding"]

# Generic error kinds -> the code in the error envelope (assumed: the document shows none).
_CODES = UPPER_CODES


class SessionNotFound(MockError):
    """002: 404 SESSION_NOT_FOUND, "Session not found (expired/deleted)"."""

    def __init__(self, message: str = "Session not found (expired/deleted)") -> None:
        super().__init__(404, "SESSION_NOT_FOUND", message)


class SessionEnded(MockError):
    """002: 410 SESSION_ENDED, "Session already ended"."""

    def __init__(self, message: str = "Session already ended") -> None:
        super().__init__(410, "SESSION_ENDED", message)


class SessionEnding(MockError):
    """002: 410 SESSION_ENDING, "Termination in progress"."""

    def __init__(self, message: str = "Termination in progress") -> None:
        super().__init__(410, "SESSION_ENDING", message)


_GONE_ERRORS = {
    "SESSION_NOT_FOUND": SessionNotFound,
    "SESSION_ENDED": SessionEnded,
    "SESSION_ENDING": SessionEnding,
}
_ENDED_WHY = {
    "end": "Session already ended",
    "charge": "Session already ended (G-coin exhausted, grace over)",
    "launcher": "Session already ended (launcher heartbeat timeout)",
}


def request_id() -> str:
    return "req_" + secrets.token_hex(6)


class PlaywaveControl(ApiControl):
    """`client.playwave`: seed sessions (verify is not documented) and drive their life."""

    api = "playwave"

    def create_session(self, provider_user_id: str, **fields) -> dict:
        return self._call(
            "POST", "/sessions", json={"provider_user_id": provider_user_id, **fields}
        )

    def sessions(self, *, pc_id: str | None = None) -> list[dict]:
        return self._call("GET", "/sessions", params={"pc_id": pc_id} if pc_id else None)[
            "sessions"
        ]

    def session(self, game_session_id: str) -> dict:
        return self._call("GET", f"/sessions/{game_session_id}")

    def exhaust(self, game_session_id: str) -> dict:
        return self._call("POST", f"/sessions/{game_session_id}/exhaust")

    def end(self, game_session_id: str) -> dict:
        return self._call("POST", f"/sessions/{game_session_id}/end")

    def launcher(self, pc_id: str) -> dict:
        return self._call("GET", f"/launchers/{pc_id}")

    def stop_launcher(self, pc_id: str) -> dict:
        return self._call("POST", f"/launchers/{pc_id}/stop")

    def start_launcher(self, pc_id: str) -> dict:
        return self._call("POST", f"/launchers/{pc_id}/start")

    def launcher_heartbeat(self, pc_id: str) -> dict:
        return self._call("POST", f"/launchers/{pc_id}/heartbeat")


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
    secret_headers = frozenset({"x-api-key"})  # 002: the per-game key
    Config = PlaywaveConfig

    def __init__(self, ctx, config: PlaywaveConfig) -> None:
        super().__init__(ctx, config)
        self.fake = PlaywaveFake(ctx.store, config)

    # --- native API ------------------------------------------------------------------------
    async def playwave_heartbeat(self, body: dict):
        if not isinstance(body, dict):
            # 002 requires `Content-Type: application/json`. Without the header connexion
            # validates the body as JSON but hands the handler raw bytes.
            raise MockError(
                415,
                "unsupported_media_type",
                "Content-Type must be application/json",
                fields=[FieldError("Content-Type", "required", "required", location="header")],
                violation=True,
            )
        now = await self.clock.now()
        api_key = current_request.headers.get("x-api-key", "")
        beat = await self.fake.heartbeat(
            body["game_session_id"], body["provider_user_id"], api_key, now
        )
        state = beat.state
        if state.status != 200:
            message = (
                _ENDED_WHY.get(state.reason or "") if state.result == "SESSION_ENDED" else None
            )
            raise _GONE_ERRORS[state.result](*([message] if message else []))
        data = {
            "result": state.result,
            "next_heartbeat_in": self.config.next_heartbeat_in,
            "play_duration_sec": beat.play_duration_sec,
        }
        return {"success": True, "request_id": request_id(), "data": data}, 200

    # --- control routes (/__mock/playwave) --------------------------------------------------
    async def playwave_create_session(self, body: dict):
        now = await self.clock.now()
        try:
            sid = await self.fake.create(body, now)
        except SessionExists:
            raise MockError(
                409, "conflict", f"session {body.get('game_session_id')} already exists"
            ) from None
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
            raise MockError(404, "not_found", f"no session {sid} (never created, or gone)")
        return await self._session(sid, now), 200

    async def _session(self, sid: str, now: float) -> dict:
        found = await self.fake.find(sid, now)
        if found is None:
            raise MockError(404, "not_found", f"no session {sid} (never created, or gone)")
        rec, pc, state = found
        return self.fake.session_view(sid, rec, pc, state, now)

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
        pinned = self.config.api_keys

        def check(api_key: str, required_scopes=None) -> dict | None:
            if not api_key or (pinned and api_key not in pinned):
                return None
            return {"sub": api_key}

        return security_map(api_key=check)

    def auth_hint(self) -> str:
        if self.config.api_keys:
            return "X-Api-Key: one of the pinned keys (setting api_keys)"
        return "X-Api-Key: any non-empty per-game key"

    def identity(self, operation, request) -> str | None:
        body = request.get("body")
        if operation == self.heartbeat_operation and isinstance(body, dict):
            sid = body.get("game_session_id")
            return sid if isinstance(sid, str) else None
        return None

    def cadence(self, identity=None, entries=None) -> CadencePolicy:
        return CadencePolicy(interval=self.config.next_heartbeat_in, ttl=self.config.ttl_seconds)

    def render_error(self, err: MockError) -> ErrorBody:
        """The assumed error envelope, mirroring the documented success envelope."""
        code = err.kind if err.kind.isupper() else _CODES.get(err.kind, "ERROR")
        error: dict = {"code": code, "message": err.message or code}
        if err.fields:
            error["details"] = [_detail(f) for f in err.fields]
        body = {"success": False, "request_id": request_id(), "error": error}
        return ErrorBody(err.status, body, dict(err.headers))


def _detail(f: FieldError) -> dict:
    return {"field": f.key, "rule": f.rule, "message": f.message, "location": f.location}
