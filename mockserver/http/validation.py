"""Request validators that report every failing field, with rules and received values.

Connexion's own validators stop at the first error and raise it as a string; the APIs' documents
show per-field errors (001: `errors: [{key, message, value}]`, Laravel's `errors: {field: [...]}`
for 003), so these subclasses plug in through `validator_map`. They also turn what connexion would
answer with a 500 into a 400: a non-UTF-8 body (connexion #1860), NaN/Infinity, duplicate keys,
nesting too deep to parse, numbers too large to represent (more digits than Python converts, or a
float that overflows to infinity) and lone surrogate escapes (`"\\ud800"` is valid JSON syntax but
no Unicode text: it can't be stored, journaled or reported as UTF-8).

`request_headers` is the one place a request's Content-Type is normalised before connexion sees
it (media types are case-insensitive; connexion matches them case-sensitively and decodes them as
UTF-8), for the native APIs (mockserver.http.gate) and the control API (mockserver.http.apps).
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import (
    FormDataValidator,
    JSONRequestBodyValidator,
    MultiPartFormDataValidator,
    ParameterValidator,
)
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError

from mockserver.core.errors import FieldError, FieldErrors, value_text

__all__ = ["VALIDATOR_MAP", "media_type", "parse_json_strict", "request_headers", "schema_errors"]

MAX_DEPTH = 64
# Python refuses to convert longer integer literals (sys.get_int_max_str_digits, CVE-2020-10735).
MAX_INT_DIGITS = 4300
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Reject(ValueError):
    pass


def _no_constants(name: str) -> Any:
    raise _Reject(f"{name} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _Reject(f"duplicate key {key!r}")
        out[key] = value
    return out


def _int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise _Reject(f"number too large to represent ({len(text)} digits)")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Reject(f"number too large to represent ({text[:20]})")
    return value


def _has_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds a lone surrogate in any string, key or value (an escaped
    pair such as "\\ud83d\\ude00" is one character by then, so it passes)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _depth(text: str) -> int:
    depth = deepest = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


# One decoder for every body (json.loads with hooks builds one, and its scanner, per call).
_DECODER = json.JSONDecoder(
    parse_constant=_no_constants,
    object_pairs_hook=_no_duplicates,
    parse_int=_int,
    parse_float=_float,
)


def parse_json_strict(raw: bytes) -> Any:
    """Parse a request body the way a careful server would, raising FieldErrors on anything
    that is not one well-formed JSON document."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FieldErrors([FieldError("body", "encoding", "body is not valid UTF-8")]) from None
    if not text.strip():
        return None
    if (
        ("[" in text or "{" in text)
        and text.count("[") + text.count("{") > MAX_DEPTH
        and _depth(text) > MAX_DEPTH
    ):
        raise FieldErrors([FieldError("body", "json", f"JSON nested deeper than {MAX_DEPTH}")])
    try:
        if text.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _DECODER.decode(text)
    except _Reject as exc:
        raise FieldErrors([FieldError("body", "json", str(exc))]) from None
    except (ValueError, RecursionError) as exc:
        raise FieldErrors([FieldError("body", "json", f"malformed JSON: {exc}")]) from None
    if _SURROGATE_ESCAPE.search(text) and _has_surrogate(value):
        message = "a lone surrogate escape (\\ud800-\\udfff) in a JSON string is not Unicode text"
        raise FieldErrors([FieldError("body", "encoding", message)])
    return value


def _path_key(path) -> str:
    return ".".join(str(p) for p in path)


def _rule(err: ValidationError) -> str:
    return {"type": "type", "required": "required", "additionalProperties": "unknown"}.get(
        err.validator, str(err.validator)
    )


def schema_errors(validator: Draft4Validator, body: Any) -> list[FieldError]:
    """Every schema violation in `body`, one FieldError per failing field."""
    fields: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for err in sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path]):
        prefix = _path_key(err.absolute_path)
        if err.validator == "required":
            parent = err.instance if isinstance(err.instance, dict) else {}
            for name in err.validator_value:
                if name in parent:
                    continue
                key = f"{prefix}.{name}" if prefix else name
                if (key, "required") not in seen:
                    seen.add((key, "required"))
                    fields.append(FieldError(key, "required", "required"))
            continue
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for name in err.instance:
                if name not in allowed:
                    key = f"{prefix}.{name}" if prefix else name
                    fields.append(
                        FieldError(key, "unknown", "unknown field", value_text(err.instance[name]))
                    )
            continue
        key = prefix or "body"
        if (key, _rule(err)) in seen:
            continue
        seen.add((key, _rule(err)))
        fields.append(FieldError(key, _rule(err), err.message, value_text(err.instance)))
    return fields


