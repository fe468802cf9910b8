"""Fault rules: make the next matching requests slow, fail, or lose their connection.

A rule matches an API (and optionally one operation) and applies to the next `times` requests
(all of them when `times` is absent) until removed. Taking a rule is atomic per request in
the store, so with several workers a rule with `times: 1` fires exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from mockserver.chaos import check_chaos, delay_for, fires, in_window, matches, window
from mockserver.core.clock import iso_utc
from mockserver.core.errors import FieldError
from mockserver.core.redaction import Redactor
from mockserver.events import Events, fault_summary
from mockserver.store import Store

__all__ = ["BODILESS", "Faults", "check_rule", "fault_mark"]

# RFC 9110 6.4.1 / 15.3.5-6 / 15.4.5: these answers carry no content, whatever the rule says.
BODILESS = frozenset({204, 205, 304})
# RFC 9110 5.6.2 `token`: what a header name may be.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 5.5 field-value: visible characters, SP, HTAB and obs-text (latin-1 0x80-0xFF).
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
# Headers a rule may not set: message framing and hop-by-hop fields (RFC 9110 7.6.1, 8.6; RFC
# 9112 6.1), which the gate and the HTTP server write themselves. A second Content-Length or
# Transfer-Encoding desynchronises the client's connection; Date and Server would go out twice.
_RESERVED = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "date",
        "server",
    }
)


def check_rule(rule: dict[str, Any], operation_ids: Iterable[str]) -> list[FieldError]:
    """Why a fault rule can't be stored (empty when it can). The schema in specs/control.yaml
    has checked types and ranges; this checks what a schema can't say. A rule that would put
    an invalid HTTP answer on the wire is refused when it is created, not when it fires."""
    problems: list[FieldError] = []
    operation = rule.get("operation")
    known = sorted(operation_ids)
    if operation is not None and operation not in known:
        problems.append(
            FieldError(
                "operation",
                "enum",
                f"not an operation of {rule['api']}; one of: {', '.join(known)}",
                operation,
            )
        )
    if not (rule.get("status") or rule.get("delay_ms") or rule.get("delay") or rule.get("drop")):
        problems.append(
            FieldError("status", "required", "one of status, delay_ms, delay, drop is required")
        )
    if rule.get("status") in BODILESS and rule.get("body") is not None:
        problems.append(
            FieldError("body", "forbidden", f"a {rule['status']} answer has no body", "")
        )
    seen: set[str] = set()
    for name, value in (rule.get("headers") or {}).items():
        problems += _header_problems(name, value, seen)
    return problems + check_chaos(rule)


def shown_rule(fault: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """A rule as the control API shows it: a credential its `match` names (a secret header,
    a secret body field) keeps only its prefix, like the journal shows the request it picks.
    The stored rule keeps the raw value: it is compared with the raw request."""
    match = fault.get("match")
    if not match or not (match.get("headers") or "body" in match):
        return fault
    shown = dict(match)
    if match.get("headers"):
        shown["headers"] = {k: redactor.header(k, v) for k, v in match["headers"].items()}
    if "body" in match:
        shown["body"] = redactor.body(match["body"])
    return {**fault, "match": shown}


def fault_mark(fault: dict[str, Any]) -> dict[str, Any]:
    """What the journal entry records of the fault that applied: which rule, which of its
    matching requests this was (`n`), the delay actually applied, and the scenario step that
    created the rule, if one did."""
    mark = {k: fault.get(k) for k in ("id", "status", "delay_ms", "drop", "n")}
    if fault.get("scenario"):
        mark["scenario"] = fault["scenario"]
    return mark


def _header_problems(name: str, value: str, seen: set[str]) -> list[FieldError]:
    key = f"headers.{name}"
    lower = name.lower()
    if not _TOKEN.fullmatch(name):
        return [FieldError(key, "format", "a header name is a token: no spaces, no separators")]
    if lower in _RESERVED:
        return [FieldError(key, "forbidden", "framing and hop-by-hop headers are the server's")]
    if lower in seen:
        return [FieldError(key, "duplicate", "this header is already set (names ignore case)")]
    seen.add(lower)
    if not _FIELD_VALUE.fullmatch(value):
        return [
            FieldError(
                key,
                "format",
                "a header value is latin-1 text without CR, LF, NUL or other control characters",
            )
        ]
    return []


class Faults:
    def __init__(self, store: Store, apis: list[str]) -> None:
        self._store = store
        self.apis = apis
        # Each rule's life (added, removed, its `times` used up) for the timelines.
        self.events = Events(store, apis)
        # Called with the mock time and the request's reads (what `before_reads` named among
        # them) before its rules are taken (scenario steps); True if it ran anything.
        self.before_take: Callable[..., Awaitable[bool | None]] | None = None
        self.before_reads: Callable[[], list[str]] | None = None

    @staticmethod
    def _ns(api: str) -> str:
        return f"{api}:faults"

    async def add(self, spec: dict[str, Any], now: float) -> dict:
        seq = await self._store.update(
            "_faults", "seq", lambda s: ({"n": (s or {"n": 0})["n"] + 1}, (s or {"n": 0})["n"] + 1)
        )
        fault = {
            "id": f"fault-{seq}",
            "seq": seq,
            "api": spec["api"],
            "operation": spec.get("operation"),
            "status": spec.get("status"),
            "body": spec.get("body"),
            "headers": spec.get("headers") or {},
            "delay_ms": spec.get("delay_ms") or 0,
            "drop": bool(spec.get("drop", False)),
            "times": spec.get("times"),
            "remaining": spec.get("times"),
            "applied": 0,
            "created_at": iso_utc(now),
        }
        fault.update(self._chaos(spec, seq, now))
        await self._store.put(self._ns(fault["api"]), fault["id"], fault)
        await self.events.record("fault.added", now, api=fault["api"], fault=fault_summary(fault))
        return fault

    @staticmethod
    def _chaos(spec: dict[str, Any], seq: int, now: float) -> dict[str, Any]:
        """The rule's window as epoch seconds (and ISO for people), its probability, seed (the
        rule's number when none is given: reproducible, and different per rule), delay shape
        and match; `matched` counts the matching requests inside the window."""
        start, end = window(spec, now)
        return {
            "delay": spec.get("delay"),
            "probability": spec.get("probability"),
            "seed": spec.get("seed", seq),
            "match": spec.get("match"),
            "window": {
                "start": start,
                "end": end,
                "from": None if start is None else iso_utc(start),
                "until": None if end is None else iso_utc(end),
            },
            "matched": 0,
            "scenario": None,  # set by the scenario step that created it (tag)
        }

    async def list(self, api: str | None = None) -> list[dict]:
        out: list[dict] = []
        for name in [api] if api else self.apis:
            out.extend(v for _, v in await self._store.scan(self._ns(name)))
        out.sort(key=lambda f: f["seq"])
        return out

    async def tag(self, api: str, fault_id: str, scenario: dict[str, Any]) -> None:
        """Mark the rule as made by a scenario step, so the journal entries it faults say so."""

        def mark(current: dict | None):
            if current is not None:
                current["scenario"] = scenario
            return current, None

        await self._store.update(self._ns(api), fault_id, mark)

    async def delete(self, fault_id: str, now: float | None = None) -> bool:
        """Remove a rule; with `now`, the timelines see its window end there."""
        for name in self.apis:
            if await self._store.delete(self._ns(name), fault_id):
                if now is not None:
                    await self.events.record("fault.removed", now, api=name, fault={"id": fault_id})
                return True
        return False

    async def clear(self, api: str | None = None, now: float | None = None) -> None:
        for name in [api] if api else self.apis:
            for key, _ in await self._store.scan(self._ns(name)):
                if await self._store.delete(self._ns(name), key) and now is not None:
                    await self.events.record("fault.removed", now, api=name, fault={"id": key})

    def reads(self, api: str) -> list[str]:
        """The namespaces `take` scans for a request to `api`, for a caller that reads them
        with the request's other reads (one round trip on Redis) and passes them in (`read`).
        Nothing on a local store: there a scan costs no round trip, and made when the rules are
        taken it sees a rule added while the request's body was still arriving."""
        if self._store.local:
            return []
        before = self.before_reads() if self.before_reads is not None else []
        return [*before, self._ns(api)]

    async def take(
        self,
        api: str,
        operation: str | None,
        *,
        now: float | None = None,
        path_params: dict[str, Any] | None = None,
        headers: Iterable[tuple[bytes, bytes]] = (),
        body: Any = None,
        read: dict[str, list[tuple[str, dict]]] | None = None,
    ) -> dict | None:
        """The oldest rule that fires on this request, with one use consumed, or None. A rule
        outside its window is skipped untouched; inside it, the request is the rule's n-th
        match (counted atomically in the store) and fires or not by (seed, n). `read`: the
        namespaces `reads` named, as read at the request's start; a scenario step that runs
        first may add or remove rules, so then they are read again."""
        fired = False
        if self.before_take is not None and now is not None:
            fired = await self.before_take(now, read)  # scenario steps due by now run first
        candidates = read.get(self._ns(api)) if read and not fired else None
        if candidates is None:
            candidates = await self._store.scan(self._ns(api))
        if not candidates:
            return None
        candidates.sort(key=lambda kv: kv[1]["seq"])
        for key, rule in candidates:
            if rule["operation"] not in (None, operation):
                continue
            bounds = rule.get("window") or {}
            if now is not None and not in_window(bounds.get("start"), bounds.get("end"), now):
                continue
            if not matches(rule.get("match"), path_params or {}, headers, body):
                continue
            taken = await self._store.update(self._ns(api), key, _consume)
            if taken is not None:
                if taken["remaining"] == 1 and now is not None:  # its last use: the rule is gone
                    summary = {"id": taken["id"], "reason": "times"}
                    await self.events.record("fault.expired", now, api=api, fault=summary)
                return taken
        return None


def _consume(current: dict | None):
    """Count one more matching request; take a use if the rule fires on it (pure: may rerun)."""
    if current is None:
        return None, None  # another request took its last use
    n = current["matched"] = current.get("matched", 0) + 1
    if not fires(current.get("probability"), current.get("seed", 0), n):
        return current, None
    current["applied"] += 1
    taken = dict(current, n=n, delay_ms=delay_for(current, n))
    if current["remaining"] is None:
        return current, taken
    current["remaining"] -= 1
    return (current if current["remaining"] > 0 else None), taken
