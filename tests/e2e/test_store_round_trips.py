"""What one heartbeat asks of the store (issue 16): the journal's write is one Redis round trip,
counted with redis-server's MONITOR; no scenario read when none can be pending (memory store)."""

from __future__ import annotations

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


def _monitored(url: str, send) -> list[str]:
    """The commands Redis received (top level: not those a script ran) while `send()` ran."""
    client = redis.Redis.from_url(split_prefix(url)[0], decode_responses=True)
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
        redis.Redis.from_url(split_prefix(url)[0]).get(MARK)
        thread.join(10)
        client.close()
    return seen


def test_a_journaled_heartbeat_writes_the_journal_in_one_redis_command(store_kind, store_url):
    if store_kind != "redis":
        pytest.skip("counts Redis commands")
    url = store_url()
    with BackgroundServer(test_settings(store=url)) as server, httpx.Client() as http:
        beat = server.url + "/api/heartbeat"
        assert http.post(beat, json=BODY).status_code == 200  # scripts loaded
        seen = _monitored(url, lambda: http.post(beat, json=BODY).raise_for_status())
        journal = [c for c in seen if "journal" in c]
        assert len(journal) == 1, seen
        assert journal[0].startswith("EVALSHA ")
        entries = http.get(server.url + "/__mock/requests").json()["requests"]
        assert [e["id"] for e in entries] == [1, 2]


def test_a_servers_next_heartbeat_updates_its_record_in_one_redis_command(store_kind, store_url):
    """The worker remembers what it wrote: no read before the compare-and-set."""
    if store_kind != "redis":
        pytest.skip("counts Redis commands")
    url = store_url()
    with BackgroundServer(test_settings(store=url)) as server, httpx.Client() as http:
        beat = server.url + "/api/heartbeat"
        assert http.post(beat, json=BODY).status_code == 200
        seen = _monitored(url, lambda: http.post(beat, json=BODY).raise_for_status())
        record = [c for c in seen if "statusbadge:servers" in c]
        assert len(record) == 1 and record[0].startswith("EVALSHA "), seen
        status = http.get(server.url + "/__mock/statusbadge/servers").json()
        assert status, status


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
