"""PlayWave's errors (seed 002, "Errors") and the error envelope they are rendered in.

The three documented rows are one class each; the heartbeat's handler turns a session state from
`rules.evaluate` into one of them (`heartbeat_error`). The document shows no error body: the
envelope `{"success": false, "request_id", "error": {"code", "message", "details"?}}` mirrors the
documented success envelope (assumed, `x-mock-assumed` in specs/playwave.yaml). The control
routes' errors (`SessionExists`, `NoSuchSession`) are rendered by the control API in its own
format.
"""

from __future__ import annotations

import secrets

from mockserver.apis.playwave.rules import SESSION_ENDED, SessionState
from mockserver.core.api import ErrorBody
from mockserver.core.errors import UPPER_CODES, FieldError, MockError

__all__ = [
    "SessionNotFound",
    "SessionEnded",
    "SessionEnding",
    "NotJson",
    "SessionExists",
    "NoSuchSession",
    "heartbeat_error",
    "render_error",
    "request_id",
]


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


class NotJson(MockError):
    """002 requires `Content-Type: application/json`; without it connexion hands the handler
    the raw bytes, and the answer is 415 (assumed)."""

    def __init__(self) -> None:
        super().__init__(
            415,
            "unsupported_media_type",
            "Content-Type must be application/json",
            fields=[FieldError("Content-Type", "required", "required", location="header")],
            violation=True,
        )


class SessionExists(MockError):
    """Control API: a session with the seeded id is still known (409)."""

    def __init__(self, game_session_id: str) -> None:
        super().__init__(409, "conflict", f"session {game_session_id} already exists")


class NoSuchSession(MockError):
    """Control API: the session was never created, or a heartbeat would no longer find it."""

    def __init__(self, game_session_id: str) -> None:
        super().__init__(404, "not_found", f"no session {game_session_id} (never created, or gone)")


_GONE = {
    "SESSION_NOT_FOUND": SessionNotFound,
    "SESSION_ENDED": SessionEnded,
    "SESSION_ENDING": SessionEnding,
}
# Why an ended session ended, in its message (the code stays the documented SESSION_ENDED).
_ENDED_WHY = {
    "end": "Session already ended",
    "charge": "Session already ended (G-coin exhausted, grace over)",
    "launcher": "Session already ended (launcher heartbeat timeout)",
}


def heartbeat_error(state: SessionState) -> MockError:
    """The documented error for a state a heartbeat can't continue from (404 or 410)."""
    why = _ENDED_WHY.get(state.reason or "") if state.result == SESSION_ENDED else None
    return _GONE[state.result](*([why] if why else []))


def request_id() -> str:
    return "req_" + secrets.token_hex(6)


def render_error(err: MockError) -> ErrorBody:
    """Any error of the native API in the (assumed) envelope; generic kinds get UPPER_SNAKE
    codes (VALIDATION_ERROR, UNAUTHORIZED ...), PlayWave's own keep their documented code."""
    code = err.kind if err.kind.isupper() else UPPER_CODES.get(err.kind, "ERROR")
    error: dict = {"code": code, "message": err.message or code}
    if err.fields:
        error["details"] = [
            {"field": f.key, "rule": f.rule, "message": f.message, "location": f.location}
            for f in err.fields
        ]
    body = {"success": False, "request_id": request_id(), "error": error}
    return ErrorBody(err.status, body, dict(err.headers))
