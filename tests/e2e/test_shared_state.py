"""Several workers behave as one mock (issue 10): `mockserver serve --workers 2` on a real
redis-server, driven over real HTTP with many parallel requests.

Each test uses connections pinned to known workers (tests/multiworker.py), so "written through
one worker, read through the other" is a fact the test checks, not a hope.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mockserver.server import BackgroundServer
from mockserver.settings import Settings
from tests.conftest import drop_prefix, redis_url
from tests.multiworker import Conn, WorkerServer, pinned_connections

pytestmark = pytest.mark.e2e

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
PUBLIC_ID = "srv_pub_a3a9e1ed9732"
BODY = {
    "token": TOKEN,
    "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"},
}
PER_WORKER = 6  # pinned connections on each worker; one thread each


@pytest.fixture(scope="module")
def shared(redis_server):
    """Two workers on one Redis, for this module."""
    url = redis_url(redis_server)
    with WorkerServer("--store", url, "--validate-responses", workers=2) as server:
        yield server
    drop_prefix(redis_server, url)


@pytest.fixture
def conns(shared):
    """Pinned connections alternating between the two workers, on a freshly reset mock."""
    pinned = pinned_connections(shared, PER_WORKER)
    status, _ = pinned[0].request("POST", "/__mock/reset")
    assert status == 200
    yield pinned
    for conn in pinned:
        conn.close()


def on_workers(conns: list[Conn]) -> tuple[Conn, Conn]:
    first, second = conns[0], conns[1]
    assert first.worker != second.worker
    return first, second


def in_parallel(conns: list[Conn], per_conn: int, request: Callable[[Conn, int], tuple]) -> list:
    """Every connection sends `per_conn` requests from its own thread, all starting together.
    Returns (status, body, worker pid, i) for each request."""
    barrier = threading.Barrier(len(conns))

    def run(conn: Conn) -> list:
        barrier.wait()
        return [(*conn.request(*request(conn, i)), conn.worker, i) for i in range(per_conn)]

    with ThreadPoolExecutor(len(conns)) as pool:
        futures = [pool.submit(run, conn) for conn in conns]
        return [r for f in futures for r in f.result()]


def test_the_clock_moved_through_one_worker_is_the_clock_of_all(conns):
    first, second = on_workers(conns)
    first.request("POST", "/__mock/clock/set", {"now": "2031-05-06T07:08:09Z", "frozen": True})
    _, clock = second.request("GET", "/__mock/clock")
    assert clock["frozen"] is True and clock["now"].startswith("2031-05-06T07:08:09")
    second.request("POST", "/__mock/clock/advance", {"seconds": 3600})
    _, clock = first.request("GET", "/__mock/clock")
    assert clock["now"].startswith("2031-05-06T08:08:09")


def test_expiry_follows_the_clock_moved_through_another_worker(conns):
    first, second = on_workers(conns)
    first.request("POST", "/__mock/clock/freeze")
    assert first.request("POST", "/api/heartbeat", BODY)[0] == 200
    second.request("POST", "/__mock/clock/advance", {"seconds": 301})  # 004: KV TTL 300 s
    assert first.request("GET", f"/api/status/{PUBLIC_ID}")[0] == 404


def test_a_heartbeat_through_one_worker_is_the_status_on_the_other(conns):
    first, second = on_workers(conns)
    assert first.request("POST", "/api/heartbeat", BODY)[0] == 200
    status, body = second.request("GET", f"/api/status/{PUBLIC_ID}")
    assert status == 200 and body["online"] is True and body["data"]["players"] == 1


def test_parallel_heartbeats_on_all_workers_are_each_counted_once(conns):
    results = in_parallel(conns, 10, lambda conn, i: ("POST", "/api/heartbeat", BODY))
    assert Counter(status for status, *_ in results) == {200: len(conns) * 10}
    assert len({worker for _, _, worker, _ in results}) == 2
    status, server = conns[0].request("GET", f"/__mock/statusbadge/servers/{PUBLIC_ID}")
    assert status == 200 and server["heartbeats"] == len(conns) * 10


def test_a_fault_with_times_1_fires_exactly_once_across_workers(conns):
    first, second = on_workers(conns)
    status, fault = first.request(
        "POST", "/__mock/faults", {"api": "statusbadge", "status": 503, "times": 1}
    )
    assert status == 201
    results = in_parallel(conns, 5, lambda conn, i: ("POST", "/api/heartbeat", BODY))
    assert Counter(status for status, *_ in results) == {200: len(conns) * 5 - 1, 503: 1}
    _, journal = second.request("GET", "/__mock/requests?api=statusbadge")
    assert [e["fault"]["id"] for e in journal["requests"] if e["fault"]] == [fault["id"]]
    assert second.request("GET", "/__mock/faults")[1]["faults"] == []


def test_the_journal_of_every_worker_is_one_journal(conns):
    results = in_parallel(conns, 5, lambda conn, i: ("POST", "/api/heartbeat", BODY))
    _, journal = conns[1].request("GET", "/__mock/requests?api=statusbadge")
    ids = [entry["id"] for entry in journal["requests"]]
    assert len(ids) == len(results) == len(set(ids))


def test_a_reset_through_one_worker_forgets_for_all_the_clock_included(conns):
    first, second = on_workers(conns)
    first.request("POST", "/__mock/clock/set", {"now": "2031-05-06T07:08:09Z", "frozen": True})
    first.request("POST", "/api/heartbeat", BODY)
    second.request("POST", "/__mock/reset")
    assert first.request("GET", "/__mock/requests")[1]["count"] == 0
    assert first.request("GET", f"/api/status/{PUBLIC_ID}")[0] == 404
    _, clock = first.request("GET", "/__mock/clock")
    assert clock["frozen"] is False and clock["offset_seconds"] == 0


def test_no_redis_key_of_the_mock_carries_a_ttl(shared, conns, redis_server):
    """Expiry follows the mock clock, which Redis can't see: the mock purges, Redis never."""
    conns[0].request("POST", "/api/heartbeat", BODY)
    conns[1].request("POST", SONORAN, {"playerCount": 1}, {"Authorization": "Bearer KEY_ONE"})
    prefix = shared.cmd[shared.cmd.index("--store") + 1].rsplit("prefix=", 1)[1]
    client = redis_server.client()
    try:
        keys = list(client.scan_iter(match=prefix + "*"))
        assert len(keys) >= 4  # records and journals of two APIs, the clock
        assert {key: client.ttl(key) for key in keys} == {key: -1 for key in keys}
    finally:
        client.close()


