"""Redis unavailable or lost mid-run (issue 10): every request gets its API's own 503, the
server stays up, and it recovers by itself when Redis is back; no record is half-written.

The Redis here keeps an append-only file (fsync on every write), so a restart brings back
what was acknowledged before it stopped, and the tests can check what was and wasn't written.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from mockserver.app import build_app
from mockserver.core.errors import MockError
from mockserver.settings import Settings
from tests.multiworker import Conn, WorkerServer, pinned_connections
from tests.redisproc import RedisProcess

pytestmark = pytest.mark.e2e

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
PUBLIC_ID = "srv_pub_a3a9e1ed9732"
BODY = {
    "token": TOKEN,
    "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"},
}
# statusbadge's format for a 5xx (mockserver/apis/statusbadge.py render_error)
BADGE_503 = {"error": "Service Unavailable", "message": "state store unavailable"}
CONTROL_503 = {
    "error": {"status": 503, "kind": "unavailable", "message": "state store unavailable"}
}


@pytest.fixture
def redis():
    with RedisProcess(persistent=True) as server:
        yield server


def mock_on(redis: RedisProcess) -> WorkerServer:
    # Short timeouts, so a Redis that stopped answering costs a request one second, not five.
    url = f"{redis.url}?socket_timeout=1&socket_connect_timeout=1&prefix=outage:"
    return WorkerServer("--store", url, "--validate-responses", workers=2)


def heartbeats(conn) -> int:
    status, server = conn.request("GET", f"/__mock/statusbadge/servers/{PUBLIC_ID}")
    assert status == 200
    return server["heartbeats"]


def test_redis_down_gets_each_api_its_503_on_every_worker_and_the_mock_recovers(redis):
    with mock_on(redis) as server:
        conns = pinned_connections(server, 1)
        workers = server.worker_pids()
        assert conns[0].request("POST", "/api/heartbeat", BODY)[0] == 200

        redis.stop()
        for conn in conns:
            assert conn.request("POST", "/api/heartbeat", BODY) == (503, BADGE_503)
            assert conn.request("GET", f"/api/status/{PUBLIC_ID}") == (503, BADGE_503)
            assert conn.request("GET", "/__mock/health") == (503, CONTROL_503)
            assert conn.request("POST", "/__mock/clock/advance", {"seconds": 1}) == (
                503,
                CONTROL_503,
            )
        assert server.worker_pids() == workers and server.process.poll() is None

        redis.start()
        for conn in conns:
            assert conn.request("GET", "/__mock/health")[0] == 200
            assert conn.request("POST", "/api/heartbeat", BODY)[0] == 200
        # one before, one per worker after; the refused ones wrote nothing
        assert heartbeats(conns[0]) == 1 + len(conns)
        for conn in conns:
            conn.close()


def same_body(actual, one, another) -> bool:
    """`actual` equals the API's rendered body wherever two renderings agree; where they
    differ (a request id), it need only be a value of the same type."""
    if one == another:
        return actual == one
    if isinstance(one, dict) and isinstance(another, dict) and isinstance(actual, dict):
        return actual.keys() == one.keys() == another.keys() and all(
            same_body(actual[k], one[k], another[k]) for k in one
        )
    return type(actual) is type(one)


def test_redis_down_gets_every_api_its_own_503_body(redis):
    expected = {}
    for name, api in build_app(Settings()).ctx.apis.items():
        one, another = (
            api.render_error(MockError(503, "unavailable", "state store unavailable"))
            for _ in range(2)
        )
        assert one.status == 503, f"{name} renders a 503 as {one.status}"
        expected[name] = (api.prefixes[0] + "x", one.body, another.body)
    with mock_on(redis) as server:
        redis.stop()
        conn = Conn(server.host, server.port)
        for name, (path, one, another) in expected.items():
            status, body = conn.request("POST", path, {})
            assert status == 503 and same_body(body, one, another), (name, body, one)
        conn.close()


def test_a_mock_started_while_redis_is_down_warns_answers_503_then_recovers(redis):
    redis.stop()
    with mock_on(redis) as server:
        assert any("is not reachable" in line for line in server.output)
        conn = Conn(server.host, server.port)
        assert conn.request("POST", "/api/heartbeat", BODY) == (503, BADGE_503)
        conn.close()
        redis.start()
        for conn in pinned_connections(server, 1):
            assert conn.request("POST", "/api/heartbeat", BODY)[0] == 200
            conn.close()


def test_redis_lost_mid_run_yields_only_200_or_503_and_no_lost_or_invented_write(redis):
    with mock_on(redis) as server:
        conns = pinned_connections(server, 3)
        answers: list[tuple[int, object]] = []
        stop = threading.Event()

        def client(conn) -> None:
            while not stop.is_set():
                answers.append(conn.request("POST", "/api/heartbeat", BODY))

        threads = [threading.Thread(target=client, args=(c,)) for c in conns]
        for t in threads:
            t.start()
        time.sleep(1.0)
        redis.process.kill()  # SIGKILL: lost in the middle of whatever it was doing
        redis.process.wait(10)
        time.sleep(1.0)
        redis.start()
        time.sleep(1.5)
        stop.set()
        for t in threads:
            t.join(30)

        statuses = Counter(status for status, _ in answers)
        assert set(statuses) == {200, 503}, statuses
        assert all(body == BADGE_503 for status, body in answers if status == 503)
        # Every acknowledged heartbeat is stored; none that wasn't sent is. (A 503 may still
        # have been written when Redis died between writing and answering.)
        stored = heartbeats(conns[0])
        assert statuses[200] <= stored <= statuses[200] + statuses[503]
        for conn in conns:
            conn.close()
