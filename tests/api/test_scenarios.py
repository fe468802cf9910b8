"""Scenarios (issue 21): control calls at mock-clock offsets, fired once and in order when a
request arrives or the clock moves, also across two servers on one Redis; over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import advance

BODY = {
    "token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
    "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"},
}
OUTAGE = {
    "name": "outage",
    "steps": [
        {"at_seconds": 60, "method": "POST", "path": "/__mock/faults",
         "body": {"api": "statusbadge", "status": 503, "for_seconds": 120}},
        {"at_seconds": 300, "method": "POST", "path": "/__mock/faults",
         "body": {"api": "statusbadge", "status": 500, "times": 1}},
    ],
}  # fmt: skip


@pytest.fixture
def frozen(http):
    http.post("/__mock/clock/set", json={"now": "2026-04-08T21:35:00Z", "frozen": True})
    return http


def start(http, scenario) -> dict:
    r = http.post("/__mock/scenarios", json=scenario)
    assert r.status_code == 201, r.text
    return r.json()


def beat(http) -> int:
    return http.post("/api/heartbeat", json=BODY).status_code


def states(http, name="outage") -> list[str]:
    runs = {s["name"]: s for s in http.get("/__mock/scenarios").json()["scenarios"]}
    return [step["state"] for step in runs[name]["steps"]]


def test_steps_fire_when_the_clock_passes_them(frozen):
    start(frozen, OUTAGE)
    assert states(frozen) == ["pending", "pending"]
    seen = [beat(frozen)]
    for step in (60, 119, 1, 120):
        advance(frozen, step)
        seen.append(beat(frozen))
    assert seen == [200, 503, 503, 200, 500]
    assert states(frozen) == ["done", "done"]
    faults = [e["fault"] for e in frozen.get("/__mock/requests").json()["requests"] if e["fault"]]
    assert [f["scenario"] for f in faults] == [{"name": "outage", "step": i} for i in (0, 0, 1)]


def test_a_request_arriving_after_the_step_time_fires_it_first(frozen):
    """No clock call in between: the request itself sees the step due (the clock was set,
    unfrozen, far past it: the next request fires the step before its faults are taken)."""
    start(frozen, {"name": "outage", "steps": OUTAGE["steps"][:1]})
    frozen.post("/__mock/clock/set", json={"now": "2026-04-08T21:36:30Z"})
    assert states(frozen) == ["done"]  # GET fires due steps too
    assert beat(frozen) == 503


def test_steps_run_in_order_of_offset_and_each_once(frozen):
    scenario = {
        "name": "order",
        "steps": [
            {"at_seconds": 20, "method": "POST", "path": "/__mock/clock/advance",
             "body": {"seconds": 0}},
            {"at_seconds": 10, "method": "POST", "path": "/__mock/faults",
             "body": {"api": "statusbadge", "status": 500, "times": 1}},
            {"at_seconds": 10, "method": "POST", "path": "/__mock/faults",
             "body": {"api": "statusbadge", "status": 502, "times": 1}},
        ],
    }  # fmt: skip
    run = start(frozen, scenario)
    assert [s["index"] for s in run["steps"]] == [1, 2, 0]
    advance(frozen, 25)
    advance(frozen, 5)
    assert [beat(frozen), beat(frozen), beat(frozen)] == [500, 502, 200]
    steps = frozen.get("/__mock/scenarios").json()["scenarios"][0]["steps"]
    assert [s["state"] for s in steps] == ["done"] * 3
    assert [s["status"] for s in steps] == [201, 201, 200]


def test_a_step_the_control_api_refuses_is_failed_with_its_answer_and_the_rest_go_on(frozen):
    scenario = {
        "name": "bad",
        "steps": [
            {"at_seconds": 0, "method": "POST", "path": "/__mock/faults", "body": {"api": "nope"}},
            {"at_seconds": 0, "method": "POST", "path": "/__mock/faults",
             "body": {"api": "statusbadge", "status": 503}},
        ],
    }  # fmt: skip
    run = start(frozen, scenario)
    assert [s["state"] for s in run["steps"]] == ["failed", "done"]
    assert run["steps"][0]["status"] == 400 and run["steps"][0]["answer"]["error"]["fields"]
    assert beat(frozen) == 503


def test_stop_one_or_all(frozen):
    start(frozen, OUTAGE)
    assert frozen.post("/__mock/scenarios", json=OUTAGE).status_code == 409
    assert frozen.delete("/__mock/scenarios/outage").status_code == 204
    assert frozen.delete("/__mock/scenarios/outage").status_code == 404
    start(frozen, OUTAGE)
    assert frozen.delete("/__mock/scenarios").status_code == 204
    advance(frozen, 600)
    assert beat(frozen) == 200
    assert frozen.get("/__mock/scenarios").json()["scenarios"] == []


@pytest.mark.parametrize(
    "scenario",
    [
        {"name": "x", "steps": []},
        {"name": "bad name!", "steps": OUTAGE["steps"]},
        {"name": "x", "steps": [{"at_seconds": -1, "method": "POST", "path": "/__mock/reset"}]},
        {"name": "x", "steps": [{"at_seconds": 0, "method": "TRACE", "path": "/__mock/reset"}]},
        {"name": "x", "steps": [{"at_seconds": 0, "method": "POST", "path": "/api/heartbeat"}]},
        {"name": "x", "steps": [{"at_seconds": 0, "method": "POST", "path": "/__mock/nope"}]},
        {"name": "x", "steps": [{"at_seconds": 0, "method": "GET", "path": "/__mock/reset"}]},
        {"name": "x", "steps": [{"at_seconds": 0, "method": "POST", "path": "/__mock/scenarios"}]},
        {"name": "x", "steps": [{"at_seconds": 0, "method": "POST", "path": "/__mock/${who}"}]},
        {"name": "x", "vars": {"a": "../x"}, "steps": OUTAGE["steps"]},
        {"name": "x", "steps": [{"at_seconds": 0, "method": "POST", "path": "/__mock/reset",
                                 "extra": 1}]},
    ],
)  # fmt: skip
def test_bad_scenarios_get_a_400_and_start_nothing(frozen, scenario):
    r = frozen.post("/__mock/scenarios", json=scenario)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["kind"] == "validation"
    assert frozen.get("/__mock/scenarios").json()["scenarios"] == []


def test_an_unknown_named_scenario_is_a_404(frozen):
    r = frozen.post("/__mock/scenarios", json={"name": "no-such-thing"})
    assert r.status_code == 404 and "named:" in r.json()["error"]["message"]


def test_steps_fire_once_in_order_across_two_servers(make_server, store_kind, store_url):
    if store_kind != "redis":
        pytest.skip("two servers share state only through Redis")
    url = store_url()
    one, two = make_server(store=url), make_server(store=url)
    steps = [
        {"at_seconds": 10 * (i + 1), "method": "POST", "path": "/__mock/faults",
         "body": {"api": "statusbadge", "status": 500 + i, "times": 1}}
        for i in range(6)
    ]  # fmt: skip
    with httpx.Client(base_url=one.url) as a, httpx.Client(base_url=two.url) as b:
        a.post("/__mock/reset").raise_for_status()
        a.post("/__mock/clock/set", json={"now": "2026-04-08T21:35:00Z", "frozen": True})
        start(b, {"name": "many", "steps": steps})
        a.post("/__mock/clock/advance", json={"seconds": 100}).raise_for_status()
        seen = [beat(a if i % 2 else b) for i in range(8)]
        run = b.get("/__mock/scenarios").json()["scenarios"][0]
        faults = a.get("/__mock/faults").json()["faults"]
    assert seen == [500, 501, 502, 503, 504, 505, 200, 200]
    assert [s["state"] for s in run["steps"]] == ["done"] * 6
    assert faults == []  # six rules, each made once and used once


def test_the_report_shows_each_fault_and_scenario_step(frozen):
    start(frozen, OUTAGE)
    advance(frozen, 60)
    beat(frozen), beat(frozen)
    advance(frozen, 240)
    beat(frozen)
    report = frozen.get("/__mock/report").json()
    faults = report["apis"]["statusbadge"]["faults"]
    assert [(f["requests"], f["scenario"]["step"]) for f in faults] == [(2, 0), (1, 1)]
    assert faults[0]["first"].startswith("2026-04-08T21:36:00")
    steps = report["scenarios"][0]["steps"]
    assert [(s["due_at"], s["state"]) for s in steps] == [
        ("2026-04-08T21:36:00Z", "done"),
        ("2026-04-08T21:40:00Z", "done"),
    ]
    text = frozen.get("/__mock/report?format=text").text
    assert "(scenario outage step 0): 2 requests" in text
    assert "2026-04-08T21:40:00Z POST /__mock/faults: done -> 201" in text


def test_a_step_fired_late_can_pin_its_window_to_its_due_time(frozen):
    """The clock jumps from 0 to 100 past a step due at 60: `${due}` still puts the outage at
    60-180 on the scenario's timeline, where for_seconds would count from 100."""
    start(frozen, {"name": "pinned", "steps": [
        {"at_seconds": 60, "method": "POST", "path": "/__mock/faults",
         "body": {"api": "statusbadge", "status": 503, "from": "${due}", "until": "${due+120}"}},
    ]})  # fmt: skip
    advance(frozen, 100)
    assert beat(frozen) == 503
    advance(frozen, 79)
    assert beat(frozen) == 503
    advance(frozen, 1)
    assert beat(frozen) == 200
    (fault,) = frozen.get("/__mock/faults").json()["faults"]
    assert fault["window"]["from"] == "2026-04-08T21:36:00Z"
