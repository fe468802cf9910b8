"""A request's reads made together before its engine (issue 16; mockserver/http/gate.py
`_begin`, mockserver/core/clock.py "One read per request") are as fresh as reads made where
they are used: a change by any worker before a request begins is in force for it, a request
that waits sees the clock as it is after the wait, and what a scenario step the request fires
changes (a fault, the clock, a reset) is in force for that very request. Each test runs on both
stores; on Redis, "another worker" is a second mock on the same Redis."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest
import redis

from mockserver.core.clock import parse_iso
from tests.conftest import seed_body

pytestmark = pytest.mark.e2e

RECORD = ("_clock", "state")  # the clock's record (mockserver/core/clock.py)
BEAT = "/api/heartbeat"
PUBLIC_ID = "srv_pub_a3a9e1ed9732"  # of seed_body("statusbadge")'s token
T0 = "2030-01-01T00:00:00Z"
START = parse_iso(T0)


@pytest.fixture
def workers(make_server, store_kind, store_url):
    """(one, other): two workers on one Redis; on the memory store the one mock twice."""
    url = store_url()
    one = make_server(store=url)
    other = make_server(store=url) if store_kind == "redis" else one
    clients = [httpx.Client(base_url=s.url, timeout=30) for s in (one, other)]
    clients[0].post("/__mock/reset").raise_for_status()
    clients[0].post("/__mock/clock/set", json={"now": T0, "frozen": True}).raise_for_status()
    yield one, clients[0], clients[1]
    for client in clients:
        client.close()


def last_heartbeat(http: httpx.Client) -> float:
    """The time the handler stamped on the server's record (its own clock read)."""
    return parse_iso(http.get(f"/__mock/statusbadge/servers/{PUBLIC_ID}").json()["lastHeartbeat"])


def journal_at(http: httpx.Client) -> float:
    """The time the gate stamped on the request's journal entry (read before the engine)."""
    entries = http.get("/__mock/requests", params={"api": "statusbadge"}).json()["requests"]
    return parse_iso(entries[-1]["at"])


def move_clock_quietly(server, epoch: float) -> None:
    """Freeze the clock at `epoch` by writing its record in the store, not through the control
    API (which would fire the due scenario steps itself): the next request fires them."""
    store = server.app.ctx.store
    record = {"offset": 0.0, "frozen_at": epoch}
    if store.kind == "memory":
        asyncio.run(store.put(*RECORD, record))  # the memory store never awaits: no loop needed
        return
    client = redis.Redis.from_url(store.where)
    try:
        client.hset(f"{store.prefix}h:{RECORD[0]}", RECORD[1], json.dumps(record))
    finally:
        client.close()


def start_step(http: httpx.Client, path: str, body: dict | None = None) -> None:
    step = {"at_seconds": 60, "method": "POST", "path": path}
    if body is not None:
        step["body"] = body
    answer = http.post("/__mock/scenarios", json={"name": "s", "steps": [step]})
    assert answer.status_code == 201, answer.text


def test_a_clock_moved_by_another_worker_is_the_next_requests_time(workers):
    _, one, other = workers
    other.post("/__mock/clock/advance", json={"seconds": 3600}).raise_for_status()
    assert one.post(BEAT, json=seed_body("statusbadge")).status_code == 200
    assert journal_at(one) == last_heartbeat(one) == START + 3600


def test_settings_changed_by_another_worker_hold_for_the_next_request(workers):
    _, one, other = workers
    headers = {"Authorization": "Bearer k"}
    path = "/v2/general/servers/1/heartbeat"
    assert one.post(path, json={"playerCount": 1}, headers=headers).status_code == 200
    other.patch("/__mock/settings/sonoran", json={"rate_limit_per_minute": 1}).raise_for_status()
    assert one.post(path, json={"playerCount": 1}, headers=headers).status_code == 429


def test_a_fault_added_by_another_worker_applies_to_the_next_request(workers):
    _, one, other = workers
    fault = {"api": "statusbadge", "status": 503, "times": 1}
    assert other.post("/__mock/faults", json=fault).status_code == 201
    assert one.post(BEAT, json=seed_body("statusbadge")).status_code == 503
    assert one.post(BEAT, json=seed_body("statusbadge")).status_code == 200


def test_a_request_that_waits_sees_the_clock_moved_while_it_waited(workers):
    """Its journal entry keeps the time it began; its handler stamps the time after the wait,
    as a handler that read the clock itself did (here the move is made by another worker)."""
    _, one, other = workers
    fault = {"api": "statusbadge", "delay_ms": 4000, "times": 1}
    assert other.post("/__mock/faults", json=fault).status_code == 201
    answers: list[int] = []
    sender = threading.Thread(
        target=lambda: answers.append(one.post(BEAT, json=seed_body("statusbadge")).status_code)
    )
    sender.start()
    try:
        for _ in range(400):  # bounded: until the request took the rule (its last use)
            if not other.get("/__mock/faults").json()["faults"]:
                break
            threading.Event().wait(0.01)
        else:
            pytest.fail("the request never took the fault")
        other.post("/__mock/clock/advance", json={"seconds": 86400}).raise_for_status()
    finally:
        sender.join(30)
    assert answers == [200]
    assert journal_at(one) == START
    assert last_heartbeat(one) == START + 86400


def test_a_fault_a_scenario_step_adds_applies_to_the_request_that_fired_it(workers):
    server, one, _ = workers
    start_step(one, "/__mock/faults", {"api": "statusbadge", "status": 503, "times": 1})
    move_clock_quietly(server, START + 61)
    assert one.post(BEAT, json=seed_body("statusbadge")).status_code == 503
    steps = one.get("/__mock/scenarios").json()["scenarios"][0]["steps"]
    assert [s["state"] for s in steps] == ["done"]


def test_a_clock_move_a_scenario_step_makes_is_the_time_of_the_request_that_fired_it(workers):
    """The gate's journal entry has the time the request began (the step was not due before);
    the handler, which runs after the step, stamps the moved time."""
    server, one, _ = workers
    start_step(one, "/__mock/clock/advance", {"seconds": 3600})
    move_clock_quietly(server, START + 61)
    assert one.post(BEAT, json=seed_body("statusbadge")).status_code == 200
    assert journal_at(one) == START + 61
    assert last_heartbeat(one) == START + 61 + 3600


def test_a_reset_a_scenario_step_makes_is_in_force_for_the_request_that_fired_it(workers):
    """The reset puts the clock back to real time, and the handler stamps real time."""
    server, one, _ = workers
    start_step(one, "/__mock/reset")
    move_clock_quietly(server, START + 61)
    assert one.post(BEAT, json=seed_body("statusbadge")).status_code == 200
    assert last_heartbeat(one) < START, "the handler kept the clock of before the reset"
