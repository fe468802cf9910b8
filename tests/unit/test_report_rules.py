"""mockserver.report.build_report: the counts, the invalid requests and each client's cadence
findings, read off journal entries against an API's CadencePolicy (no server, no store)."""

from __future__ import annotations

import itertools

import pytest

from mockserver.core.api import CadencePolicy, MockApi
from mockserver.core.clock import iso_utc
from mockserver.report import build_report, render_text

T0 = 1_800_000_000.0
_ids = itertools.count(1)


class CadenceApi(MockApi):
    """An API as the report sees it: a heartbeat operation and a documented cadence."""

    name = "x"
    heartbeat_operation = "x_heartbeat"

    def __init__(self, policy: CadencePolicy | None) -> None:  # no context: the report needs none
        self.policy = policy
        self.asked: list[tuple[str, int]] = []

    def cadence(self, identity=None, entries=None):
        self.asked.append((identity, len(entries or [])))
        return self.policy


def entry(at: float, *, identity="c1", status=200, operation="x_heartbeat", api="x", **extra):
    return {
        "id": next(_ids),
        "at": iso_utc(at, micros=True),
        "epoch": at,
        "api": api,
        "operation": operation,
        "method": "POST",
        "path": "/x/heartbeat",
        "status": status,
        "valid": True,
        "violations": [],
        "identity": identity,
        "fault": None,
        **extra,
    }


def beats(*offsets: float, **kw) -> list[dict]:
    return [entry(T0 + s, **kw) for s in offsets]


def report_for(policy, entries, now_offset=None) -> dict:
    last = max((e["epoch"] for e in entries), default=T0)
    now = last if now_offset is None else T0 + now_offset
    return build_report({"x": CadenceApi(policy)}, entries, now)["apis"]["x"]


def findings(policy, entries, now_offset=None) -> list[str]:
    (client,) = report_for(policy, entries, now_offset)["clients"]
    return client["findings"]


EVERY_30 = CadencePolicy(interval=30, ttl=60)


def test_a_client_on_its_documented_cadence_has_no_findings():
    assert findings(EVERY_30, beats(0, 30, 60, 90, 120)) == []


def test_intervals_are_measured_per_client():
    (client,) = report_for(EVERY_30, beats(0, 20, 50, 95))["clients"]
    assert client["heartbeats"] == 4
    assert client["interval"] == {"min": 20, "median": 30, "max": 45}
    assert client["first"] == iso_utc(T0, micros=True)
    assert client["last"] == iso_utc(T0 + 95, micros=True)
    assert client["documented"] == {"interval": 30, "ttl": 60, "rate_limit": None, "stale": None}


def test_a_gap_over_the_ttl_says_the_state_expired():
    assert findings(EVERY_30, beats(0, 30, 125, 155)) == [
        "interval 95 s exceeds the 60 s TTL: the client's state expired once"
    ]
    assert findings(EVERY_30, beats(0, 70, 140))[0].endswith("expired 2 times")


def test_late_heartbeats_within_the_ttl_are_counted_with_the_longest():
    assert findings(EVERY_30, beats(0, 40, 70, 120)) == [
        "2 interval(s) longer than the documented 30 s (longest 50 s)"
    ]


def test_ten_percent_late_is_still_on_cadence():
    assert findings(EVERY_30, beats(0, 33, 66)) == []


def test_heartbeats_twice_as_often_as_documented_are_a_finding():
    assert findings(EVERY_30, beats(0, 10, 20, 30)) == [
        "heartbeats every 10 s (median), more than twice as often as the documented 30 s"
    ]


def test_a_client_silent_past_the_ttl_has_expired():
    assert findings(EVERY_30, beats(0, 30), now_offset=100) == [
        "silent for 70 s: longer than the 60 s TTL, so the client's state expired"
    ]
    assert findings(EVERY_30, beats(0, 30), now_offset=90) == []


