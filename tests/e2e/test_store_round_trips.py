"""What one heartbeat asks of the store (issue 16), counted with redis-server's MONITOR: the
reads before the engine (runtime settings, clock, scenarios, faults) are one round trip, the
handler's clock read none, the record's update one and the journal's write one; no scenario read
when none can be pending (memory store)."""

from __future__ import annotations

import base64
import threading

import httpx
import pytest
import redis

from mockserver.server import BackgroundServer
from mockserver.store.redis import split_prefix
from tests.conftest import test_settings

BODY = {
    "token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
    "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"},
}
MARK = "round-trips-test-done"

_JSON = {"Content-Type": "application/json", "Accept": "application/json"}
# Each API's heartbeat: (method, path, headers, body), and the commands its own handler sends
# besides the record's update, by what they start with or touch (mockserver/apis/ sends them).
HEARTBEATS = {
    "statusbadge": ("POST", "/api/heartbeat", _JSON, BODY, []),
    "sonoran": (
        "POST",
        "/v2/general/servers/1/heartbeat",
        {**_JSON, "Authorization": "Bearer k"},
        {"playerCount": 42},
        ["sonoran:windows"],  # its documented rate limit's window (off: 3 commands in all)
    ),
    "collect": (
        "POST",
        "/api/systems/heartbeat",
        {**_JSON, "Authorization": "Basic " + base64.b64encode(b"u:p").decode()},
        {"system_id": "4cf3053f-d0d5-4b10-b752-ff8f7b63c2f7"},
        ["HGET collect:external_errors"],  # whether an external API error is armed
    ),
    "lucit": (
        "POST",
        "/api/v3/analytics/lightning-devices/LCUID-LD-x/heartbeat",
        {
            **_JSON,
            "Authorization": "Bearer k",
            "AppIdV3": "LCUID-LAP-" + "0" * 8 + "-0000" * 3 + "-" + "0" * 12,
        },
        {"lightning_version": "1.0"},
        [],
    ),
    "playwave": (
        "PATCH",
        "/v1/game/session/heartbeat",
        {**_JSON, "X-Api-Key": "k"},
        None,  # a session seeded first
        ["HGET playwave:s", "HGET playwave:pc"],  # the session, then its PC's record
    ),
}


def _playwave_body(http: httpx.Client, base: str) -> dict:
    seeded = http.post(
        base + "/__mock/playwave/sessions",
        json={"provider_user_id": "1"},
        headers={"X-Api-Key": "k"},
    )
    assert seeded.status_code == 201, seeded.text
    return {"game_session_id": seeded.json()["game_session_id"], "provider_user_id": "1"}


@pytest.mark.parametrize("api", list(HEARTBEATS))
def test_a_heartbeat_is_one_round_trip_of_reads_then_the_apis_own_then_the_journal(
    api, store_kind, store_url
):
    """Issue 16: settings, clock, scenarios and faults in one EVALSHA; the handler's clock read
    costs none; then what the API's handler itself sends (the record's compare-and-set, and
    for two APIs a read of their own); then the journal's EVALSHA. Three commands in all for
    statusbadge, sonoran and lucit."""
    if store_kind != "redis":
        pytest.skip("counts Redis commands")
    method, path, headers, body, own = HEARTBEATS[api]
    url = store_url()
    prefix = split_prefix(url)[1]
    with BackgroundServer(test_settings(store=url)) as server, httpx.Client() as http:
        if body is None:
            body = _playwave_body(http, server.url)

        def beat() -> None:
            answer = http.request(method, server.url + path, headers=headers, json=body)
            assert answer.status_code == 200, answer.text

        beat()  # scripts loaded, the first clean-up done, the record remembered
        beat()
        seen = [
            c.replace(prefix + "h:", "").replace(prefix + "z:", "") for c in _monitored(url, beat)
        ]
    reads, *middle, journal = seen
    assert reads.startswith("EVALSHA ") and "_clock" in reads and f"{api}:faults" in reads, seen
    assert "_settings" in reads and "_scenarios" in reads, seen  # a shared store: read each time
    assert journal.startswith("EVALSHA ") and f"{api}:journal" in journal, seen
    assert not [c for c in seen[1:] if "_clock" in c or "_settings" in c], seen
    assert len(middle) == 1 + len(own), seen  # the API's own commands and its record's update
    for command in own:
        assert len([c for c in middle if c.startswith(command) or f" {command} " in c]) == 1, seen
    if not own:
        assert len(seen) == 3, seen


