"""Control events on the mock clock (mockserver.events, issue 20): clock moves, fault rules and
scenarios are recorded in the store, shown by `GET /__mock/events` and the JSON report, and
drawn in the HTML report (a clock jump as a labelled break, a fault window as a band)."""

from __future__ import annotations

import asyncio

import httpx

from mockserver.core.clock import parse_iso
from mockserver.events import Events
from mockserver.store.memory import MemoryStore
from tests.api.test_report_html import TOKEN, advance, badge, html_report


def events(http, kinds=None, **params) -> list[dict]:
    r = http.get("/__mock/events", params=params)
    assert r.status_code == 200, r.text
    found = r.json()["events"]
    return [e for e in found if kinds is None or e["kind"] in kinds]


def test_clock_moves_are_recorded_on_the_mock_clock(http):
    http.post("/__mock/clock/freeze")
    before = http.get("/__mock/clock").json()["epoch"]
    advance(http, 250)
    http.post("/__mock/clock/set", json={"now": "2030-01-01T00:00:00Z"})
    http.post("/__mock/clock/unfreeze")
    kinds = ("clock.freeze", "clock.advance", "clock.set", "clock.unfreeze")
    freeze, jump, moved, unfreeze = events(http, kinds)
    assert [e["kind"] for e in (freeze, jump, moved, unfreeze)] == list(kinds)
    assert jump["epoch"] == before and jump["to"] == before + 250 and jump["seconds"] == 250
    assert moved["epoch"] == before + 250 and moved["to"] == parse_iso("2030-01-01T00:00:00Z")
    assert moved["at"].startswith(jump["at"][:4]) and jump["api"] is None
    ids = [e["id"] for e in events(http)]
    assert ids == sorted(ids)


def test_a_rejected_clock_move_records_nothing(http):
    n = len(events(http))
    assert http.post("/__mock/clock/advance", json={"seconds": 1e300}).status_code == 400
    assert http.post("/__mock/clock/set", json={"now": "nope"}).status_code == 400
    assert len(events(http)) == n


def test_fault_rules_are_recorded_added_removed_and_used_up(http):
    http.post("/__mock/clock/freeze")
    one = http.post("/__mock/faults", json={"api": "statusbadge", "status": 503, "times": 1})
    two = http.post("/__mock/faults", json={"api": "statusbadge", "drop": True, "for_seconds": 60})
    assert badge(http).status_code == 503  # fault-1's only use
    advance(http, 10)
    assert http.delete(f"/__mock/faults/{two.json()['id']}").status_code == 204
    found = events(http, ("fault.added", "fault.removed", "fault.expired"), api="statusbadge")
    assert [(e["kind"], e["fault"]["id"]) for e in found] == [
        ("fault.added", one.json()["id"]),
        ("fault.added", two.json()["id"]),
        ("fault.expired", one.json()["id"]),
        ("fault.removed", two.json()["id"]),
    ]
    added = found[1]["fault"]
    assert added["drop"] is True and added["window"]["end"] == found[1]["epoch"] + 60
    assert found[2]["fault"]["reason"] == "times" and found[3]["epoch"] == found[1]["epoch"] + 10
    assert all(e["api"] == "statusbadge" for e in found)


def test_clearing_faults_records_each_removal(http):
    for status in (500, 502):
        http.post("/__mock/faults", json={"api": "sonoran", "status": status})
    assert http.delete("/__mock/faults").status_code == 204
    assert len(events(http, ("fault.removed",))) == 2
    assert http.delete("/__mock/faults/fault-404").status_code == 404
    assert len(events(http, ("fault.removed",))) == 2


def test_scenarios_started_and_stopped_are_recorded(http):
    step = {"at_seconds": 0, "method": "POST", "path": "/__mock/clock/advance"}
    spec = {"name": "jump", "steps": [{**step, "body": {"seconds": 30}}]}
    assert http.post("/__mock/scenarios", json=spec).status_code == 201
    assert http.delete("/__mock/scenarios/jump").status_code == 204
    found = events(http, ("scenario.started", "clock.advance", "scenario.stopped"))
    assert [e["kind"] for e in found] == ["clock.advance", "scenario.started", "scenario.stopped"]
    assert found[0]["seconds"] >= 30 and found[1]["name"] == "jump"


def test_reset_forgets_events_with_the_journal(http):
    http.post("/__mock/faults", json={"api": "statusbadge", "status": 503})
    advance(http, 5)
    assert http.post("/__mock/reset", params={"api": "statusbadge"}).status_code == 200
    assert [e["kind"] for e in events(http, api="statusbadge") if e["api"]] == ["reset"]
    assert events(http, ("clock.advance",))  # the mock's own stay until a full reset
    assert http.post("/__mock/reset").status_code == 200
    assert [e["kind"] for e in events(http)] == ["clock.reset"]


def test_the_json_report_carries_the_events(http):
    advance(http, 250)
    badge(http)
    report = http.get("/__mock/report").json()
    assert [e["kind"] for e in report["events"]][-1] == "clock.advance"
    assert http.get("/__mock/events", params={"api": "nope"}).status_code == 404