# --- sonoran (000): "10 requests per minute", per API key ------------------------------------

SONORAN = "/v2/general/servers/1/heartbeat"


def test_exactly_10_sonoran_heartbeats_per_key_pass_per_window_across_workers(conns):
    keys = ["KEY_ONE", "KEY_TWO"]
    conns[0].request("POST", "/__mock/clock/set", {"now": "2026-04-08T21:35:00Z", "frozen": True})

    def heartbeat(conn, i):
        key = keys[i % 2]
        return "POST", SONORAN, {"playerCount": i}, {"Authorization": f"Bearer {key}"}

    for window in (1, 2):
        results = in_parallel(conns, 8, heartbeat)  # 48 per key, on both workers at once
        passed = Counter(keys[i % 2] for status, _, _, i in results if status == 200)
        assert Counter(status for status, *_ in results) == {200: 20, 429: len(results) - 20}
        assert passed == {"KEY_ONE": 10, "KEY_TWO": 10}
        _, listing = conns[1].request("GET", "/__mock/sonoran/servers")
        assert [s["heartbeats"] for s in listing["servers"]] == [10 * window, 10 * window]
        conns[1].request("POST", "/__mock/clock/advance", {"seconds": 60})  # the next window


# --- playwave (002): a new session on a PC replaces the old one ------------------------------

PLAYWAVE = "/v1/game/session/heartbeat"
PW_USER, PW_KEY = "123456789", "game-key-1"


def playwave_beat(conn: Conn, sid: str) -> str:
    status, body = conn.request(
        "PATCH",
        PLAYWAVE,
        {"game_session_id": sid, "provider_user_id": PW_USER},
        {"X-Api-Key": PW_KEY},
    )
    assert status == 200, body
    return body["data"]["result"]


def playwave_request(sid: str) -> tuple:
    body = {"game_session_id": sid, "provider_user_id": PW_USER}
    return "PATCH", PLAYWAVE, body, {"X-Api-Key": PW_KEY}


def test_a_replaced_playwave_session_is_replaced_on_every_worker(conns):
    first, second = on_workers(conns)
    first.request("POST", "/__mock/clock/freeze")
    new_session = {"provider_user_id": PW_USER, "pc_id": "pc-7"}
    old = first.request("POST", "/__mock/playwave/sessions", new_session)[1]["game_session_id"]
    assert [playwave_beat(c, old) for c in (first, second)] == ["OK", "OK"]
    new = second.request("POST", "/__mock/playwave/sessions", new_session)[1]["game_session_id"]

    results = in_parallel(conns, 6, lambda conn, i: playwave_request((old, new)[i % 2]))
    by_session = {old: set(), new: set()}
    for status, body, worker, i in results:
        assert status == 200
        by_session[(old, new)[i % 2]].add((body["data"]["result"], worker))
    workers = {conn.worker for conn in conns}
    assert by_session == {
        old: {("SESSION_REPLACED", w) for w in workers},
        new: {("OK", w) for w in workers},
    }


def test_of_playwave_sessions_created_at_once_on_one_pc_exactly_one_stays_on_every_worker(conns):
    first, second = on_workers(conns)
    first.request("POST", "/__mock/clock/freeze")
    new_session = {"provider_user_id": PW_USER, "pc_id": "pc-7"}
    created = in_parallel(
        conns, 2, lambda conn, i: ("POST", "/__mock/playwave/sessions", new_session)
    )
    sessions = [body["game_session_id"] for status, body, _, _ in created if status == 201]
    assert len(sessions) == len(conns) * 2
    seen = [(playwave_beat(first, sid), playwave_beat(second, sid)) for sid in sessions]
    assert Counter(seen) == {
        ("OK", "OK"): 1,
        ("SESSION_REPLACED", "SESSION_REPLACED"): len(sessions) - 1,
    }
    current = sessions[seen.index(("OK", "OK"))]
    _, launcher = second.request("GET", "/__mock/playwave/launchers/pc-7")
    assert launcher["current_session"] == current