def _monitored(url: str, send) -> list[str]:
    """The commands Redis received (top level: not those a script ran) while `send()` ran."""
    client = redis.Redis.from_url(split_prefix(url)[0], decode_responses=True)
    marker = redis.Redis.from_url(split_prefix(url)[0])
    marker.ping()  # its connection's handshake is made now, not seen below
    seen: list[str] = []
    listening = threading.Event()

    def listen() -> None:
        with client.monitor() as monitor:
            listening.set()  # redis-py has read MONITOR's OK: every later command is seen
            for _ in range(10_000):  # bounded
                info = monitor.next_command()
                if MARK in info["command"]:
                    return
                if info.get("client_type") != "lua":
                    seen.append(info["command"])

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert listening.wait(10)
    try:
        send()
    finally:
        marker.get(MARK)
        thread.join(10)
        client.close()
        marker.close()
    return seen


def _second_heartbeat(store_kind: str, store_url) -> tuple[list[str], dict]:
    """The commands Redis received for a statusbadge heartbeat after a first one (its scripts
    loaded), and what the journal and the servers' inspection route say afterwards."""
    if store_kind != "redis":
        pytest.skip("counts Redis commands")
    url = store_url()
    with BackgroundServer(test_settings(store=url)) as server, httpx.Client() as http:
        beat = server.url + "/api/heartbeat"
        assert http.post(beat, json=BODY).status_code == 200  # scripts loaded
        seen = _monitored(url, lambda: http.post(beat, json=BODY).raise_for_status())
        after = {
            "requests": http.get(server.url + "/__mock/requests").json()["requests"],
            "servers": http.get(server.url + "/__mock/statusbadge/servers").json(),
        }
    return seen, after


def test_a_journaled_heartbeat_writes_the_journal_in_one_redis_command(store_kind, store_url):
    seen, after = _second_heartbeat(store_kind, store_url)
    journal = [c for c in seen if "journal" in c]
    assert len(journal) == 1, seen
    assert journal[0].startswith("EVALSHA ")
    assert [e["id"] for e in after["requests"]] == [1, 2]


def test_a_servers_next_heartbeat_updates_its_record_in_one_redis_command(store_kind, store_url):
    """The worker remembers what it wrote: no read before the compare-and-set."""
    seen, after = _second_heartbeat(store_kind, store_url)
    record = [c for c in seen if "statusbadge:servers" in c]
    assert len(record) == 1 and record[0].startswith("EVALSHA "), seen
    assert after["servers"], after["servers"]


def test_a_heartbeat_reads_no_scenario_when_none_can_be_pending(store_kind, store_url):
    if store_kind != "memory":
        pytest.skip("a shared store is read every time: another worker may start one")
    with BackgroundServer(test_settings(store=store_url())) as server, httpx.Client() as http:
        reads: list[str] = []
        store = server.app.ctx.store
        scan = store.scan

        async def counted(ns):
            reads.append(ns)
            return await scan(ns)

        store.scan = counted
        base = server.url

        def beat_reads() -> int:
            reads.clear()
            assert http.post(base + "/api/heartbeat", json=BODY).status_code == 200
            return reads.count("_scenarios")

        assert beat_reads() == 1  # a fresh mock does not know yet
        assert beat_reads() == 0
        http.post(base + "/__mock/clock/freeze").raise_for_status()
        step = {"at_seconds": 60, "method": "POST", "path": "/__mock/clock/unfreeze"}
        started = http.post(base + "/__mock/scenarios", json={"name": "s", "steps": [step]})
        assert started.status_code == 201, started.text
        assert beat_reads() == 1  # a step is pending: looked at on every request
        assert beat_reads() == 1
        http.post(base + "/__mock/clock/advance", json={"seconds": 61}).raise_for_status()
        runs = http.get(base + "/__mock/scenarios").json()["scenarios"]
        assert [s["state"] for s in runs[0]["steps"]] == ["done"]
        assert beat_reads() == 0  # all done: nothing until the next start
