"""Request matching over real HTTP, on both stores: `POST /__mock/requests/count`, the journal's
filters, and `POST /__mock/verify` with its near misses (issue 18)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import advance, seed_body

KEY = "sonoran-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


def beat(http, players: int = 3, server: int = 1, **headers):
    return http.post(
        f"/v2/general/servers/{server}/heartbeat",
        json={"playerCount": players},
        headers={**AUTH, **headers},
    )


def count(http, **criteria) -> int:
    r = http.post("/__mock/requests/count", json=criteria)
    assert r.status_code == 200, r.text
    return r.json()["count"]


@pytest.fixture
def traffic(http):
    """Three Sonoran heartbeats (one invalid), one statusbadge heartbeat, one faulted."""
    http.post("/__mock/clock/freeze")
    beat(http, 3)
    advance(http, 10)
    beat(http, 4, server=2, **{"X-Trace": "abc"})
    http.post("/v2/general/servers/1/heartbeat", json={"playerCount": -1}, headers=AUTH)
    advance(http, 10)
    http.post("/api/heartbeat", json=seed_body("statusbadge"))
    http.post("/__mock/faults", json={"api": "statusbadge", "status": 503, "times": 1})
    http.post("/api/heartbeat", json=seed_body("statusbadge"))
    return http


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, 5),
        ({"api": "sonoran"}, 3),
        ({"operation": "sonoran_heartbeat", "valid": True}, 2),
        ({"method": "post", "path": "/v2/general/servers/2/heartbeat"}, 1),
        ({"path_pattern": r"/v2/general/servers/\d+/heartbeat"}, 3),
        ({"path_pattern": "/v2"}, 0),  # the whole path must match
        ({"status": 400}, 1),
        ({"valid": False}, 1),
        ({"fault": True}, 1),
        ({"fault": False, "api": "statusbadge"}, 1),
        ({"body": {"playerCount": 4}}, 1),
        ({"body": {"data": {"status": "online", "players": 15}}}, 2),
        ({"headers": {"x-trace": "abc"}}, 1),
        ({"headers": {"X-TRACE": "abd"}}, 0),
        ({"headers": {"authorization": f"Bearer {KEY}"}}, 3),  # compared redacted
    ],
)
def test_count_by_each_criterion(traffic, criteria, expected):
    assert count(traffic, **criteria) == expected


def test_since_and_until_are_mock_clock_bounds(traffic):
    entries = traffic.get("/__mock/requests").json()["requests"]
    second = entries[1]["at"]
    assert count(traffic, since=second) == 4
    assert count(traffic, until=second) == 3
    assert count(traffic, since=second, until=second) == 2  # the 2nd and 3rd share an instant


def test_the_journal_takes_the_same_filters(traffic):
    r = traffic.get(
        "/__mock/requests",
        params={
            "operation": "sonoran_heartbeat",
            "method": "POST",
            "path_pattern": r"/v2/.*",
            "fault": "false",
            "body_contains": json.dumps({"playerCount": 4}),
            "header": ["X-Trace: abc", "content-type: application/json"],
        },
    )
    assert r.status_code == 200, r.text
    (entry,) = r.json()["requests"]
    assert entry["path"] == "/v2/general/servers/2/heartbeat" and r.json()["count"] == 1
    until = traffic.get("/__mock/requests", params={"until": entry["at"]}).json()["count"]
    assert until == 3  # the invalid heartbeat came at the same instant


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"path_pattern": "x" * 201}, "path_pattern"),
        ({"path_pattern": "(unclosed"}, "path_pattern"),
        ({"path_pattern": "(?<=look)behind"}, "path_pattern"),
        ({"path_pattern": r"(a)\1"}, "path_pattern"),
        ({"since": "last tuesday"}, "since"),
        ({"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}, "until"),
        ({"status": "200"}, "status"),
        ({"headers": {"a": 1}}, "headers.a"),
        ({"colour": "red"}, None),  # the schema's additionalProperties
    ],
)
def test_a_bad_matcher_is_a_400_naming_it_and_changes_nothing(traffic, criteria, field):
    before = traffic.get("/__mock/requests").json()
    for path, extra in (("/__mock/requests/count", {}), ("/__mock/verify", {"count": 1})):
        r = traffic.post(path, json={**criteria, **extra})
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["kind"] == "validation" and error["message"]
        if field:
            assert field in [f["key"] for f in error["fields"]], error
    assert traffic.get("/__mock/requests").json() == before


@pytest.mark.parametrize(
    "params",
    [
        {"path_pattern": "("},
        {"body_contains": "{not json"},
        {"header": "no colon here"},
        {"until": "soon"},
        {"fault": "maybe"},
    ],
)
def test_bad_journal_filters_are_400(traffic, params):
    r = traffic.get("/__mock/requests", params=params)
    assert r.status_code == 400 and r.json()["error"]["kind"] == "validation", r.text


def test_an_unknown_api_is_404_as_everywhere_in_the_control_api(http):
    assert http.post("/__mock/requests/count", json={"api": "nope"}).status_code == 404
    assert http.post("/__mock/verify", json={"api": "nope", "count": 0}).status_code == 404


def test_verify_holds(traffic):
    r = traffic.post("/__mock/verify", json={"api": "sonoran", "valid": True, "count": 2})
    assert r.status_code == 200 and r.json() == {"ok": True, "count": 2}
    r = traffic.post("/__mock/verify", json={"status": 503, "at_least": 1})
    assert r.json() == {"ok": True, "count": 1}
    assert traffic.post("/__mock/verify", json={"status": 418, "at_most": 0}).status_code == 200


@pytest.mark.parametrize("expect", [{}, {"count": 1, "at_least": 1}, {"at_most": -1}])
def test_verify_needs_exactly_one_expectation(http, expect):
    r = http.post("/__mock/verify", json={"api": "sonoran", **expect})
    assert r.status_code == 400 and r.json()["error"]["kind"] == "validation"


def test_a_failed_verify_is_a_422_a_person_can_act_on(traffic):
    r = traffic.post(
        "/__mock/verify",
        json={"api": "sonoran", "path": "/v2/general/servers/1/heartbeat", "status": 200,
              "body": {"playerCount": 5}, "count": 1},
    )  # fmt: skip
    assert r.status_code == 422
    body = r.json()
    assert body["ok"] is False and body["count"] == 0 and body["expected"] == "exactly 1 request"
    first, second, third = body["near_misses"]
    assert first["differences"] == [
        {"field": "body.playerCount", "expected": 5, "actual": 3}
    ]  # the first heartbeat: only its player count differs
    assert {d["field"] for d in second["differences"]} | {
        d["field"] for d in third["differences"]
    } >= {"status", "path"}
    message = body["message"]
    assert 'expected exactly 1 request matching api="sonoran"' in message
    assert "but 0 matched (3 in the journal)" in message
    assert "POST /v2/general/servers/1/heartbeat -> 200" in message
    assert "body.playerCount: expected 5, got 3" in message


def test_too_many_list_the_requests_that_matched(traffic):
    r = traffic.post("/__mock/verify", json={"api": "sonoran", "at_most": 1})
    assert r.status_code == 422
    body = r.json()
    assert body["count"] == 3 and body["near_misses"] == [] and len(body["matched"]) == 3
    assert "requests that matched (newest first):" in body["message"]


def test_near_misses_never_show_a_credential(http):
    beat(http, 3)
    r = http.post(
        "/__mock/verify",
        json={"headers": {"Authorization": "Bearer other-key-9876543210"}, "count": 1},
    )
    assert r.status_code == 422
    text = r.text
    assert KEY not in text and "other-key-9876543210" not in text
    (miss,) = r.json()["near_misses"]
    (difference,) = miss["differences"]
    assert difference["field"] == "headers.authorization"
    assert difference["actual"].endswith("***") and difference["expected"].endswith("***")


def test_a_catastrophic_pattern_answers_at_once(http):
    """`(a+)+$` against a long path would hold Python's `re` for ages; the mock's linear-time
    engine answers."""
    http.post("/v2/general/servers/" + "a" * 3000, json={}, headers=AUTH)
    r = http.post("/__mock/requests/count", json={"path_pattern": "/v2/general/servers/(a+)+$x"})
    assert r.status_code == 200 and r.json() == {"count": 0}
