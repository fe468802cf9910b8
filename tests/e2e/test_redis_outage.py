"""Redis unavailable or lost mid-run (issue 10): every request gets its API's own 503, the
server stays up, and it recovers by itself when Redis is back; no record is half-written.
Redis restarted while the mock was idle costs no request a 503 (issue 23, item 11).

The Redis here keeps an append-only file (fsync on every write), so a restart brings back
what was acknowledged before it stopped, and the tests can check what was and wasn't written.
No test sleeps: each waits, with a deadline, for what it needs to have happened.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from mockserver.app import build_app
from mockserver.core.errors import MockError
from mockserver.settings import Settings
from mockserver.store import StoreUnavailable
from mockserver.store.redis import RedisStore
from tests.multiworker import Conn, WorkerServer, pinned_connections, wait_until
from tests.redisproc import CuttingProxy, RedisProcess

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


SOCKET_TIMEOUT = 1.0


def mock_on(redis: RedisProcess) -> WorkerServer:
    # Short timeouts, so a Redis that stopped answering costs a request one second, not five.
    url = f"{redis.url}?socket_timeout={SOCKET_TIMEOUT:g}"
    url += f"&socket_connect_timeout={SOCKET_TIMEOUT:g}&prefix=outage:"
    return WorkerServer("--store", url, "--validate-responses", workers=2)


def in_parallel(conns: list[Conn], per_conn: int, request: tuple) -> list[tuple[int, object]]:
    """Every connection sends `request` `per_conn` times from its own thread, all at once."""
    barrier = threading.Barrier(len(conns))
    answers: list[tuple[int, object]] = []

    def run(conn: Conn) -> None:
        barrier.wait(30)
        for _ in range(per_conn):
            answers.append(conn.request(*request))

    threads = [threading.Thread(target=run, args=(conn,)) for conn in conns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == len(conns) * per_conn, "a client thread did not finish"
    return answers


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


def test_redis_restarted_while_the_mock_was_idle_costs_the_next_burst_no_503(redis):
    """Issue 23, item 11: every pooled connection of every worker is dead after the restart;
    each is replaced before use (or a read on it is sent again on a fresh one)."""
    with mock_on(redis) as server:
        conns = pinned_connections(server, 4)  # 8 clients, 4 on each worker
        heartbeat = ("POST", "/api/heartbeat", BODY)
        warm = in_parallel(conns, 5, heartbeat)  # several pooled connections in each worker
        assert Counter(status for status, _ in warm) == {200: 40}

        redis.stop()
        redis.start()  # same port, same data; no request in between
        burst = in_parallel(conns, 5, heartbeat)
        assert Counter(status for status, _ in burst) == {200: 40}
        assert heartbeats(conns[0]) == 80
        for conn in conns:
            conn.close()


def test_redis_down_gets_every_api_its_own_503_body_within_a_socket_timeout(redis):
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
        # A read that fails is sent once more, on a fresh connection: refused at once, so a
        # down Redis still answers well within one socket timeout (the client's bound here).
        conn = Conn(server.host, server.port, timeout=SOCKET_TIMEOUT)
        for name, (path, one, another) in expected.items():
            status, body = conn.request("POST", path, {})
            assert status == 503 and same_body(body, one, another), (name, body, one)
        assert conn.request("GET", "/__mock/health") == (503, CONTROL_503)
        conn.close()


def test_a_redis_that_stops_answering_costs_a_request_one_socket_timeout_not_two(redis):
    """A timeout is not retried: each API's 503 comes after one socket timeout (1 s), so a
    client that waits 1.9 s gets it; sent again, it would take over 2 s."""
    with mock_on(redis) as server:
        conn = Conn(server.host, server.port, timeout=1.9 * SOCKET_TIMEOUT)
        assert conn.request("POST", "/api/heartbeat", BODY)[0] == 200
        redis.process.send_signal(signal.SIGSTOP)  # accepts connections, answers nothing
        try:
            assert conn.request("POST", "/api/heartbeat", BODY) == (503, BADGE_503)
            assert conn.request("GET", "/__mock/health") == (503, CONTROL_503)
        finally:
            redis.process.send_signal(signal.SIGCONT)
        wait_until(lambda: conn.request("GET", "/__mock/health")[0] == 200, "the mock recovers")
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

        def answered(status: int, since: int = 0, count: int = 1) -> Callable[[], bool]:
            return lambda: sum(s == status for s, _ in answers[since:]) >= count

        threads = [threading.Thread(target=client, args=(c,)) for c in conns]
        for t in threads:
            t.start()
        try:
            wait_until(answered(200, count=30), "30 heartbeats were acknowledged")
            redis.process.kill()  # SIGKILL: lost in the middle of whatever it was doing
            redis.process.wait(10)
            wait_until(answered(503, since=len(answers)), "a heartbeat was refused (503)")
            redis.start()
            wait_until(answered(200, since=len(answers), count=30), "30 more were acknowledged")
        finally:
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


# --- the store itself, through a proxy that cuts a connection under a chosen command ---------


@pytest.fixture
def proxy(redis_server):
    with CuttingProxy(redis_server.port) as cutting:
        yield cutting


def on_store(proxy: CuttingProxy, steps) -> object:
    """Run `steps(store)` on a RedisStore that reaches Redis through `proxy`."""

    async def run():
        store = RedisStore(f"redis://127.0.0.1:{proxy.port}/0?prefix=cut-{time.monotonic_ns()}:")
        try:
            return await steps(store)
        finally:
            await store.clear()
            await store.close()

    return asyncio.run(run())


def count_up(old: dict | None) -> tuple[dict, int]:
    n = (old or {"n": 0})["n"] + 1
    return {"n": n}, n


def test_a_read_whose_connection_dies_is_sent_again_on_a_fresh_connection(proxy):
    async def steps(store):
        await store.put("ns", "k", {"n": 1})
        proxy.cut_next(b"HGET")  # the pooled connection dies before HGET reaches Redis
        return await store.get("ns", "k")

    assert on_store(proxy, steps) == {"n": 1}
    assert proxy.cuts == 1


def test_a_write_whose_reply_is_lost_answers_unavailable_and_is_applied_once(proxy):
    """The compare-and-set ran and its reply was lost: sent again, it would find its own
    write, take it for a conflict, and count the heartbeat twice (n == 3)."""

    async def steps(store):
        assert await store.update("ns", "k", count_up) == 1  # loads the Lua script too
        proxy.cut_next(b"EVALSHA", after_reply=True)
        with pytest.raises(StoreUnavailable):
            await store.update("ns", "k", count_up)
        return await store.get("ns", "k")

    assert on_store(proxy, steps) == {"n": 2}
    assert proxy.cuts == 1


def test_a_write_on_a_pooled_connection_redis_closed_while_idle_goes_through(proxy):
    """The pooled connection is checked for Redis's close before use and replaced (redis-py
    8.1 skips that check on RESP3: redis/redis-py#4252), so even a first command that is a
    write (never sent twice) finds a live connection."""

    async def steps(store):
        await store.put("ns", "k", {"n": 1})  # leaves one idle pooled connection
        # From another thread, so this loop is waiting (and sees the close) until it's done.
        await asyncio.get_running_loop().run_in_executor(None, proxy.drop_all)
        await store.put("ns", "k", {"n": 2})
        return await store.get("ns", "k")

    assert on_store(proxy, steps) == {"n": 2}


def test_socket_timeouts_and_pool_size_default_to_5_s_and_32_and_come_from_the_url():
    def options(url: str) -> tuple:
        pool = RedisStore(url)._redis.connection_pool
        kwargs = pool.connection_kwargs
        return kwargs["socket_timeout"], kwargs["socket_connect_timeout"], pool.max_connections

    assert options("redis://127.0.0.1:1/0") == (5.0, 5.0, 32)
    url = "redis://127.0.0.1:1/0?socket_timeout=1.5&socket_connect_timeout=0.5&max_connections=4"
    assert options(url) == (1.5, 0.5, 4)
