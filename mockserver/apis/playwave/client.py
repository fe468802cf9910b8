"""`client.playwave`: PlayWave's control routes (specs/control/playwave.yaml) over HTTP."""

from __future__ import annotations

from mockserver.client import ApiControl, segment

__all__ = ["PlaywaveControl"]


class PlaywaveControl(ApiControl):
    """Seed sessions (002's verify endpoint is not documented) and drive their life."""

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
        return self._call("GET", f"/sessions/{segment(game_session_id)}")

    def exhaust(self, game_session_id: str) -> dict:
        return self._call("POST", f"/sessions/{segment(game_session_id)}/exhaust")

    def end(self, game_session_id: str) -> dict:
        return self._call("POST", f"/sessions/{segment(game_session_id)}/end")

    def launcher(self, pc_id: str) -> dict:
        return self._call("GET", f"/launchers/{segment(pc_id)}")

    def stop_launcher(self, pc_id: str) -> dict:
        return self._call("POST", f"/launchers/{segment(pc_id)}/stop")

    def start_launcher(self, pc_id: str) -> dict:
        return self._call("POST", f"/launchers/{segment(pc_id)}/start")

    def launcher_heartbeat(self, pc_id: str) -> dict:
        return self._call("POST", f"/launchers/{segment(pc_id)}/heartbeat")
