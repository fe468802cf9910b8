"""One request matcher over the journal: what `count`, `verify` and the journal filters share.

A matcher is a JSON object of criteria, every one optional, all of which a journaled request must
meet (WireMock's request pattern, MockServer's request matcher):

    api, operation, method, path      equal (method in any case)
    path_pattern                      a regular expression the whole path must match
    status, valid, fault              equal (`fault`: whether a fault rule applied)
    body                              a JSON subset: every member it names, at any depth, must be
                                      in the request body with that value; a list must have as
                                      many items, each matched the same way
    headers                           {name: value}: each header present with that value (names
                                      in any case)
    since, until                      ISO-8601 mock-clock bounds of the request's time (inclusive)

The journal never holds a credential (mockserver.core.redaction), so a matcher's own secret
header and field values are redacted the same way before they are compared: a credential is
matched by its redacted form and never un-redacted, and a near miss shows only redacted values.

Regular expressions run on Rust's `regex` engine (jsonschema-rs, which schemathesis brings), which
matches in time linear in the path whatever the pattern, so a pattern like `(a+)+$` cannot stall
the mock; lookaround and backreferences are refused, as are patterns over MAX_PATTERN characters.

`differences` says which criteria a request did not meet and what it had instead: what a
failed verification's "near misses" show (mockserver.verification).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from mockserver.core.clock import parse_iso
from mockserver.core.redaction import Redactor

__all__ = [
    "CRITERIA",
    "Difference",
    "Matcher",
    "MatcherError",
    "MAX_BODY_DEPTH",
    "MAX_PATTERN",
    "show",
    "subset_differences",
    "summary",
]

MAX_PATTERN = 200  # characters of a path_pattern
MAX_BODY_DEPTH = 32  # nesting of a body subset (a deeper one is no test's intent, and recursion)
CRITERIA = (
    "api",
    "operation",
    "method",
    "path",
    "path_pattern",
    "status",
    "valid",
    "fault",
    "body",
    "headers",
    "since",
    "until",
)
_MISSING = object()


class MatcherError(ValueError):
    """A matcher that can't be used (the control API's 400): `field` names the criterion."""

    def __init__(self, field: str, message: str, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.value = value


@dataclass(frozen=True)
class Difference:
    """One criterion a request did not meet: `field` (`status`, `body.data.players`,
    `headers.content-type`), what the matcher asked for, and what the request had (absent when
    `actual` is the missing marker)."""

    field: str
    expected: Any
    actual: Any = _MISSING

    def as_dict(self) -> dict:
        out = {"field": self.field, "expected": self.expected}
        if self.actual is _MISSING:
            out["missing"] = True
        else:
            out["actual"] = self.actual
        return out


def show(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _compile_pattern(pattern: Any) -> Any:
    """A linear-time full-path matcher for `pattern`, or MatcherError (the module docstring)."""
    if not isinstance(pattern, str):
        raise MatcherError("path_pattern", "path_pattern must be a string", pattern)
    if len(pattern) > MAX_PATTERN:
        raise MatcherError(
            "path_pattern",
            f"path_pattern is {len(pattern)} characters; at most {MAX_PATTERN} are accepted",
            pattern[:MAX_PATTERN] + "...",
        )
    options = jsonschema_rs.RegexOptions(size_limit=1 << 20, dfa_size_limit=1 << 20)
    try:
        # Alone first: a pattern that compiles alone has balanced groups, so the anchoring
        # wrapper below cannot change what it means (`a)|(b` would).
        for text in (pattern, f"^(?:{pattern})$"):
            schema = {"type": "string", "pattern": text}
            validator = jsonschema_rs.validator_for(schema, pattern_options=options)
    except (jsonschema_rs.ValidationError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "it does not compile"
        raise MatcherError(
            "path_pattern",
            "path_pattern is not a regular expression the mock runs (no lookaround or "
            f"backreferences): {reason}",
            pattern,
        ) from None
    return validator


def _time(name: str, value: Any) -> float:
    if not isinstance(value, str):
        raise MatcherError(name, f"{name} must be an ISO-8601 timestamp", value)
    try:
        ts = parse_iso(value)
    except (ValueError, OverflowError):
        raise MatcherError(name, f"{name} must be an ISO-8601 timestamp", value) from None
    if not math.isfinite(ts):
        raise MatcherError(name, f"{name} must be an ISO-8601 timestamp", value)
    return ts


def _depth(value: Any, limit: int) -> int:
    """How deep `value` nests, counting no further than `limit` + 1."""
    if limit < 0 or not isinstance(value, dict | list):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(v, limit - 1) for v in items), default=0)


def _check_types(criteria: dict) -> None:
    """What the control spec's schema already says, again here so the module stands alone."""
    kinds = {
        "api": str,
        "operation": str,
        "method": str,
        "path": str,
        "valid": bool,
        "fault": bool,
        "headers": dict,
    }
    for name, kind in kinds.items():
        if name in criteria and not isinstance(criteria[name], kind):
            raise MatcherError(name, f"{name} must be a {kind.__name__}", criteria[name])
    status = criteria.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 0 <= status <= 999
    ):
        raise MatcherError("status", "status must be an integer from 0 to 999", status)
    for name, value in (criteria.get("headers") or {}).items():
        if not isinstance(value, str):
            raise MatcherError(f"headers.{name}", "header values must be strings", value)
    if _depth(criteria.get("body"), MAX_BODY_DEPTH) > MAX_BODY_DEPTH:
        raise MatcherError("body", f"body nests deeper than {MAX_BODY_DEPTH} levels")


