"""The pure checks the compiled path runs before a handler: each proves a request valid exactly as
connexion 3.3 would judge it, or says "not proven" (None / False) and connexion decides.

Every check here was held against connexion's own code (mockserver/http/compiled.py says where
each piece comes from) and against connexion itself by tests/e2e/test_engines_differential.py.
A check never raises for bad input and never changes state: falling back is always safe.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import re
from collections.abc import Awaitable, Callable
from typing import Any

import jsonschema_rs
from connexion.lifecycle import ConnexionRequest
from connexion.security import (
    NO_VALUE,
    ApiKeySecurityHandler,
    BasicSecurityHandler,
    BearerSecurityHandler,
)
from connexion.utils import inspect_function_arguments
from jsonschema import Draft4Validator

from mockserver.http.validation import parse_json_strict
from mockserver.journal import NOT_JSON

__all__ = [
    "UNPARSED",
    "NotCompiled",
    "compile_route",
    "compile_security",
    "first_header",
    "json_body",
    "proven_valid",
    "schema_validator",
]

UNPARSED = object()  # no parse of the body given: the compiled path parses it itself


class NotCompiled(Exception):
    """The operation uses something the compiler does not prove equivalent: connexion keeps it."""


# --- schemas ---------------------------------------------------------------------------------
# Draft 4 keywords whose jsonschema-rs behaviour matches jsonschema's (the research differential
# and validator fuzzing: 0 disagreements). `pattern` and `format` are routed back to Python, since
# Rust's regex and format checkers differ (`\S` accepts "\x1c"; a leap second passes).
_ASSERTIONS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "enum",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "minProperties",
        "maxProperties",
        "format",
    }
)
_ANNOTATIONS = frozenset(
    {
        "description",
        "example",
        "examples",
        "title",
        "default",
        "deprecated",
        "readOnly",
        "externalDocs",
        "xml",
        "discriminator",
    }
)
_NULLABLE = ("nullable", "x-nullable")


class _PyPattern:
    """`pattern` with Python's `re.search`, as jsonschema checks it."""

    def __init__(self, parent_schema, value, schema_path) -> None:
        self.rx = re.compile(value)

    def validate(self, instance) -> None:
        if isinstance(instance, str) and not self.rx.search(instance):
            raise ValueError(f"{instance!r} does not match {self.rx.pattern!r}")


def _py_format(name: str) -> Callable[[Any], bool]:
    checker = Draft4Validator.FORMAT_CHECKER
    return lambda value: checker.conforms(value, name)


_FORMATS = {name: _py_format(name) for name in Draft4Validator.FORMAT_CHECKER.checkers}


def _translate_value(key: str, value: Any, request: bool) -> Any:
    if key == "properties":
        return {k: _translate(v, request) for k, v in value.items()}
    if key in ("allOf", "anyOf", "oneOf"):
        return [_translate(v, request) for v in value]
    if key in ("items", "additionalProperties", "not") and isinstance(value, dict):
        return _translate(value, request)
    if key == "items":
        raise NotCompiled("tuple items")
    return copy.deepcopy(value)


def _translate(schema: Any, request: bool, top: bool = False) -> dict:
    if not isinstance(schema, dict):
        raise NotCompiled(f"schema {schema!r}")
    out: dict = {}
    for key, value in schema.items():
        if (top and key == "components") or key in _ANNOTATIONS or key in _NULLABLE:
            # with_definitions() attaches the (already resolved) components to the top schema.
            continue
        if key in ("writeOnly", "x-writeOnly"):
            if request:
                continue
            raise NotCompiled("writeOnly in a response schema")
        if key.startswith("x-"):
            continue
        if key not in _ASSERTIONS:
            raise NotCompiled(f"keyword {key!r}")
        if key == "pattern":
            out["x-py-pattern"] = value
        else:
            out[key] = _translate_value(key, value, request)
    if schema.get("nullable") or schema.get("x-nullable") is True:
        # connexion.json_schema.allow_nullable: None passes `type` and `enum` of this schema only.
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def schema_validator(schema: dict, *, request: bool) -> Any:
    """A jsonschema-rs validator that accepts exactly what connexion's Draft4RequestValidator
    (request=True) or Draft4ResponseValidator accepts for this resolved schema, or NotCompiled."""
    return jsonschema_rs.Draft4Validator(
        _translate(schema, request, top=True),
        formats=_FORMATS,
        ignore_unknown_formats=True,
        keywords={"x-py-pattern": _PyPattern},
    )


def proven_valid(validator: Any, instance: Any) -> bool:
    try:
        return validator.is_valid(instance)
    except Exception:  # e.g. a lone surrogate cannot cross into Rust, inf: not proven
        return False


# --- headers and routes ------------------------------------------------------------------------
def first_header(headers: list[tuple[bytes, bytes]], name: bytes) -> tuple[str | None, int]:
    """Starlette's `Headers.get` (the first value, latin-1) and how many values there were."""
    value, count = None, 0
    for k, v in headers:
        if k == name:
            count += 1
            if value is None:
                value = v.decode("latin-1")
    return value, count


# connexion.frameworks.starlette's converters: what its router matches, then how it converts.
_CONVERTERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "integer": (r"[+-]?[0-9]+", int),
    "string": (r"[^/]+", str),
}


