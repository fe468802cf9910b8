"""Lucit's errors: the control routes' typed errors, and Laravel's JSON error answers.

003 shows no error answers. Lucit is a Laravel service (its `.000000Z` timestamps say so), so
the native API answers in Laravel's shapes (assumed, see the spec's x-mock-assumed):
`{"message": ...}`, and for validation 422 `{"message": ..., "errors": {field: [messages]}}`.
"""

from __future__ import annotations

import re

from mockserver.core.api import ErrorBody
from mockserver.core.errors import FieldError, MockError

__all__ = [
    "DeviceNotFound",
    "InstructionNotFound",
    "QueueFull",
    "laravel_validation",
    "render_error",
]


# --- the control routes' errors (rendered in the control API's format) ----------------------
class DeviceNotFound(MockError):
    """No live device: never seen, or forgotten after its retention window."""

    def __init__(self, lcuid: str) -> None:
        super().__init__(
            404,
            "not_found",
            f"no device {lcuid!r} (no heartbeat or instruction yet, or forgotten after "
            "device_retention_seconds of silence)",
        )


class InstructionNotFound(MockError):
    """No live instruction with this id: never queued, or forgotten with its device or after
    instruction_retention_seconds."""

    def __init__(self, lcuid: str) -> None:
        super().__init__(404, "not_found", f"no instruction {lcuid!r}")


class QueueFull(MockError):
    """The device holds max_instructions_per_device pending instructions."""

    def __init__(self, lcuid: str, cap: int) -> None:
        super().__init__(
            409,
            "conflict",
            f"device {lcuid!r} already holds {cap} pending instructions "
            "(setting max_instructions_per_device); deliver or acknowledge some first",
        )


# --- Laravel's validation answer ------------------------------------------------------------
# The heartbeat's rules as a Laravel FormRequest would declare them, in order.
_RULE_ORDER = ("lightning_version", "device_info", "device_info.*")
_EXPECTED = {"lightning_version": "string", "device_info": "array", "device_info.*": "string"}
_MUST_BE = {"string": "must be a string", "array": "must be an array"}
_ITEM = re.compile(r"^device_info\.(\d+)$")


def _displayable(key: str) -> str:
    """Laravel's attribute name in messages: underscores become spaces (`device info.0`)."""
    return key.replace("_", " ")


def _rule_of(key: str) -> str:
    return "device_info.*" if _ITEM.match(key) else key


def _laravel_message(f: FieldError) -> tuple[str, str]:
    key = f.key
    if f.location != "body":
        return key, f"The {_displayable(key)} field is invalid."
    if key == "body":  # no usable input: missing, not JSON, not an object
        return "lightning_version", "The lightning version field is required."
    # Laravel's `required` fails on null, "" and blank strings (TrimStrings makes them null).
    blank = f.rule in ("minLength", "pattern") or f.message.startswith("None is not")
    if f.rule == "required" or (key == "lightning_version" and blank):
        return key, f"The {_displayable(key)} field is required."
    expected = _EXPECTED.get(_rule_of(key))
    if f.rule == "type" and expected:
        return key, f"The {_displayable(key)} field {_MUST_BE[expected]}."
    return key, f"The {_displayable(key)} field is invalid."


def laravel_validation(fields: list[FieldError]) -> dict:
    """`{"message", "errors"}` as Laravel's ValidationException renders it. A body that is
    missing, not JSON or not an object reads in Laravel as no input, so `lightning_version`
    is "required"; a blank `lightning_version` is "required" too (Laravel trims it to null)."""
    errors: dict[str, list[str]] = {}
    for f in fields:
        key, text = _laravel_message(f)
        messages = errors.setdefault(key, [])
        if text not in messages:
            messages.append(text)

    def order(key: str) -> tuple:
        rule = _rule_of(key)
        index = _RULE_ORDER.index(rule) if rule in _RULE_ORDER else len(_RULE_ORDER)
        m = _ITEM.match(key)
        return (index, int(m.group(1)) if m else 0, key)

    errors = {k: errors[k] for k in sorted(errors, key=order)}
    flat = [m for messages in errors.values() for m in messages]
    message = flat[0]
    if len(flat) > 1:
        more = len(flat) - 1
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return {"message": message, "errors": errors}


# --- every other answer ---------------------------------------------------------------------
_MESSAGES = {
    "payload_too_large": "The POST data is too large.",  # PostTooLargeException
    "rate_limited": "Too Many Attempts.",  # ThrottleRequestsException
    "forbidden": "This action is unauthorized.",  # AuthorizationException
}


def _method_not_allowed(err: MockError, path: str) -> str:
    allowed = err.headers.get("Allow") or err.headers.get("allow") or "POST"
    method = err.data.get("method")
    if method and path:
        return (
            f"The {method} method is not supported for route {path}. Supported methods: {allowed}."
        )
    return "Method Not Allowed"


def render_error(err: MockError) -> ErrorBody:
    """Laravel's JSON error answers (003 shows none; see the spec's x-mock-assumed)."""
    headers = dict(err.headers)
    path = str(err.data.get("path", "")).lstrip("/")
    if err.kind == "auth" or any(
        f.location == "header" and f.key.lower() == "appidv3" for f in err.fields
    ):
        return ErrorBody(401, {"message": "Unauthenticated."}, headers)
    if err.kind == "unsupported_media_type":  # Laravel reads no JSON input from such a body
        fields = [FieldError("body", "media_type", err.message)]
        return ErrorBody(422, laravel_validation(fields), headers)
    if err.kind == "validation":
        fields = err.fields or [FieldError("body", "invalid", err.message)]
        return ErrorBody(422, laravel_validation(fields), headers)
    if err.kind == "not_found":
        message = f"The route {path} could not be found." if path else "Not Found"
        return ErrorBody(404, {"message": message}, headers)
    if err.kind == "method_not_allowed":
        return ErrorBody(405, {"message": _method_not_allowed(err, path)}, headers)
    if err.kind in _MESSAGES:
        return ErrorBody(err.status, {"message": _MESSAGES[err.kind]}, headers)
    if err.status == 503:
        return ErrorBody(503, {"message": "Service Unavailable"}, headers)
    if err.status >= 500:
        return ErrorBody(err.status, {"message": "Server Error"}, headers)
    return ErrorBody(err.status, {"message": err.message or "Error"}, headers)
