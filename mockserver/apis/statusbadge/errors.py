"""statusbadge's errors: the three documented 400 bodies, and the `{error, message}` shape the
third implies for every other answer (seed 004, "Error (400 Bad Request)")."""

from __future__ import annotations

from mockserver.core.api import ErrorBody
from mockserver.core.errors import FieldError, MockError

__all__ = [
    "MissingRequiredFields",
    "InvalidTokenFormat",
    "BadRequest",
    "ServerNotFound",
    "documented_400",
    "render_error",
]


class MissingRequiredFields(MockError):
    """004: 400 `{"error": "Missing required fields: token and data"}`."""

    def __init__(self, fields: list[FieldError] | None = None) -> None:
        super().__init__(
            400,
            "missing_fields",
            "Missing required fields: token and data",
            fields=fields or [],
            violation=True,
        )


class InvalidTokenFormat(MockError):
    """004: 400 `{"error": "Invalid token format"}`."""

    def __init__(self, fields: list[FieldError] | None = None) -> None:
        super().__init__(
            400, "invalid_token", "Invalid token format", fields=fields or [], violation=True
        )


class BadRequest(MockError):
    """004: 400 `{"error": "Bad Request", "message": "..."}` ("Invalid request")."""

    def __init__(self, message: str, fields: list[FieldError] | None = None) -> None:
        super().__init__(400, "validation", message, fields=fields or [], violation=True)


class ServerNotFound(MockError):
    """No live KV entry for a public id (assumed: 004 shows no status endpoint)."""

    def __init__(self, pid: str, message: str | None = None) -> None:
        super().__init__(404, "not_found", message or f"no server with public id {pid}")


def documented_400(err: MockError) -> MockError:
    """Which documented 400 a validation failure is, in the order a KV worker checks (assumed,
    spec): a missing, null or empty token or data; then a malformed token; then the rest."""
    keys = {f.key: f for f in err.fields}
    for name in ("token", "data"):
        f = keys.get(name)
        if f is not None and (f.rule == "required" or f.value == ""):
            return MissingRequiredFields(err.fields)
    if "token" in keys:
        return InvalidTokenFormat(err.fields)
    message = "; ".join(f"{f.key}: {f.message}" for f in err.fields) or err.message
    return BadRequest(message, err.fields)


_TITLES = {
    "unsupported_media_type": "Bad Request",  # 004 shows no status but 400 for a bad request
    "payload_too_large": "Payload Too Large",
    "not_found": "Not Found",
    "method_not_allowed": "Method Not Allowed",
}


def render_error(err: MockError) -> ErrorBody:
    """004's bodies; see the spec's x-mock-assumed for when each applies."""
    headers = dict(err.headers)
    if err.kind == "validation" and not isinstance(err, BadRequest):
        err = documented_400(err)
    if isinstance(err, (MissingRequiredFields, InvalidTokenFormat)):
        return ErrorBody(400, {"error": err.message}, headers)
    if isinstance(err, BadRequest):
        return ErrorBody(400, {"error": "Bad Request", "message": err.message}, headers)
    if err.kind in _TITLES:
        status = 400 if err.kind == "unsupported_media_type" else err.status
        return ErrorBody(status, {"error": _TITLES[err.kind], "message": err.message}, headers)
    if err.status >= 500:
        title = "Internal Server Error" if err.status == 500 else "Service Unavailable"
        return ErrorBody(err.status, {"error": title, "message": err.message}, headers)
    title = err.kind.replace("_", " ").title()
    return ErrorBody(err.status, {"error": title, "message": err.message}, headers)