def json_body(headers: list, raw: bytes, parsed: Any = UNPARSED) -> Any:
    """The body parsed as the mock's body validator parses it, when its Content-Type makes
    connexion validate it as JSON and hand the handler JSON; else None (not proven). The gate
    has already given a body without Content-Type the JSON type where its API assumes JSON.
    `parsed`: the gate's parse of the same bytes (NOT_JSON: empty, blank or rejected)."""
    if not raw:
        return None
    content_type, count = first_header(headers, b"content-type")
    if content_type is None or count != 1:
        return None
    mime, _, params = content_type.partition(";")
    # Case-sensitive on purpose: connexion matches its body validator case-sensitively.
    if mime != "application/json" or params.strip().lower() not in ("", "charset=utf-8"):
        return None
    if parsed is not UNPARSED:
        return None if parsed is NOT_JSON else parsed
    try:
        return parse_json_strict(raw)
    except Exception:
        return None


def compile_route(template: str, types: dict[str, str]) -> tuple[re.Pattern | None, dict]:
    """(None for a static template, or the regex connexion's router matches; {name: convert})."""
    converts: dict[str, Callable[[str], Any]] = {}
    out, pos = "", 0
    for m in re.finditer(r"\{([^}]*)\}", template):
        name = m.group(1)
        kind = types.get(name) or "string"
        if kind not in _CONVERTERS or not name.isidentifier():
            raise NotCompiled(f"path parameter {name!r} of type {kind}")
        rx, convert = _CONVERTERS[kind]
        out += re.escape(template[pos : m.start()]) + f"(?P<{name}>{rx})"
        converts[name] = convert
        pos = m.end()
    if not converts:
        return None, {}
    # Used with fullmatch: unlike the router's `$`, a path with a final newline is not proven.
    return re.compile(out + re.escape(template[pos:])), converts


# --- security ----------------------------------------------------------------------------------
_BASES = {
    "bearer": BearerSecurityHandler,
    "basic": BasicSecurityHandler,
    "apiKey": ApiKeySecurityHandler,
}
SecurityCheck = Callable[[dict], Awaitable[dict | None]]


def _scheme_kind(scheme: dict) -> str:
    kind = scheme.get("type")
    if kind == "http" and str(scheme.get("scheme", "")).lower() in ("bearer", "basic"):
        return str(scheme["scheme"]).lower()
    if kind == "apiKey" and scheme.get("in") == "header":
        if scheme.get("x-authentication-scheme"):
            raise NotCompiled("apiKey with x-authentication-scheme")
        return "apiKey"
    raise NotCompiled(f"security scheme {kind!r}")


def _credentials(kind: str, headers, key_name: bytes) -> tuple | None:
    """The arguments connexion's handler of this kind passes to the API's function, or None
    where connexion answers by itself (no, duplicated or malformed credentials)."""
    if kind == "apiKey":
        value, count = first_header(headers, key_name)
        return None if value is None or count != 1 else (value,)
    auth, count = first_header(headers, b"authorization")
    if not auth or count != 1:
        return None
    parts = auth.split(maxsplit=1)
    if len(parts) != 2 or parts[0].lower() != kind:
        return None
    if kind == "bearer":
        return (parts[1],)
    try:  # exactly connexion's (non-validating) decoding
        username, password = base64.b64decode(parts[1]).decode("latin1").split(":", 1)
    except Exception:
        return None
    return (username, password)


def compile_security(op: Any, factory: Any) -> SecurityCheck | None:
    """The operation's one security requirement as an async check of a scope: the token info
    (a dict) when the API's own function accepts the credentials, None when connexion must
    decide (missing or malformed credentials, a refusal, an exception such as a 403).
    None (no check) when the operation has no security."""
    if not op.security:
        return None
    if len(op.security) != 1 or len(op.security[0]) != 1:
        raise NotCompiled("several security requirements or schemes")
    ((scheme_name, scopes),) = op.security[0].items()
    scheme = op.security_schemes[scheme_name]
    kind = _scheme_kind(scheme)
    handler_cls, base = factory.security_handlers.get(kind), _BASES[kind]
    if handler_cls is None or not issubclass(handler_cls, base):
        raise NotCompiled(f"custom {kind} security handler")
    if handler_cls._get_verify_func is not base._get_verify_func or (
        kind == "apiKey" and handler_cls.get_fn is not base.get_fn
    ):
        raise NotCompiled(f"custom {kind} verification")
    func = handler_cls()._resolve_func(scheme)
    if func is None:
        raise NotCompiled("no security function")
    names, has_kwargs = inspect_function_arguments(func)
    wants_request = has_kwargs or "request" in names
    wants_scopes = has_kwargs or "required_scopes" in names
    key_name = str(scheme.get("name", "")).lower().encode("latin-1")
    required_scopes = scopes if kind == "apiKey" else None  # what each connexion handler passes

    async def check(scope: dict) -> dict | None:
        args = _credentials(kind, scope["headers"], key_name)
        if args is None:
            return None
        kwargs: dict[str, Any] = {}
        if wants_scopes:
            kwargs["required_scopes"] = required_scopes
        if wants_request:
            kwargs["request"] = ConnexionRequest(scope)
        try:
            info = func(*args, **kwargs)
            while asyncio.iscoroutine(info):
                info = await info
        except Exception:
            return None  # connexion picks the most specific error of all requirements
        if info is None or info is NO_VALUE or not isinstance(info, dict):
            return None
        return info

    return check
