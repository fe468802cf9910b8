"""Verification over the journal: how many requests a matcher picks, whether that is what a
test expected, and, when it is not, what explains it.

`POST /__mock/verify` takes a matcher (mockserver.matcher) and one of `count` (exactly),
`at_least`, `at_most`. When that does not hold, the answer lists the "near misses" (WireMock's
`/__admin/near-misses`): up to three journaled requests that did not match, closest first (fewest
differing criteria, then the newest), each with the criteria that differed and what the request
had instead; or, when too many matched, the newest of those that did. Its `message` says all of
it in lines a person can act on (what MockClient.verify raises as an AssertionError).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mockserver.matcher import Difference, Matcher, MatcherError, show, summary

__all__ = ["Expectation", "NEAR_MISSES", "Tally", "failure_message", "verdict"]

NEAR_MISSES = 3


class Tally:
    """A matcher over a journal read in id order (oldest first), one entry at a time: how many
    matched and were seen, and only what a verdict shows, the `keep` closest misses and the
    `keep` newest matches, so memory stays bounded however long the journal."""

    def __init__(self, matcher: Matcher, entries: Iterable[dict] = (), keep: int = NEAR_MISSES):
        self.matcher = matcher
        self.keep = keep
        self.count = 0
        self.seen = 0
        self._misses: list[tuple[int, int, dict, list[Difference]]] = []
        self._matched: deque[dict] = deque(maxlen=keep)
        for entry in entries:
            self.add(entry)

    def add(self, entry: dict) -> None:
        self.seen += 1
        diffs = self.matcher.differences(entry)
        if not diffs:
            self.count += 1
            self._matched.append(summary(entry))
            return
        self._misses.append((len(diffs), -entry.get("id", 0), entry, diffs))
        if len(self._misses) > self.keep:
            self._misses.sort(key=lambda m: (m[0], m[1]))
            del self._misses[self.keep :]

    def near_misses(self) -> list[dict]:
        """The closest entries that did not match, each as its summary and the differences."""
        misses = sorted(self._misses, key=lambda m: (m[0], m[1]))
        return [
            {"request": summary(entry), "differences": [d.as_dict() for d in diffs]}
            for _, _, entry, diffs in misses
        ]

    def newest_matches(self) -> list[dict]:
        return list(reversed(self._matched))


@dataclass(frozen=True)
class Expectation:
    """One of `count` (exactly), `at_least`, `at_most`: how many requests must match."""

    kind: str
    n: int

    @classmethod
    def parse(cls, body: dict) -> Expectation:
        given = [k for k in ("count", "at_least", "at_most") if body.get(k) is not None]
        if len(given) != 1:
            raise MatcherError(
                "count",
                "give exactly one of count, at_least, at_most"
                + (f" (got {', '.join(given)})" if given else ""),
            )
        n = body[given[0]]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise MatcherError(given[0], f"{given[0]} must be an integer >= 0", n)
        return cls(given[0], n)

    def holds(self, count: int) -> bool:
        if self.kind == "count":
            return count == self.n
        if self.kind == "at_least":
            return count >= self.n
        return count <= self.n

    def text(self) -> str:
        words = {"count": "exactly", "at_least": "at least", "at_most": "at most"}
        return f"{words[self.kind]} {self.n} request{'' if self.n == 1 else 's'}"


def verdict(matcher: Matcher, expectation: Expectation, entries: Iterable[dict] | Tally) -> dict:
    """`POST /__mock/verify`'s answer: `ok` and `count`; on failure also what was expected, the
    near misses (too few matched) or the newest matches (too many did), and the message.
    `entries`: the journal, or a Tally of this matcher over it."""
    tally = entries if isinstance(entries, Tally) else Tally(matcher, entries)
    if expectation.holds(tally.count):
        return {"ok": True, "count": tally.count}
    too_few = tally.count < expectation.n
    body: dict[str, Any] = {
        "ok": False,
        "count": tally.count,
        "expected": expectation.text(),
        "near_misses": tally.near_misses() if too_few else [],
    }
    if not too_few:
        body["matched"] = tally.newest_matches()
    body["message"] = failure_message(matcher, body, tally.seen)
    return body


def failure_message(matcher: Matcher, body: dict, journaled: int) -> str:
    """A failed verification in lines a person can act on: what was asked, what was found,
    then the closest requests and how each differed (or the requests that matched too many)."""
    lines = [
        f"expected {body['expected']} matching {matcher.describe()}, "
        f"but {body['count']} matched ({journaled} in the journal)"
    ]
    if body["near_misses"]:
        lines.append("closest requests that did not match:")
    elif "matched" not in body:
        lines.append("no request in the journal comes close" if journaled else "")
    for miss in body["near_misses"]:
        lines.append("  " + _request_line(miss["request"]))
        for d in miss["differences"]:
            got = "missing" if d.get("missing") else show(d.get("actual"))
            lines.append(f"      {d['field']}: expected {show(d['expected'])}, got {got}")
    if body.get("matched"):
        lines.append("requests that matched (newest first):")
        lines += ["  " + _request_line(r) for r in body["matched"]]
    return "\n".join(line for line in lines if line)


def _request_line(r: dict) -> str:
    return f"#{r['id']} {r['method']} {r['path']} -> {r['status']} at {r['at']} ({r['api']})"