# --- lucit (003): a queued instruction is delivered once ---------------------------------------

LUCIT_DEVICE = "LCUID-LD-5b1c2d3e-0000-4000-8000-000000000001"
LUCIT = f"/api/v3/analytics/lightning-devices/{LUCIT_DEVICE}/heartbeat"
LUCIT_HEADERS = {
    "Authorization": "Bearer tok-lucit",
    "Accept": "application/json",
    "AppIdV3": "LCUID-LAP-5c43c6e0-e03d-45ff-92b1-1bd05122dcb3",
}
LUCIT_BODY = {"lightning_version": "2.4.1", "device_info": ["os:linux"]}


def test_each_lucit_instruction_is_delivered_exactly_once_across_workers(conns):
    first, second = on_workers(conns)
    assert first.request("POST", LUCIT, LUCIT_BODY, LUCIT_HEADERS)[0] == 200
    queued = []
    for n in range(5):
        status, instruction = (first, second)[n % 2].request(
            "POST", f"/__mock/lucit/devices/{LUCIT_DEVICE}/instructions", {"instruction": f"i{n}"}
        )
        assert status == 201
        queued.append(instruction["lcuid"])

    results = in_parallel(conns, 4, lambda conn, i: ("POST", LUCIT, LUCIT_BODY, LUCIT_HEADERS))
    assert {status for status, *_ in results} == {200}
    delivered = [
        body["lightning_device_remote_instruction"]["lcuid"]
        for _, body, _, _ in results
        if body["lightning_device_remote_instruction"] is not None
    ]
    assert sorted(delivered) == sorted(queued)  # each once, none twice
    _, device = second.request("GET", f"/__mock/lucit/devices/{LUCIT_DEVICE}")
    assert [i["status"] for i in device["instructions"]] == [1] * 5


# --- several hosts: separate mocks (not workers of one supervisor) on one Redis URL ----------


@pytest.fixture
def two_mocks(redis_server):
    """Two independent mock servers on the same Redis URL, as two hosts behind a balancer."""
    url = redis_url(redis_server)
    with BackgroundServer(Settings(port=0, store=url)) as one:
        with BackgroundServer(Settings(port=0, store=url)) as another:
            with httpx.Client(base_url=one.url, timeout=10) as a:
                with httpx.Client(base_url=another.url, timeout=10) as b:
                    yield a, b
    drop_prefix(redis_server, url)


def test_two_mocks_on_one_redis_url_answer_as_one_without_sticky_sessions(two_mocks):
    a, b = two_mocks
    assert a.post("/api/heartbeat", json=BODY).status_code == 200
    status = b.get(f"/api/status/{PUBLIC_ID}")
    assert status.status_code == 200 and status.json()["online"] is True
    assert [e["path"] for e in b.get("/__mock/requests").json()["requests"]] == [
        "/api/heartbeat",
        f"/api/status/{PUBLIC_ID}",
    ]


def test_the_mock_clock_is_each_hosts_time_plus_one_offset_kept_in_redis(two_mocks):
    a, b = two_mocks
    a.post("/__mock/clock/advance", json={"seconds": 3600}).raise_for_status()
    clock = b.get("/__mock/clock").json()
    assert clock["frozen"] is False and 3599 < clock["offset_seconds"] < 3601
    a.post("/__mock/clock/set", json={"now": "2031-05-06T07:08:09Z", "frozen": True})
    assert b.get("/__mock/clock").json()["now"] == a.get("/__mock/clock").json()["now"]


def test_mocks_on_one_redis_with_other_databases_or_prefixes_never_meet(redis_server):
    base = redis_server.url.rsplit("/", 1)[0]
    prefix = redis_url(redis_server).rsplit("prefix=", 1)[1]
    urls = [f"{base}/0?prefix={prefix}", f"{base}/1?prefix={prefix}", f"{base}/0?prefix=x{prefix}"]
    servers = [BackgroundServer(Settings(port=0, store=url)).start() for url in urls]
    try:
        assert httpx.post(servers[0].url + "/api/heartbeat", json=BODY).status_code == 200
        httpx.post(servers[0].url + "/__mock/clock/advance", json={"seconds": 60})
        for other in servers[1:]:
            assert httpx.get(other.url + "/__mock/requests").json()["count"] == 0
            assert httpx.get(f"{other.url}/api/status/{PUBLIC_ID}").status_code == 404
            assert httpx.get(other.url + "/__mock/clock").json()["offset_seconds"] == 0
            httpx.post(other.url + "/__mock/reset").raise_for_status()
        assert httpx.get(f"{servers[0].url}/api/status/{PUBLIC_ID}").status_code == 200
    finally:
        for server in servers:
            server.stop()
        client = redis_server.client()
        client.select(1)
        client.flushdb()
        client.close()
        for url in urls[::2]:
            drop_prefix(redis_server, url)
