"""Request validators that report every failing field, with rules and received values.

Connexion's own validators stop at the first error and raise it as a string; the APIs' documents
show per-field errors (001: `errors: [{key, message, value}]`, Laravel's `errors: {field: [...]}`
for 003), so these subclasses plug in through `validator_map`. They also turn what connexion would
answer with a 500 into a 400: a non-UTF-8 body (connexion #1860), NaN/Infinity, duplicate keys and
nesting too deep to parse.
"""

from __future__ import annotations

import json
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

__all__ = ["VALIDATOR_MAP", "schema_errors"]

MAX_DEPTH = 64


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
        return json.loads(text, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    except _Reject as exc:
        raise FieldErrors([FieldError("body", "json", str(exc))]) from None
    except (ValueError, RecursionError) as exc:
        raise FieldErrors([FieldError("body", "json", f"malformed JSON: {exc}")]) from None


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
_COMPILED: dict[int, tuple[dict, Draft4Validator]] = {}


def compiled(schema: dict) -> Draft4Validator:
    hit = _COMPILED.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = (
            schema,
            Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER),
        )
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
