"""One error model for every API; each API renders it in its own documented format.

Connexion raises its own exceptions for routing, auth and validation failures; `classify` turns
any of them (or a handler's `MockError`) into a `MockError`, and the API module's `render_error`
gives it the body its source document shows (DESIGN.md, "Each API speaks its own errors").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from connexion.exceptions import (
    BadRequestProblem,
    ExtraParameterProblem,
    Forbidden,
    NonConformingResponse,
    OAuthProblem,
    OAuthResponseProblem,
    ProblemException,
    Unauthorized,
    UnsupportedMediaTypeProblem,
)
from starlette.exceptions import HTTPException

__all__ = ["FieldError", "MockError", "FieldErrors", "classify", "value_text", "UPPER_CODES"]

# Generic error kinds as UPPER_SNAKE codes, for APIs whose (assumed) error bodies carry a code.
UPPER_CODES = {
    "validation": "VALIDATION_ERROR",
    "auth": "UNAUTHORIZED",
    "forbidden": "FORBIDDEN",
    "not_found": "NOT_FOUND",
    "method_not_allowed": "METHOD_NOT_ALLOWED",
    "payload_too_large": "PAYLOAD_TOO_LARGE",
    "unsupported_media_type": "UNSUPPORTED_MEDIA_TYPE",
    "rate_limited": "RATE_LIMITED",
    "internal": "INTERNAL_ERROR",
    "unavailable": "SERVICE_UNAVAILABLE",
}


@dataclass
class FieldError:
    """One failing field: `key` its name, `rule` what failed (required, type, pattern, enum,
    json, ...), `message` in words, `value` what was received, as text."""

    key: str
    rule: str
    message: str
    value: str = ""
    location: str = "body"

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "rule": self.rule,
            "message": self.message,
            "value": self.value,
            "location": self.location,
        }


@dataclass
class MockError(Exception):
    """An error answer. `kind` is generic (validation, auth, forbidden, not_found,
    method_not_allowed, unsupported_media_type, payload_too_large, rate_limited, internal,
    unavailable) or an API's own code (SESSION_NOT_FOUND ...). `violation` marks requests that
    broke the spec (the journal's verdict); business answers such as an expired session are not."""

    status: int
    kind: str
    message: str = ""
    fields: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    violation: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.kind}: {self.message}"


class FieldErrors(BadRequestProblem):
    """A validation failure that keeps every failing field, not only connexion's first one."""

    def __init__(self, fields: list[FieldError]) -> None:
        self.fields = fields
        super().__init__(detail="; ".join(f"{f.key}: {f.message}" for f in fields))


def value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)[:200]


_MISSING_PARAM = re.compile(r"Missing (\w+) parameter '([^']+)'")


def classify(exc: BaseException) -> MockError:
    if isinstance(exc, MockError):
        return exc
    if isinstance(exc, FieldErrors):
        return MockError(400, "validation", exc.detail, fields=exc.fields, violation=True)
    if isinstance(exc, ExtraParameterProblem):
        return _extra_parameters(exc)
    if isinstance(exc, UnsupportedMediaTypeProblem):
        return MockError(
            415,
            "unsupported_media_type",
            exc.detail or "unsupported media type",
            fields=[FieldError("Content-Type", "media_type", exc.detail or "", location="header")],
            violation=True,
        )
    if isinstance(exc, BadRequestProblem):
        detail = exc.detail or "bad request"
        fields = []
        m = _MISSING_PARAM.search(detail)
        if m:
            fields.append(FieldError(m.group(2), "required", "required", location=m.group(1)))
        elif detail == "RequestBody is required":
            fields.append(FieldError("body", "required", "required"))
        else:
            fields.append(FieldError("body", "invalid", detail))
        return MockError(400, "validation", detail, fields=fields, violation=True)
    if isinstance(exc, (OAuthProblem, OAuthResponseProblem, Unauthorized)):
        return MockError(401, "auth", exc.detail or "unauthorized", violation=True)
    if isinstance(exc, Forbidden):
        return MockError(403, "forbidden", exc.detail or "forbidden")
    if isinstance(exc, NonConformingResponse):
        return MockError(500, "internal", f"response does not match the spec: {exc.detail}")
    if isinstance(exc, (ProblemException, HTTPException)):
        status = exc.status_code if isinstance(exc, HTTPException) else exc.status
        headers = dict(getattr(exc, "headers", None) or {})
        if status == 404:
            return MockError(404, "not_found", "no such route", violation=True)
        if status == 405:
            return MockError(
                405, "method_not_allowed", "method not allowed", headers=headers, violation=True
            )
        if status == 413:
            return MockError(413, "payload_too_large", "request body too large", violation=True)
        if status < 500:
            detail = getattr(exc, "detail", None) or _phrase(status)
            return MockError(status, "http_error", str(detail), headers=headers)
    # Anything else, a server error connexion raised too, is the API's own 500: its detail is
    # the mock's business (the app's on_error logs it with its traceback), not the client's.
    return MockError(500, "internal", "internal server error")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


# Connexion 3.3 keeps only the text of an ExtraParameterProblem: "Extra query parameter(s) a,b
# not in spec" (form fields: "formData").
_EXTRA_PARAMS = re.compile(r"Extra (\w+) parameter\(s\) (.*) not in spec", re.S)


def _extra_parameters(exc: ExtraParameterProblem) -> MockError:
    detail = exc.detail or ""
    m = _EXTRA_PARAMS.fullmatch(detail)
    where, names = (m.group(1), m.group(2).split(",")) if m else ("query", [])
    location = "query" if where == "query" else "body"
    fields = [FieldError(name, "unknown", "unknown parameter", location=location) for name in names]
    return MockError(400, "validation", detail, fields=fields, violation=True)
