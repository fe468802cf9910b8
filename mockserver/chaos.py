"""Chaos on the mock clock: fault windows, seeded probabilities, delay distributions, matching.

Everything here is a pure function of its inputs. A fault's decision for its n-th matching
request comes from (seed, n) alone, and n is a counter in the store, so two workers sharing one
store fault the same request numbers, and a rerun with the same seed and requests faults the same
ones (issue 21). Windows are epoch seconds on the mock clock, so moving the clock opens and
closes them exactly as waiting would.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Iterable
from typing import Any

from mockserver.core.clock import LAST_INSTANT, parse_iso
from mockserver.core.errors import FieldError

__all__ = [
    "MAX_DELAY_MS",
    "check_chaos",
    "delay_for",
    "draw",
    "fires",
    "in_window",
    "matches",
    "window",
]

MAX_DELAY_MS = 60_000  # as delay_ms: a fault never holds a connection longer than a minute
_MAX_EPOCH = LAST_INSTANT  # 9999-12-31T23:59:59Z, the last instant ISO-8601 years can name
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def draw(seed: int, n: int, purpose: str) -> float:
    """A uniform number in [0, 1) for the n-th matching request, the same on every worker and
    every run (sha256, not Python's per-process `hash`)."""
    digest = hashlib.sha256(f"{seed}:{n}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def fires(probability: float | None, seed: int, n: int) -> bool:
    return probability is None or draw(seed, n, "fire") < probability


def delay_for(rule: dict[str, Any], n: int) -> int:
    """The delay (ms) the n-th matching request gets: `delay_ms`, or a sample of `delay`
    (WireMock's shapes), capped at MAX_DELAY_MS."""
    shape = rule.get("delay")
    if not shape:
        return int(rule.get("delay_ms") or 0)
    rng = random.Random(int(draw(rule["seed"], n, "delay") * 2**53))
    if "fixed_ms" in shape:
        ms = shape["fixed_ms"]
    elif "uniform_ms" in shape:
        lo, hi = shape["uniform_ms"]
        ms = rng.uniform(lo, hi)
    else:
        spec = shape["lognormal"]
        ms = rng.lognormvariate(math.log(spec["median_ms"]), spec["sigma"])
    return int(min(max(ms, 0), MAX_DELAY_MS))


def window(rule: dict[str, Any], now: float) -> tuple[float | None, float | None]:
    """(start, end) epoch seconds of the rule's window; None is an open end. `after_seconds`
    and `for_seconds` count from `now`, the rule's creation on the mock clock."""
    if rule.get("from") is not None or rule.get("until") is not None:
        start = parse_iso(rule["from"]) if rule.get("from") is not None else None
        end = parse_iso(rule["until"]) if rule.get("until") is not None else None
        return start, end
    if rule.get("after_seconds") is None and rule.get("for_seconds") is None:
        return None, None
    start = now + float(rule.get("after_seconds") or 0)
    span = rule.get("for_seconds")
    return start, (start + float(span) if span is not None else None)


def in_window(start: float | None, end: float | None, now: float) -> bool:
    return (start is None or now >= start) and (end is None or now < end)


def matches(
    match: dict[str, Any] | None,
    path_params: dict[str, Any],
    headers: Iterable[tuple[bytes, bytes]],
    body: Any,
) -> bool:
    """Whether the request holds `match`: its path parameters equal, its headers equal (names
    ignore case), and its JSON body a superset (objects by key, recursively; other values equal)."""
    if not match:
        return True
    for name, value in (match.get("path") or {}).items():
        if str(path_params.get(name)) != value:
            return False
    if match.get("headers"):
        given = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers}
        for name, value in match["headers"].items():
            if given.get(name.lower()) != value:
                return False
    return "body" not in match or _subset(match["body"], body)


def _subset(want: Any, have: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            k in have and _subset(v, have[k]) for k, v in want.items()
        )
    if isinstance(want, bool) or isinstance(have, bool):
        return type(want) is type(have) and want == have  # true is not 1
    return want == have


def check_chaos(rule: dict[str, Any]) -> list[FieldError]:
    """Why the rule's chaos fields can't be stored (the schema has checked types and ranges)."""
    problems = _window_problems(rule)
    for key in ("after_seconds", "for_seconds", "probability"):
        if rule.get(key) is not None and not math.isfinite(rule[key]):
            problems.append(FieldError(key, "format", "a finite number", str(rule[key])))
    if rule.get("for_seconds") is not None and rule["for_seconds"] <= 0:
        problems.append(FieldError("for_seconds", "minimum", "a window lasts more than 0 s"))
    if rule.get("delay") and rule.get("delay_ms"):
        problems.append(FieldError("delay", "forbidden", "give delay_ms or delay, not both"))
    problems += _delay_problems(rule.get("delay"))
    for name in (rule.get("match") or {}).get("headers") or {}:
        if not _TOKEN.fullmatch(name):
            problems.append(FieldError(f"match.headers.{name}", "format", "not a header name"))
    return problems


def _window_problems(rule: dict[str, Any]) -> list[FieldError]:
    absolute = [k for k in ("from", "until") if rule.get(k) is not None]
    relative = [k for k in ("after_seconds", "for_seconds") if rule.get(k) is not None]
    if absolute and relative:
        return [
            FieldError(
                absolute[0], "forbidden", "a window is from/until or after_seconds/for_seconds"
            )
        ]
    bounds: dict[str, float] = {}
    problems = []
    for key in absolute:
        try:
            bounds[key] = parse_iso(rule[key])
        except (ValueError, OverflowError):
            problems.append(FieldError(key, "format", "not an ISO-8601 timestamp", rule[key]))
            continue
        if not 0 <= bounds[key] <= _MAX_EPOCH:
            problems.append(FieldError(key, "range", "between 1970 and 9999", rule[key]))
    if len(bounds) == 2 and bounds["from"] >= bounds["until"]:
        problems.append(FieldError("until", "minimum", "until must be after from", rule["until"]))
    return problems


def _delay_problems(shape: dict[str, Any] | None) -> list[FieldError]:
    if not shape:
        return []
    if "uniform_ms" in shape:
        lo, hi = shape["uniform_ms"]
        if lo > hi:
            return [FieldError("delay.uniform_ms", "order", "[lo, hi] with lo <= hi")]
    if "lognormal" in shape:
        spec = shape["lognormal"]
        for key in ("median_ms", "sigma"):
            if not math.isfinite(spec[key]):
                return [FieldError(f"delay.lognormal.{key}", "format", "a finite number")]
        if spec["median_ms"] <= 0:
            return [FieldError("delay.lognormal.median_ms", "minimum", "a median above 0 ms")]
    return []
