"""`mockserver serve --workers N` as a person runs it: refused on the memory store, started on
Redis, stopped by a signal with every worker, a dead worker replaced."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import drop_prefix, redis_url
from tests.multiworker import Conn, WorkerServer, signal_during_a_request

pytestmark = pytest.mark.e2e

REFUSAL = "the memory store can't be shared by several workers; use --store redis://HOST:PORT/DB"


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def store(redis_server):
    url = redis_url(redis_server)
    yield url
    drop_prefix(redis_server, url)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_several_workers_on_the_memory_store_are_refused_in_one_line():
    result = serve("--workers", "2")
    assert result.returncode == 2
    assert result.stderr == f"mockserver: error: {REFUSAL}\n"
    assert "ready" not in result.stdout


def test_workers_from_the_environment_on_the_memory_store_are_refused_too():
    result = serve(env={"MOCKSERVER_WORKERS": "3"})
    assert result.returncode == 2 and REFUSAL in result.stderr


def test_serve_names_the_store_and_the_workers_when_ready(store):
    with WorkerServer("--store", store, workers=3) as server:
        assert any("store: redis; 3 workers" in line for line in server.output)
        assert len(server.worker_pids()) == 3


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_every_worker_and_exits_0(store, sig):
    server = WorkerServer("--store", store, workers=2).start()
    workers = server.worker_pids()
    assert len(workers) == 2
    assert server.stop(sig) == 0
    assert not any(alive(pid) for pid in workers)
    with socket.socket() as sock:  # the port is free again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((server.host, server.port))


@pytest.mark.parametrize(
    ("sig", "group"),
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)],
    ids=["SIGTERM", "SIGINT", "Ctrl-C"],
)
def test_a_signal_frees_the_port_at_once_while_the_workers_drain_their_requests(store, sig, group):
    """Issue 23, item 12: the supervisor closes its listening socket before it passes the stop
    on, and each worker closes its copy first thing, so no connection is accepted and then
    reset; a request in flight still gets its whole answer. Ctrl-C signals every process of
    the group at once: a worker then gets SIGINT and the supervisor's SIGTERM."""
    with WorkerServer("--store", store, workers=2, own_group=group) as server:
        seen = signal_during_a_request(server, sig)
    assert seen["refused_while_in_flight"] and seen["rebound_while_in_flight"]
    assert seen["answer"] is not None, "the request in flight was cut"
    status, body = seen["answer"]
    assert status == 200 and body["publicId"] == "srv_pub_a3a9e1ed9732"
    assert seen["exit_code"] == 0


def test_a_request_still_in_flight_10_s_after_sigterm_is_cut_on_a_worker_too(store):
    with WorkerServer("--store", store, workers=2) as server:
        seen = signal_during_a_request(server, signal.SIGTERM, delay_ms=15_000)
    assert seen["refused_while_in_flight"]
    assert seen["answer"] is None, seen["answer"]
    assert seen["exit_code"] == 0


def test_a_second_ctrl_c_cuts_the_requests_in_flight_on_the_workers_at_once(store):
    with WorkerServer("--store", store, workers=2, own_group=True) as server:
        seen = signal_during_a_request(server, signal.SIGINT, delay_ms=15_000, again=True)
        assert seen["answer"] is None, seen["answer"]
        assert seen["exit_code"] == 0
        assert not any("graceful shutdown exceeded" in line for line in server.output)


def test_a_worker_that_dies_is_replaced_and_the_mock_keeps_serving(store):
    with WorkerServer("--store", store, workers=2) as server:
        victim, survivor = server.worker_pids()
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = server.worker_pids()
            if len(pids) == 2 and victim not in pids:
                break
            time.sleep(0.1)
        assert survivor in pids and victim not in pids and len(pids) == 2
        conn = Conn(server.host, server.port)
        try:
            assert conn.request("GET", "/__mock/health")[0] == 200
        finally:
            conn.close()
        assert any(f"worker {victim} exited" in line for line in server.output)