def test_more_requests_than_the_rate_limit_in_a_window_are_reported():
    policy = CadencePolicy(interval=None, rate_limit=(3, 60))
    assert findings(policy, beats(0, 1, 2, 3, 4)) == [
        "5 requests in 60 s (limit 3): rate-limited 0 times"
    ]
    assert (
        findings(policy, beats(0, 20, 40, 60, 80)) == []
    )  # never 4 within 60 s (a slot frees at 60)


def test_429_answers_are_counted_as_rate_limited():
    policy = CadencePolicy(interval=None, rate_limit=(10, 60))
    entries = beats(0, 1) + beats(2, status=429)
    assert findings(policy, entries) == ["3 requests in 60 s (limit 10): rate-limited once"]


def test_an_api_without_a_cadence_gets_no_findings():
    (client,) = report_for(None, beats(0, 1, 500))["clients"]
    assert client["findings"] == []
    assert client["documented"] == {
        "interval": None,
        "ttl": None,
        "rate_limit": None,
        "stale": None,
    }


def test_only_unfaulted_heartbeats_with_an_identity_count_towards_cadence():
    entries = beats(0, 30) + [
        entry(T0 + 40, identity=None),
        entry(T0 + 45, operation="x_status"),
        entry(T0 + 50, fault={"id": "fault-1", "status": 500, "delay_ms": 0, "drop": False}),
    ]
    (client,) = report_for(EVERY_30, entries)["clients"]
    assert client["heartbeats"] == 2


def test_clients_are_listed_by_identity_and_the_api_is_asked_for_each():
    api = CadenceApi(EVERY_30)
    entries = beats(0, 30, identity="b") + beats(5, identity="a")
    report = build_report({"x": api}, entries, T0 + 30)["apis"]["x"]
    assert [c["identity"] for c in report["clients"]] == ["a", "b"]
    assert sorted(api.asked) == [("a", 1), ("b", 2)]


def test_counts_statuses_and_invalid_requests_with_their_reasons():
    violation = {"key": "data", "rule": "required", "message": "required", "value": ""}
    entries = beats(0, 30) + [
        entry(T0 + 31, status=400, valid=False, violations=[violation]),
        entry(T0 + 32, status=503, fault={"id": "f", "status": 503, "delay_ms": 0, "drop": False}),
        entry(T0 + 33, api="other"),
    ]
    report = report_for(EVERY_30, entries)
    assert (report["requests"], report["valid"], report["invalid"], report["faulted"]) == (
        4,
        3,
        1,
        1,
    )
    assert report["statuses"] == {"200": 2, "400": 1, "503": 1}
    (bad,) = report["invalid_requests"]
    assert bad["status"] == 400 and bad["violations"] == [violation]
    assert set(bad) == {"id", "at", "operation", "method", "path", "status", "violations"}


def test_an_api_with_no_requests_is_reported_empty():
    api = CadenceApi(EVERY_30)
    report = build_report({"x": api}, [], T0)
    assert report["generated_at"] == iso_utc(T0)
    assert report["apis"]["x"] == {
        "requests": 0,
        "valid": 0,
        "invalid": 0,
        "faulted": 0,
        "statuses": {},
        "invalid_requests": [],
        "clients": [],
    }
    assert api.asked == []


@pytest.mark.parametrize(
    ("offsets", "line"),
    [
        ((0,), "  c1: 1 heartbeats, one heartbeat (documented 30 s)"),
        (
            (0, 30, 60),
            "  c1: 3 heartbeats, interval min/median/max 30 s/30 s/30 s (documented 30 s)",
        ),
    ],
)
def test_the_text_report_lists_each_client_and_says_on_cadence(offsets, line):
    report = build_report({"x": CadenceApi(EVERY_30)}, beats(*offsets), T0 + offsets[-1])
    lines = render_text(report).splitlines()
    assert lines[2].startswith("x: ") and line in lines and "    - on cadence" in lines