class Matcher:
    """A checked, compiled matcher (the module docstring). Build with `Matcher(criteria,
    redactor)`; a MatcherError says which criterion can't be used."""

    def __init__(self, criteria: dict[str, Any] | None, redactor: Redactor | None = None) -> None:
        # null means "no such criterion", except for `body`, where it is JSON null (no body)
        criteria = {k: v for k, v in (criteria or {}).items() if v is not None or k == "body"}
        unknown = sorted(set(criteria) - set(CRITERIA))
        if unknown:
            raise MatcherError(
                unknown[0], f"unknown criterion {unknown[0]!r}; known: {', '.join(CRITERIA)}"
            )
        _check_types(criteria)
        redactor = redactor or Redactor()
        self.criteria = dict(criteria)
        if "method" in criteria:
            self.criteria["method"] = criteria["method"].upper()
        if "headers" in criteria:
            self.criteria["headers"] = {
                k.lower(): redactor.header(k, v) for k, v in criteria["headers"].items()
            }
        if "body" in criteria:
            self.criteria["body"] = redactor.body(criteria["body"])
        self._pattern = None
        if "path_pattern" in criteria:
            self._pattern = _compile_pattern(criteria["path_pattern"])
        self._since = _time("since", criteria["since"]) if "since" in criteria else None
        self._until = _time("until", criteria["until"]) if "until" in criteria else None
        if self._since is not None and self._until is not None and self._since > self._until:
            raise MatcherError(
                "until", "until is before since: nothing could match", criteria["until"]
            )

    def differences(self, entry: dict) -> list[Difference]:
        """Every criterion `entry` (a journal entry) does not meet; empty when it matches."""
        c, out = self.criteria, []
        for name in ("api", "operation", "path", "status", "valid"):
            if name in c and entry.get(name) != c[name]:
                out.append(Difference(name, c[name], entry.get(name)))
        if "method" in c and str(entry.get("method", "")).upper() != c["method"]:
            out.append(Difference("method", c["method"], entry.get("method")))
        if self._pattern is not None and not self._pattern.is_valid(entry.get("path", "")):
            out.append(Difference("path_pattern", c["path_pattern"], entry.get("path")))
        if "fault" in c and (entry.get("fault") is not None) is not c["fault"]:
            out.append(Difference("fault", c["fault"], entry.get("fault") is not None))
        out += self._time_differences(entry)
        request = entry.get("request") or {}
        if "headers" in c:
            given = {k.lower(): v for k, v in (request.get("headers") or {}).items()}
            for name, value in c["headers"].items():
                actual = given.get(name, _MISSING)
                if actual != value:
                    out.append(Difference(f"headers.{name}", value, actual))
        if "body" in c:
            out += subset_differences(c["body"], request.get("body"), "body")
        return out

    def _time_differences(self, entry: dict) -> list[Difference]:
        at = entry.get("epoch")
        out = []
        # The journal's `at` shows microseconds; `epoch` may carry a little more.
        if self._since is not None and not (at is not None and at >= self._since - 1e-6):
            out.append(Difference("since", self.criteria["since"], entry.get("at")))
        if self._until is not None and not (at is not None and at <= self._until + 1e-6):
            out.append(Difference("until", self.criteria["until"], entry.get("at")))
        return out

    def matches(self, entry: dict) -> bool:
        return not self.differences(entry)

    def select(self, entries: list[dict]) -> list[dict]:
        return [e for e in entries if self.matches(e)]

    def describe(self) -> str:
        """The matcher in words, for a failure message."""
        if not self.criteria:
            return "any request"
        return ", ".join(f"{k}={show(v, 60)}" for k, v in self.criteria.items())


def subset_differences(expected: Any, actual: Any, where: str) -> list[Difference]:
    """Where `actual` (a request body) fails to contain the JSON subset `expected`."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [Difference(where, expected, actual)]
        out = []
        for key, value in expected.items():
            if key not in actual:
                out.append(Difference(f"{where}.{key}", value))
            else:
                out += subset_differences(value, actual[key], f"{where}.{key}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [Difference(where, expected, actual)]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += subset_differences(e, a, f"{where}[{i}]")
        return out
    return [] if _same(expected, actual) else [Difference(where, expected, actual)]


def _same(a: Any, b: Any) -> bool:
    """JSON equality: `true` is not `1`, `1` is `1.0`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def summary(entry: dict) -> dict:
    """A journal entry in a few fields: enough to find it (`id`) and to read it."""
    keys = ("id", "at", "api", "operation", "method", "path", "status", "valid")
    return {k: entry.get(k) for k in keys}
