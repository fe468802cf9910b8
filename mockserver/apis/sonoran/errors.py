"""Sonoran's errors and their one JSON shape (seed 000 shows no error body; the spec's
`x-mock-assumed` on the 400 describes the format): `{error, message}`, plus `errors` (one entry
per failing field) on a 400 and `retryAfter` on a 429.
"""

from __future__ import annotations

from typing import Any

from mockserver.apis.sonoran.rules import WINDOW_SECONDS
from mockserver.core.api import ErrorBody
from mockserver.core.errors import UPPER_CODES, MockError

__all__ = ["RateLimited", "ServerNotFound", "render_error", "ERROR_CODES"]

ERROR_CODES = {**UPPER_CODES, "validation": "INVALID_REQUEST"}


class RateLimited(MockError):
    """000: "10 requests per minute", per API key: 429 RATE_LIMITED with Retry-After."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            429,
            "rate_limited",
            f"rate limit of {limit} requests per minute exceeded for this API key; "
            f"retry in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
            data={"retryAfter": retry_after},
        )


class ServerNotFound(MockError):
    """404 SERVER_NOT_FOUND: the serverId is not one of the community's (pinned) servers."""

    def __init__(self, server_id: int) -> None:
        super().__init__(
            404, "SERVER_NOT_FOUND", f"server {server_id} is not configured for this community"
        )


def render_error(err: MockError) -> ErrorBody:
    """Any error, typed or generic (connexion's, a fault's), in Sonoran's one shape."""
    headers = dict(err.headers)
    code = ERROR_CODES.get(err.kind, err.kind if err.kind.isupper() else err.kind.upper())
    body: dict[str, Any] = {
        "error": code,
        "message": err.message or code.replace("_", " ").lower(),
    }
    if err.status == 400:
        body["errors"] = [f.as_dict() for f in err.fields]
        if err.fields:
            body["message"] = "; ".join(f"{f.key}: {f.message}" for f in err.fields)
    if err.status == 429:
        retry_after = (
            err.data.get("retryAfter") or _int(headers.get("Retry-After")) or int(WINDOW_SECONDS)
        )
        headers.setdefault("Retry-After", str(retry_after))
        body["retryAfter"] = retry_after
    return ErrorBody(err.status, body, headers)


def _int(text: str | None) -> int | None:
    try:
        value = int(text) if text is not None else None
    except ValueError:
        return None
    return value if value and value > 0 else None
