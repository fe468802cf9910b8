"""Chaos on the mock clock (issue 21): fault windows, seeded probabilities, delay distributions
and `match`, over real HTTP on both stores. Time moves only through the mock clock; delays are
checked on the delay the journal records, never by timing the test."""

from __future__ import annotations

import httpx
import pytest

from mockserver.chaos import draw
from tests.conftest import advance

BODY = {
    "token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
    "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"},
}
OTHER = {**BODY, "token": "sk_live_0f8fad5b-d9cb-469f-a165-70867728950e"}


def add(http, **rule):
    r = http.post("/__mock/faults", json={"api": "statusbadge", **rule})
    assert r.status_code == 201, r.text
    return r.json()


def beat(http, body=BODY) -> int:
    return http.post("/api/heartbeat", json=body).status_code


def journal_faults(http) -> list[dict | None]:
    return [e.get("fault") for e in http.get("/__mock/requests?api=statusbadge").json()["requests"]]


@pytest.fixture
def frozen(http):
    http.post("/__mock/clock/set", json={"now": "2026-04-08T21:35:00Z", "frozen": True})
    return http


def test_a_relative_window_fires_only_while_the_clock_is_inside_it(frozen):
    add(frozen, status=503, after_seconds=60, for_seconds=120)
    seen = [beat(frozen)]
    for step in (59, 1, 119, 1, 1000):
        advance(frozen, step)
        seen.append(beat(frozen))
    assert seen == [200, 200, 503, 503, 200, 200]


def test_times_are_not_used_outside_the_window(frozen):
    fault = add(frozen, status=500, after_seconds=30, times=1)
    assert [beat(frozen) for _ in range(3)] == [200, 200, 200]
    assert frozen.get("/__mock/faults").json()["faults"][0]["remaining"] == 1
    advance(frozen, 30)
    assert [beat(frozen), beat(frozen)] == [500, 200]
    assert journal_faults(frozen)[3]["id"] == fault["id"]


def test_an_absolute_window_follows_from_and_until(frozen):
    rule = add(
        frozen, status=503, **{"from": "2026-04-08T21:36:00Z", "until": "2026-04-08T21:38:00Z"}
    )
    assert rule["window"]["from"] == "2026-04-08T21:36:00Z"
    seen = [beat(frozen)]
    for step in (60, 119, 1):
        advance(frozen, step)
        seen.append(beat(frozen))
    assert seen == [200, 503, 503, 200]


def faulted_numbers(http, count: int) -> list[int]:
    return [n for n in range(1, count + 1) if beat(http) == 503]


def test_a_seeded_probability_faults_the_same_request_numbers_on_every_run(frozen):
    add(frozen, status=503, probability=0.3, seed=42)
    first = faulted_numbers(frozen, 40)
    frozen.post("/__mock/reset").raise_for_status()
    add(frozen, status=503, probability=0.3, seed=42)
    assert faulted_numbers(frozen, 40) == first
    assert first == [n for n in range(1, 41) if draw(42, n, "fire") < 0.3]
    assert 0 < len(first) < 40
    frozen.post("/__mock/reset").raise_for_status()
    add(frozen, status=503, probability=0.3, seed=7)
    assert faulted_numbers(frozen, 40) != first  # the seed decides, not the request


def test_probability_counts_only_matching_requests_in_the_window(frozen):
    rule = add(frozen, status=503, probability=0.5, seed=1, after_seconds=10)
    assert [beat(frozen) for _ in range(5)] == [200] * 5
    faults = frozen.get("/__mock/faults").json()["faults"]
    assert faults[0]["matched"] == 0 and faults[0]["id"] == rule["id"]


def test_two_workers_on_one_store_fault_the_same_request_numbers(
    make_server, store_kind, store_url
):
    if store_kind != "redis":
        pytest.skip("two servers share state only through Redis")
    url = store_url()
    one, two = make_server(store=url), make_server(store=url)
    with httpx.Client(base_url=one.url) as a, httpx.Client(base_url=two.url) as b:
        a.post("/__mock/reset").raise_for_status()
        add(a, status=503, probability=0.3, seed=42)
        seen = [n for n in range(1, 41) if beat(a if n % 2 else b) == 503]
    assert seen == [n for n in range(1, 41) if draw(42, n, "fire") < 0.3]


