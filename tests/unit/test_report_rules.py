"""mockserver.report.build_report: the counts, the invalid requests and each client's cadence
findings, read off journal entries against an API's CadencePolicy (no server, no store)."""

from __future__ import annotations

import itertools

import pytest

from mockserver.core.api import CadencePolicy, MockApi, StopAnswer
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
        "5 requests in 60 s, over the documented limit of 3"  # no 429: never "0 times"
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
        ((0,), f"  c1: 1 heartbeat at {iso_utc(T0, micros=True)} (documented 30 s)"),
        (
            (0, 30, 60),
            f"  c1: 3 heartbeats from {iso_utc(T0, micros=True)} to "
            f"{iso_utc(T0 + 60, micros=True)}, interval min/median/max 30 s/30 s/30 s "
            "(documented 30 s)",
        ),
    ],
)
def test_the_text_report_lists_each_client_and_says_on_cadence(offsets, line):
    report = build_report({"x": CadenceApi(EVERY_30)}, beats(*offsets), T0 + offsets[-1])
    lines = render_text(report).splitlines()
    assert lines[2].startswith("x: ") and line in lines and "    - on cadence" in lines


STOP = (StopAnswer(404, ("error", "code")), StopAnswer(200, ("data", "result"), "REPLACED"))


class StoppingApi(CadenceApi):
    stop_answers = STOP


def answered(at: float, status: int, body) -> dict:
    return entry(T0 + at, status=status, response={"body": body})


def stop_findings(entries) -> list[str]:
    report = build_report({"x": StoppingApi(EVERY_30)}, entries, entries[-1]["epoch"])
    (client,) = report["apis"]["x"]["clients"]
    return client["findings"]


def test_heartbeats_after_an_answer_that_says_stop_are_a_finding():
    gone = {"error": {"code": "GONE"}}
    entries = [answered(0, 200, {}), answered(30, 404, gone), answered(60, 404, gone)]
    entries.append(answered(90, 404, gone))
    assert stop_findings(entries) == [
        "kept heartbeating after the API told it to stop: 2 more heartbeats after 404 GONE at "
        + iso_utc(T0 + 30, micros=True)
    ]


def test_a_stop_answer_matches_its_field_and_value_and_one_more_beat_is_singular():
    replaced = {"data": {"result": "REPLACED"}}
    assert (
        stop_findings([answered(0, 200, {"data": {"result": "OK"}}), answered(30, 200, {})]) == []
    )
    found = stop_findings([answered(0, 200, replaced), answered(30, 200, replaced)])
    assert found == [
        "kept heartbeating after the API told it to stop: 1 more heartbeat after 200 REPLACED at "
        + iso_utc(T0, micros=True)
    ]
    assert stop_findings([answered(0, 200, {}), answered(30, 404, "text, not JSON")]) == []


def test_a_client_that_stops_on_the_stop_answer_has_no_such_finding():
    gone = {"error": {"code": "GONE"}}
    assert stop_findings([answered(0, 200, {}), answered(30, 404, gone)]) == []


def test_an_api_without_stop_answers_never_flags_a_client():
    gone = {"error": {"code": "GONE"}}
    entries = [entry(T0 + s, status=404, response={"body": gone}) for s in (0, 30, 60)]
    assert findings(EVERY_30, entries) == []


def test_a_client_whose_every_heartbeat_was_faulted_still_has_its_row():
    mark = {"id": "fault-1", "status": 503, "delay_ms": 0, "drop": False}
    entries = [entry(T0 + s, status=503, fault=mark) for s in (0, 30)]
    report = build_report({"x": CadenceApi(EVERY_30)}, entries, T0 + 30, timelines=True)
    (client,) = report["apis"]["x"]["clients"]
    assert client["heartbeats"] == 0 and client["findings"] == []
    assert client["first"] == entries[0]["at"] and client["last"] == entries[1]["at"]
    assert [m["status"] for m in client["timeline"]["marks"]] == [503, 503]
    assert client["timeline"]["gaps"] == []
    text = render_text(report)
    assert f"  c1: every heartbeat faulted, {entries[0]['at']} .. {entries[1]['at']}" in text


def test_the_text_report_gives_each_invalid_request_and_event_its_time():
    violation = {"key": "data", "rule": "required", "message": "required", "value": ""}
    bad = entry(T0 + 5, status=400, valid=False, violations=[violation])
    report = build_report({"x": CadenceApi(EVERY_30)}, [bad], T0 + 5)
    report["events"] = [
        {
            "id": 1,
            "kind": "clock.advance",
            "at": iso_utc(T0, micros=True),
            "epoch": T0,
            "api": None,
            "to": T0 + 250,
            "seconds": 250.0,
        },
    ]
    text = render_text(report)
    assert f"  invalid #{bad['id']} at {bad['at']} POST /x/heartbeat -> 400" in text
    assert f"  {iso_utc(T0, micros=True)} clock.advance +250 s to {iso_utc(T0 + 250)}" in text
    assert "x: 1 request, 1 invalid" in text