# Compiled validators keyed by the identity of the (long-lived) schema object in the loaded spec,
# so a request pays for validation, not for building a validator.
# Bounded: each app built (tests build many) brings its own schema objects; the oldest go first.
_COMPILED: dict[int, tuple[dict, Draft4Validator]] = {}
_COMPILED_MAX = 256


def compiled(schema: dict) -> Draft4Validator:
    hit = _COMPILED.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = (
            schema,
            Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER),
        )
        while len(_COMPILED) >= _COMPILED_MAX:
            del _COMPILED[next(iter(_COMPILED))]
        _COMPILED[id(schema)] = hit
    return hit[1]


class StructuredJSONBodyValidator(JSONRequestBodyValidator):
    async def _parse(self, stream, scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        return parse_json_strict(raw)

    def _validate(self, body: Any) -> dict | None:
        if not self._nullable and body is None:
            raise FieldErrors([FieldError("body", "required", "required")])
        fields = schema_errors(compiled(self._schema), body)
        if fields:
            raise FieldErrors(fields)
        return None


class StructuredParameterValidator(ParameterValidator):
    def validate_request(self, request) -> None:
        if self.strict_validation:
            extra = self.validate_query_parameter_list(
                request, security_params=self.security_query_params
            )
            if extra:
                raise FieldErrors(
                    [FieldError(n, "unknown", "unknown parameter", location="query") for n in extra]
                )
        fields: list[FieldError] = []
        for loc in ("path", "query", "header", "cookie"):
            for param in self.parameters.get(loc, []):
                err = getattr(self, f"validate_{loc}_parameter")(param, request)
                if not err:
                    continue
                name = param["name"]
                if err.startswith("Missing "):
                    fields.append(FieldError(name, "required", "required", location=loc))
                else:
                    raw = _raw_param(request, loc, name)
                    fields.append(FieldError(name, "invalid", err.splitlines()[0], raw, loc))
        if fields:
            raise FieldErrors(fields)


def _raw_param(request, loc: str, name: str) -> str:
    if loc == "header":
        return request.headers.get(name, "")
    if loc == "query":
        return request.query_params.get(name, "")
    if loc == "path":
        return str(request.path_params.get(name, ""))
    return ""


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


@functools.lru_cache(maxsize=256)  # clients send the same few values; bounded all the same
def media_type(value: bytes) -> bytes | None:
    """A Content-Type value as connexion must see it, or None for an empty one (as if absent).

    Type, subtype and parameter names are case-insensitive (RFC 9110 8.3.1), and connexion
    compares them case-sensitively, so they are lower-cased. JSON has no charset parameter
    (RFC 8259 11; the mock reads JSON as UTF-8), so it is dropped rather than handed to a
    decoder. Bytes outside printable ASCII are percent-encoded (connexion decodes the header as
    UTF-8 and would fail), and a media type without exactly one `/` is made to have one (it
    splits on it): what was sent stays recognisable in an error message and is never JSON.
    """
    text = "".join(ch if " " <= ch <= "~" else f"%{ord(ch):02X}" for ch in value.decode("latin-1"))
    mime, _, params = text.partition(";")
    mime = mime.strip().lower()
    if not mime:
        return None
    head, _, tail = mime.partition("/")
    mime = f"{head}/{tail.replace('/', '%2F')}"
    parts = [mime]
    for param in params.split(";"):
        name, eq, val = param.strip().partition("=")
        name = name.strip().lower()
        if name and not (name == "charset" and _is_json(mime)):
            parts.append(f"{name}={val.strip()}" if eq else name)
    return "; ".join(parts).encode()


def request_headers(
    headers: list[tuple[bytes, bytes]], *, json_default: bool = False
) -> list[tuple[bytes, bytes]]:
    """`headers` with Content-Type normalised (`media_type`); when there is none and
    `json_default`, `application/json` (a body sent without Content-Type is read as JSON)."""
    out: list[tuple[bytes, bytes]] = []
    typed = False
    for key, value in headers:
        if key == b"content-type":
            normalised = media_type(value)
            if normalised is None:
                continue
            typed = True
            out.append((key, normalised))
        else:
            out.append((key, value))
    if json_default and not typed:
        out.append((b"content-type", b"application/json"))
    return out


VALIDATOR_MAP = {
    "parameter": StructuredParameterValidator,
    "body": MediaTypeDict(
        {
            "*/*json": StructuredJSONBodyValidator,
            "application/x-www-form-urlencoded": FormDataValidator,
            "multipart/form-data": MultiPartFormDataValidator,
        }
    ),
}
