"""collect's errors and its `{code, message, data}` envelope (seed 001): 400 `validation failed`
(data.type validation_error or external_api_error, data.errors [{key, message, value}],
data.details), 401 `invalid token`, 403 `insufficient permissions`, 500 `internal server error`.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from mockserver.core.api import ErrorBody
from mockserver.core.errors import FieldError, MockError

__all__ = [
    "ExternalApiError",
    "InsufficientPermissions",
    "render_error",
    "MESSAGES",
    "EXTERNAL_MESSAGE",
    "EXTERNAL_DETAILS",
]

# The envelope messages the document shows, by status.
MESSAGES = {
    200: "heartbeat acknowledged",
    400: "validation failed",
    401: "invalid token",
    403: "insufficient permissions",
    500: "internal server error",
}
EXTERNAL_MESSAGE = "external api error"
EXTERNAL_DETAILS = "the external API the heartbeat is forwarded to failed"

# FieldError.rule -> the short code shown as `message` in data.errors ("required" is documented).
RULE_CODES = {
    "required": "required",
    "minLength": "required",  # an empty system_id counts as missing
    "type": "invalid_type",
    "json": "invalid_json",
    "encoding": "invalid_encoding",
    "media_type": "unsupported_media_type",
    "max_size": "too_large",
}
# Rules whose FieldError message says more than the code; it goes to data.details.
DETAIL_RULES = {"json", "encoding", "media_type", "max_size", "invalid"}
_RECEIVED_MEDIA_TYPE = re.compile(r"Invalid Content-type \(([^)]*)\)")


class ExternalApiError(MockError):
    """001: 400 with data.type `external_api_error` (armed through the control API)."""

    def __init__(self, message: str = EXTERNAL_MESSAGE, details: Any = EXTERNAL_DETAILS) -> None:
        super().__init__(400, "external_api_error", message, data={"details": details})


class InsufficientPermissions(MockError):
    """001: 403 `insufficient permissions`: a forbidden user, or a system outside the pinned
    `systems` (the reason stays in the journal; the body is the documented envelope)."""

    def __init__(self, reason: str) -> None:
        super().__init__(403, "forbidden", reason)


def render_error(err: MockError) -> ErrorBody:
    """001's envelope for every error, typed or generic; which 400 type applies is described in
    the spec's 400."""
    headers = dict(err.headers)
    if err.kind == "external_api_error" or (err.kind == "validation" and not err.fields):
        # A 400 naming no failing field (an armed external error, or an injected fault).
        details = err.data.get("details", err.message or EXTERNAL_DETAILS)
        message = err.message if err.kind == "external_api_error" else EXTERNAL_MESSAGE
        data = {"type": "external_api_error", "errors": [], "details": details}
        return ErrorBody(400, {"code": 400, "message": message, "data": data}, headers)
    if err.kind in ("validation", "unsupported_media_type", "payload_too_large"):
        return ErrorBody(400, _validation_body(err), headers)
    status = {"auth": 401, "forbidden": 403, "internal": 500}.get(err.kind, err.status)
    if status in MESSAGES:
        message = MESSAGES[status]
    else:
        try:
            message = HTTPStatus(status).phrase.lower()
        except ValueError:
            message = err.message or "error"
    return ErrorBody(status, {"code": status, "message": message, "data": {}}, headers)


def _validation_body(err: MockError) -> dict:
    fields = err.fields
    if err.kind == "payload_too_large":
        fields = [FieldError("body", "max_size", err.message)]
    errors, details = [], []
    for f in fields:
        code = RULE_CODES.get(f.rule, f.rule)
        value = f.value
        if f.rule == "type" and f.message.startswith("None is not of type"):
            code = "required"  # null system_id: as absent
        if f.rule == "media_type":
            m = _RECEIVED_MEDIA_TYPE.search(f.message)
            value = m.group(1) if m else ""
        errors.append({"key": f.key, "message": code, "value": value})
        if f.rule in DETAIL_RULES:
            details.append(f.message)
    data: dict = {"type": "validation_error", "errors": errors}
    if details:
        data["details"] = "; ".join(details)
    return {"code": 400, "message": MESSAGES[400], "data": data}