@pytest.mark.parametrize(
    ("delay", "lo", "hi"),
    [
        ({"fixed_ms": 3}, 3, 3),
        ({"uniform_ms": [1, 30]}, 1, 30),
        ({"lognormal": {"median_ms": 2, "sigma": 0.5}}, 0, 60000),
    ],
)
def test_delay_distributions_stay_within_their_bounds(frozen, delay, lo, hi):
    add(frozen, delay=delay, seed=5)
    assert [beat(frozen) for _ in range(12)] == [200] * 12
    applied = [f["delay_ms"] for f in journal_faults(frozen)]
    assert all(lo <= ms <= hi for ms in applied), applied
    frozen.delete("/__mock/requests")
    frozen.delete("/__mock/faults")
    add(frozen, delay=delay, seed=5)
    for _ in range(12):
        beat(frozen)
    assert [f["delay_ms"] for f in journal_faults(frozen)] == applied  # seeded: same samples
    if "uniform_ms" in delay:
        assert len(set(applied)) > 1


def test_a_lognormal_delay_is_capped_at_a_minute(frozen):
    """A huge sigma would sample hours; the cap holds the connection a minute at most. Checked
    with the pure sampler, since a test can't wait a minute per request."""
    from mockserver.chaos import delay_for

    rule = {"delay": {"lognormal": {"median_ms": 60000, "sigma": 10}}, "seed": 3}
    assert max(delay_for(rule, n) for n in range(1, 200)) == 60000


def test_match_narrows_a_fault_to_one_body_key(frozen):
    add(frozen, status=503, match={"body": {"token": OTHER["token"]}})
    assert [beat(frozen), beat(frozen, OTHER), beat(frozen)] == [200, 503, 200]


def test_match_on_path_params_and_headers(frozen):
    beat(frozen)
    add(frozen, status=500, operation="statusbadge_status", match={"path": {"publicId": "srv_x"}})
    add(frozen, status=418, match={"headers": {"X-Device": "d1"}})
    assert frozen.get("/api/status/srv_pub_a3a9e1ed9732").status_code != 500
    assert frozen.get("/api/status/srv_x").status_code == 500
    assert frozen.post("/api/heartbeat", json=BODY, headers={"x-device": "d1"}).status_code == 418
    assert frozen.post("/api/heartbeat", json=BODY, headers={"x-device": "d2"}).status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        {"status": 503, "from": "2026-04-08T21:36:00Z", "after_seconds": 1},
        {"status": 503, "from": "2026-04-08T21:38:00Z", "until": "2026-04-08T21:36:00Z"},
        {"status": 503, "from": "yesterday"},
        {"status": 503, "until": "0001-01-01T00:00:00Z"},
        {"status": 503, "for_seconds": 0},
        {"status": 503, "probability": 1.5},
        {"status": 503, "probability": -0.1},
        {"status": 503, "seed": -1},
        {"delay": {"uniform_ms": [30, 1]}},
        {"delay": {"uniform_ms": [1, 2, 3]}},
        {"delay": {"lognormal": {"median_ms": 0, "sigma": 1}}},
        {"delay": {"lognormal": {"median_ms": 5}}},
        {"delay": {"fixed_ms": 60001}},
        {"delay": {}},
        {"delay": {"fixed_ms": 1, "uniform_ms": [1, 2]}},
        {"delay": {"fixed_ms": 1}, "delay_ms": 5},
        {"status": 503, "match": {"headers": {"bad name": "x"}}},
        {"status": 503, "match": {"query": {}}},
        {"probability": 0.5},
    ],
)
def test_bad_chaos_fields_get_a_400_and_store_nothing(frozen, rule):
    r = frozen.post("/__mock/faults", json={"api": "statusbadge", **rule})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["kind"] == "validation"
    assert frozen.get("/__mock/faults").json()["faults"] == []


def test_nan_in_a_window_gets_a_400(frozen):
    body = b'{"api": "statusbadge", "status": 503, "after_seconds": NaN}'
    r = frozen.post("/__mock/faults", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert frozen.get("/__mock/faults").json()["faults"] == []
