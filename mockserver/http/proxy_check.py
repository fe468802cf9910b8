"""An upstream's answer checked against the hand-written spec (issue 19, the validating proxy).

What counts as drift: a status the operation does not list, a media type it does not declare, a
body that does not parse or does not match the schema of that status, a declared response header
missing or not matching its schema. Each is one violation with `location: "response"`, in the
same shape as a request violation, so the journal, the matcher and the report read both alike.
The schemas are checked by connexion's own response validator (nullable, readOnly), as the mock's
`--validate-responses` does.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from connexion.json_schema import Draft4ResponseValidator, resolve_refs
from jsonschema import Draft4Validator

from mockserver.spec.loader import HTTP_METHODS, load_spec

__all__ = ["MAX_VIOLATIONS", "ResponseSpec", "decoded_body"]

MAX_VIOLATIONS = 20  # per answer: a body wrong everywhere is not a journal's worth of lines
_VALUE_CHARS = 80


def _violation(key: str, rule: str, message: str, value: Any = "") -> dict:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) > _VALUE_CHARS:
        text = text[:_VALUE_CHARS] + "..."
    return {"key": key, "rule": rule, "message": message, "value": text, "location": "response"}


def decoded_body(body: bytes, encoding: str) -> bytes | None:
    """The body as the client reads it after its Content-Encoding, or None (not checkable)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return None
    return None


def _media_match(mime: str, declared: dict) -> str | None:
    if mime in declared:
        return mime
    kind = mime.split("/", 1)[0]
    for pattern in (f"{kind}/*", "*/*"):
        if pattern in declared:
            return pattern
    return None


def _is_json(mime: str) -> bool:
    return mime == "application/json" or (mime.startswith("application/") and "+json" in mime)


class ResponseSpec:
    """The responses of every operation of one spec, resolved once (`$ref`s followed)."""

    def __init__(self, spec_file: str) -> None:
        spec = resolve_refs(load_spec(spec_file))
        self.responses: dict[str, dict] = {}
        for item in (spec.get("paths") or {}).values():
            for method, op in item.items():
                if method in HTTP_METHODS and isinstance(op, dict) and "operationId" in op:
                    self.responses[op["operationId"]] = op.get("responses") or {}

    def documented(self, operation: str, status: int) -> dict | None:
        responses = self.responses.get(operation, {})
        for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
            if key in responses:
                return responses[key]
        return None

    def violations(
        self, operation: str | None, method: str, status: int, headers: dict[str, str], body: bytes
    ) -> list[dict]:
        """What in this answer the spec of `operation` does not allow (`headers`: lower-case
        names, the first value of each). An unknown operation (no route in the spec) has no
        answer to hold it to."""
        if operation is None or operation not in self.responses:
            return []
        response = self.documented(operation, status)
        if response is None:
            listed = ", ".join(sorted(self.responses[operation])) or "none"
            return [
                _violation(
                    "status",
                    "status",
                    f"status {status} is not in the spec of {operation} (documented: {listed})",
                    str(status),
                )
            ]
        out = self._header_violations(response.get("headers") or {}, headers)
        if method != "HEAD" and status not in (204, 304):
            out += self._body_violations(response.get("content") or {}, headers, body)
        return out[:MAX_VIOLATIONS]

    def _header_violations(self, declared: dict, headers: dict[str, str]) -> list[dict]:
        out = []
        for name, spec in declared.items():
            if name.lower() == "content-type":  # OpenAPI 3.0: described by `content`
                continue
            value = headers.get(name.lower())
            if value is None:
                if spec.get("required"):
                    out.append(_violation(name, "header_missing", f"header {name} is missing"))
                continue
            schema = spec.get("schema") or {}
            typed: Any = value
            if schema.get("type") in ("integer", "number"):
                try:
                    typed = int(value) if schema["type"] == "integer" else float(value)
                except ValueError:
                    pass  # stays text: the type check below says what was wrong
            for error in Draft4ResponseValidator(schema).iter_errors(typed):
                out.append(_violation(name, "header", f"header {name}: {error.message}", value))
        return out

    def _body_violations(self, declared: dict, headers: dict[str, str], body: bytes) -> list[dict]:
        if not declared:
            if body:
                return [_violation("body", "body", "the spec declares no body for this status")]
            return []
        mime = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        matched = _media_match(mime, declared)
        if matched is None:
            return [
                _violation(
                    "content-type",
                    "media_type",
                    f"media type {mime or '(none)'} is not declared "
                    f"(declared: {', '.join(sorted(declared))})",
                    mime,
                )
            ]
        schema = (declared[matched] or {}).get("schema")
        if not schema or not _is_json(mime):
            return []
        text = decoded_body(body, headers.get("content-encoding", ""))
        if text is None:
            return []  # an encoding this check cannot read: not judged
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return [
                _violation(
                    "body",
                    "json",
                    "the body is not valid JSON",
                    text[:80].decode("utf-8", errors="replace"),
                )
            ]
        validator = Draft4ResponseValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
        out = []
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            key = ".".join(str(p) for p in error.absolute_path) or "body"
            out.append(_violation(key, str(error.validator), error.message, error.instance))
            if len(out) >= MAX_VIOLATIONS:
                break
        return out