def test_events_are_shared_by_servers_on_one_redis_store(make_server, store_kind):
    """Two servers on one store (as `--workers 2` or two hosts share Redis) see one history."""
    if store_kind != "redis":
        return  # a memory store is one process's
    first = make_server()
    second = make_server(store=first.settings.store)
    with httpx.Client(base_url=first.url) as a, httpx.Client(base_url=second.url) as b:
        a.post("/__mock/reset")
        advance(a, 250)
        b.post("/__mock/faults", json={"api": "statusbadge", "status": 503, "times": 1})
        b.post("/api/heartbeat", json={"token": TOKEN, "data": {"status": "online"}})
        kinds = [e["kind"] for e in events(a)]
    assert kinds == ["clock.reset", "clock.advance", "fault.added", "fault.expired"]


def test_each_event_log_keeps_only_its_newest_events():
    async def run() -> list[dict]:
        log = Events(MemoryStore(), ["x"], cap=3)
        for i in range(5):
            await log.record("clock.advance", float(i), to=i + 1.0, seconds=1.0)
            await log.record("fault.removed", float(i), api="x", fault={"id": f"f{i}"})
        return await log.list()

    kept = asyncio.run(run())
    assert len(kept) == 6 and [e["epoch"] for e in kept] == [2, 2, 3, 3, 4, 4]


def test_a_clock_jump_is_a_labelled_break_on_the_axis(http):
    http.post("/__mock/clock/freeze")
    badge(http)
    advance(http, 250)
    badge(http)
    doc = html_report(http)
    breaks = doc.having("jump")
    assert [b["data-label"] for b in breaks] == ["clock +250 s"] * 2  # the strip and the row
    assert any(t == "clock +250 s" for t in doc.text)
    x0, width = float(breaks[0]["x"]), float(breaks[0]["width"])
    assert x0 == 0 and abs(width - 720) < 0.1  # the whole axis: 250 s skipped of 250 s


def test_a_clock_set_back_is_a_marked_line(http):
    http.post("/__mock/clock/set", json={"now": "2030-01-01T00:10:00Z", "frozen": True})
    badge(http)
    http.post("/__mock/clock/set", json={"now": "2030-01-01T00:05:00Z", "frozen": True})
    badge(http)
    advance(http, 600)
    (strip, row) = [b for b in html_report(http).having("jump") if "back" in b["class"]]
    assert strip["data-label"] == "clock -300 s"


def test_a_fault_window_is_a_band_labelled_with_the_fault(http):
    http.post("/__mock/clock/freeze")
    badge(http)
    rule = {"api": "statusbadge", "status": 503, "operation": "statusbadge_heartbeat"}
    fault = http.post("/__mock/faults", json={**rule, "after_seconds": 30, "for_seconds": 60})
    assert fault.status_code == 201
    advance(http, 40)
    assert badge(http).status_code == 503
    advance(http, 60)
    badge(http)
    doc = html_report(http)
    bands = doc.having("fault-window")
    assert len(bands) == 2
    label = "fault-1: 503 on statusbadge_heartbeat"
    assert all(b["data-label"] == label and b["data-fault"] == "fault-1" for b in bands)
    x0, width = float(bands[0]["x"]), float(bands[0]["width"])
    assert abs(x0 - 720 * 30 / 100) < 0.1 and abs(width - 720 * 60 / 100) < 0.1
    assert any(label in t for t in doc.text)


def test_a_5xx_answer_is_a_mark_coloured_for_its_status(http):
    """The gate names the client of a 5xx answer too (a 503 fault or the API's own 500)."""
    for status in (503, 500):
        http.post("/__mock/faults", json={"api": "statusbadge", "status": status, "times": 1})
        assert badge(http).status_code == status
    marks = html_report(http).having("mark")
    assert [(m["data-status"], m["class"]) for m in marks] == [
        ("503", "mark s5xx fault"),
        ("500", "mark s5xx fault"),
    ]


def test_a_jump_before_the_first_heartbeat_is_not_drawn(http):
    http.post("/__mock/clock/freeze")
    advance(http, 250)
    badge(http)
    doc = html_report(http)
    assert doc.having("jump") == [] and doc.having("eventrow") == []
    assert not any("clock +250 s" in t for t in doc.text)


def test_restoring_a_snapshot_records_the_clock_move(http):
    http.post("/__mock/clock/set", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
    snapshot = http.get("/__mock/state").json()
    advance(http, 600)
    assert http.put("/__mock/state", json=snapshot).status_code == 200
    (moved,) = [e for e in events(http, ("clock.set",)) if e.get("restore")]
    assert moved["seconds"] == -600 and moved["to"] == parse_iso("2030-01-01T00:00:00Z")
    assert http.put("/__mock/state", json={"format": 99}).status_code == 400
    assert len([e for e in events(http, ("clock.set",)) if e.get("restore")]) == 1


def test_a_heartbeat_row_draws_back_to_back_jumps_as_one_break(http):
    """The strip keeps each jump; each client's row merges adjacent ones (bounded size)."""
    http.post("/__mock/clock/freeze")
    badge(http)
    for _ in range(5):
        advance(http, 50)
    badge(http)
    doc = html_report(http)
    labels = [b["data-label"] for b in doc.having("jump")]
    assert labels == ["clock +50 s"] * 5 + ["clock +250 s in 5 jumps"]
