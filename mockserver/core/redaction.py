"""Secrets stay out of the journal, the report and the logs (DESIGN.md, "Secrets stay out of logs").

A `Redactor` masks every value that may carry a credential, keeping a short prefix so a person
can tell keys apart. What counts as secret is the generic HTTP set below plus what each enabled
API declares (`MockApi.secret_headers`, `secret_fields`, `secret_params`): core names no API's
header or field.

Masking by name alone misses a credential that shows up somewhere else: in a validation message
(`'sk_live_…' does not match …`), in a body that is not JSON (malformed, form-encoded, over the
journal's cap), inside an array, in a log line. So each request's secret values are collected
once, when its journal entry is begun (`Redactor.begin`: from its secret headers, its secret
query parameters and, as the body is read, its secret fields at any depth or found by name in
text), and every occurrence of each is masked in every string of the entry (`scrub`) and of any
log record written while the request is served (a log-record factory, `install_log_scrubber`).
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import json
import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus

__all__ = [
    "KEEP",
    "Redactor",
    "Secrets",
    "current_secrets",
    "install_log_scrubber",
    "mask",
    "mask_credential",
    "nested_deeper",
]

KEEP = 6  # characters of a secret that stay readable
# Shorter secrets are masked where they are known to be (their header, field or parameter) but
# not searched for in free text, where three characters would match ordinary words.
SCAN_MIN = KEEP + 1
# A request carries one or two credentials; a body stuffed with thousands of `token` fields must
# not make every string of its entry cost thousands of searches. Past this many, values are
# still masked where they are found by name, but no longer searched for elsewhere.
MAX_SECRETS = 32

# Credentials any HTTP API may carry, and the mock's own control token.
GENERIC_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-mock-token"}
)
GENERIC_FIELDS = frozenset({"password", "secret", "api_key", "apikey", "access_token"})

_CONTAINERS = (dict, list)
# `"name": "value"` or `"name": ["value"` in JSON text, each inside as written; a name of
# word characters and `\uXXXX` escapes only (a field's name), so a scan never runs past a quote
# and costs linear time on any text (a general string pattern is quadratic on `"\"\"...`).
_JSON_PAIR = re.compile(r'"((?:\w|\\u[0-9a-fA-F]{4})+)"\s*:\s*\[?\s*"((?:[^"\\]|\\.)*)"', re.ASCII)
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # what JSON text writes differently

_REQUEST: contextvars.ContextVar[Secrets | None] = contextvars.ContextVar(
    "mockserver_request_secrets", default=None
)


def mask(value: str) -> str:
    """`abcdefghij` -> `abcdef***`; a value no longer than the prefix is hidden whole."""
    if len(value) <= KEEP:
        return "***"
    return value[:KEEP] + "***"


def mask_credential(value: str) -> str:
    """A header value: `Bearer <key>` / `Basic <b64>` keep their scheme, the rest is masked."""
    scheme, sep, rest = value.partition(" ")
    if sep and scheme.lower() in ("bearer", "basic"):
        return f"{scheme} {mask(rest)}"
    return mask(value)


class Secrets:
    """The secret values one request carried; `scrub` masks each wherever it appears."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self._ordered: list[str] | None = None

    def add(self, value: Any) -> None:
        text = value if isinstance(value, str) else str(value)
        if len(text) >= SCAN_MIN and text not in self.values and len(self.values) < MAX_SECRETS:
            self.values.add(text)
            self._ordered = None

    def __bool__(self) -> bool:
        return bool(self.values)

    def scrub(self, text: str) -> str:
        """`text` with every known secret masked, longest first (a Basic credential before the
        password inside it), and a secret cut short at the very end (a capped body, a truncated
        value) masked too."""
        if not self.values or not text:
            return text
        if self._ordered is None:
            self._ordered = sorted(self.values, key=len, reverse=True)
        for value in self._ordered:
            if value in text:
                text = text.replace(value, mask(value))
        tail = text[-SCAN_MIN:]
        for value in self._ordered:
            if tail in value:  # cheap test first: only then look for a cut-off prefix
                for size in range(min(len(value), len(text)) - 1, KEEP, -1):
                    if text.endswith(value[:size]):
                        return text[:-size] + mask(value[:size])
        return text

    def may_show_in(self, json_text: str) -> bool:
        """False only when no secret, whole or cut short, can be in the value `json_text`
        encodes (ensure_ascii=False): a cheap test before `scrub_all` walks it. `scrub` changes
        a string that holds a secret whole or ends with more than KEEP of its first characters;
        in JSON text such an end is followed by the closing quote. A secret that JSON writes
        differently is assumed to show. Another value that only shares a secret's first
        characters (Lucit's `LCUID-L…` ids and app ids) does not count."""
        for value in self.values:
            if _JSON_ESCAPED.search(value):
                return True
            head = value[:SCAN_MIN]
            at = json_text.find(head)
            while at != -1:
                end = at + SCAN_MIN
                while end - at < len(value) and json_text[end : end + 1] == value[end - at]:
                    end += 1
                if end - at == len(value) or json_text[end : end + 1] == '"':
                    return True
                at = json_text.find(head, at + 1)
        return False

    def scrub_all(self, value: Any, *, keys: bool = False) -> Any:
        """Every string in a JSON-like value scrubbed; dict keys too with `keys` (what a client
        sent: a body, its header names), never in a record's own shape, whose keys are the
        names the mock reads it by (a credential `Bearer operations…` must not rename them)."""
        if not self.values:
            return value
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            if keys:
                return {
                    self.scrub(k) if isinstance(k, str) else k: self.scrub_all(v, keys=True)
                    for k, v in value.items()
                }
            return {k: self.scrub_all(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub_all(v, keys=keys) for v in value]
        return value


def current_secrets() -> Secrets:
    """The secrets of the request being served in this task (empty outside one)."""
    secrets = _REQUEST.get()
    return Secrets() if secrets is None else secrets


class Redactor:
    """What is secret for one app: header names, body field names and query parameter names
    (all case-insensitive)."""

    def __init__(
        self,
        headers: Iterable[str] = (),
        fields: Iterable[str] = (),
        params: Iterable[str] = (),
    ) -> None:
        self.headers = GENERIC_HEADERS | {h.lower() for h in headers}
        self.fields = GENERIC_FIELDS | {f.lower() for f in fields}
        self.params = self.fields | {p.lower() for p in params}
        names = "|".join(re.escape(n) for n in sorted(self.params, key=len, reverse=True))
        # `token": "v`, `token=v`, `token: ["v"`, in any case, in text that is not JSON.
        self._in_text = re.compile(
            rf"(?i)(?<![A-Za-z0-9_])(?:{names})[\"']?\s*[:=]\s*[\[\s\"']*([^\s\"'&,;{{}}\[\]]+)"
        )

    # --- by name ----------------------------------------------------------------------------
    def header(self, name: str, value: str) -> str:
        return mask_credential(value) if name.lower() in self.headers else value

    def body(self, body: Any, secrets: Secrets | None = None) -> Any:
        """A parsed body with every value under a secret field masked, at any depth and of any
        shape (a token sent as an array or an object is masked inside); the values masked are
        added to `secrets`, to be masked wherever else they show."""
        if isinstance(body, dict):
            out = {}
            fields = self.fields
            for k, v in body.items():
                if isinstance(k, str) and k.lower() in fields:
                    if secrets is not None:
                        for leaf in _leaves(v):
                            secrets.add(leaf)
                    out[k] = _mask_all(v)
                elif isinstance(v, _CONTAINERS):
                    out[k] = self.body(v, secrets)
                else:  # a scalar under an ordinary name: as it is (no call per leaf)
                    out[k] = v
            return out
        if isinstance(body, list):
            return [self.body(v, secrets) if isinstance(v, _CONTAINERS) else v for v in body]
        return body

    def query(self, query: str) -> str:
        """A raw query string with the values of secret parameters masked."""
        if not query:
            return query
        parts = []
        for part in query.split("&"):
            name, sep, value = part.partition("=")
            if sep and unquote_plus(name).lower() in self.params:
                part = f"{name}={mask(value)}"
            parts.append(part)
        return "&".join(parts)

    def text(self, text: str, secrets: Secrets) -> str:
        """A body that is not JSON: values of secret fields found by name (form-encoded,
        `name: value`, broken JSON) masked in one pass and remembered, then every known
        secret masked."""

        def hide(m: re.Match) -> str:
            value = m.group(1)
            secrets.add(value)
            secrets.add(unquote_plus(value))
            return m.group(0)[: m.start(1) - m.start(0)] + mask(value)

        text = self._in_text.sub(hide, text)
        if "\\" in text:  # JSON whose names are written with escapes: `"tok\u0065n": "v"`
            self._escaped_names(text, secrets)
        if "=" in text:  # a form field whose name is percent-encoded: its value as sent too
            for part in text.split("&"):
                name, sep, value = part.partition("=")
                if sep and unquote_plus(name).lower() in self.fields:
                    secrets.add(value)
                    secrets.add(unquote_plus(value))
        return secrets.scrub(text)

    def _escaped_names(self, text: str, secrets: Secrets) -> None:
        """The values (as sent, and decoded) of secret fields whose JSON name holds an escape,
        in JSON text kept as text (refused by the strict parser, or over the journal's cap)."""
        for m in _JSON_PAIR.finditer(text):
            if "\\" not in m.group(1):
                continue  # a plain name: the pattern of `_in_text` has seen it
            name = _json_string(m.group(1))
            if name is not None and name.lower() in self.fields:
                secrets.add(m.group(2))
                value = _json_string(m.group(2))
                if value is not None:
                    secrets.add(value)

    # --- collecting one request's secrets ---------------------------------------------------
    def begin(self, headers: list[tuple[bytes, bytes]], query: str) -> Secrets:
        """Start a request: collect the secrets of its headers and query string, and make them
        the current request's (for its journal entry and for log lines written meanwhile)."""
        secrets = Secrets()
        for raw_name, raw_value in headers:
            if raw_name.decode("latin-1").lower() in self.headers:
                _credential_parts(raw_value.decode("latin-1"), secrets)  # as headers show
                if not raw_value.isascii():  # and as the same bytes read in a UTF-8 body
                    _credential_parts(raw_value.decode("utf-8", errors="replace"), secrets)
        if query:
            for part in query.split("&"):
                name, sep, value = part.partition("=")
                if sep and unquote_plus(name).lower() in self.params:
                    secrets.add(value)
                    secrets.add(unquote_plus(value))
        _REQUEST.set(secrets)
        return secrets


def _json_string(inner: str) -> str | None:
    """The text a JSON string literal's inside (`tok\\u0065n`) stands for, None if invalid."""
    try:
        return json.loads(f'"{inner}"')
    except ValueError:
        return None


def _credential_parts(value: str, secrets: Secrets) -> None:
    """A credential header's secret: the part after a Bearer or Basic scheme (so the scheme
    and the prefix stay readable wherever it shows) or the whole value; for Basic, also what it
    encodes (user:password and the password)."""
    scheme, sep, rest = value.strip().partition(" ")
    if not (sep and scheme.lower() in ("bearer", "basic")):
        secrets.add(value)
        return
    rest = rest.strip()
    secrets.add(rest)
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(rest, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return
        secrets.add(decoded)
        secrets.add(decoded.partition(":")[2])


def nested_deeper(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests deeper than `limit` (without recursion, so a body
    nested thousands deep can be told apart before anything walks it)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


def _mask_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_all(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    return mask(str(value))


# --- logs -----------------------------------------------------------------------------------
_previous_factory = None


def install_log_scrubber() -> None:
    """Mask the current request's secrets in every log record created while it is served, from
    any logger (the mock's, connexion's, uvicorn's access log when someone turns it on). A
    record factory, not a handler filter: filters see only the handlers they are added to,
    and the handlers belong to whoever configured logging. Outside a request it changes
    nothing. Installed once per process."""
    global _previous_factory
    if _previous_factory is not None:
        return
    _previous_factory = logging.getLogRecordFactory()
    previous = _previous_factory

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        secrets = _REQUEST.get()
        if secrets:
            _scrub_record(record, secrets)
        return record

    logging.setLogRecordFactory(factory)


def _scrub_record(record: logging.LogRecord, secrets: Secrets) -> None:
    if isinstance(record.msg, str):
        record.msg = secrets.scrub(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_scrub_arg(a, secrets) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _scrub_arg(v, secrets) for k, v in record.args.items()}
    if record.exc_info:
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = secrets.scrub(text)
        record.exc_info = None  # handlers would format the traceback again, in clear
    if record.stack_info:
        record.stack_info = secrets.scrub(record.stack_info)


def _scrub_arg(arg: Any, secrets: Secrets) -> Any:
    if arg is None or isinstance(arg, (bool, int, float)):
        return arg
    text = arg if isinstance(arg, str) else str(arg)
    scrubbed = secrets.scrub(text)
    return arg if scrubbed == text else scrubbed
