"""`mockserver serve` as a person runs it: a real process, real port, real signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.multiworker import WorkerServer, signal_during_a_request

ROOT = Path(__file__).resolve().parents[2]
SEED_BODY = {
    "token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
    "data": {
        "status": "online",
        "players": 15,
        "maxPlayers": 100,
        "tps": 19.8,
        "software": "PocketMine-MP",
        "version": "5.0.0",
        "heartbeatIntervalSec": 30,
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def start(*args: str) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("ready"):
            return proc, lines
    proc.kill()
    _, err = proc.communicate(timeout=20)
    raise AssertionError(f"no ready line: {lines} {err}")


def run_fail(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", *args],
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def served():
    procs: list[subprocess.Popen] = []

    def go(*args):
        proc, lines = start(*args)
        procs.append(proc)
        return proc, lines

    yield go
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=20)  # reap and close the pipes


def test_serve_prints_each_api_then_ready_and_answers_the_seed_example(served):
    port = free_port()
    proc, lines = served("--port", str(port))
    assert any(
        line.startswith("statusbadge")
        and f"http://127.0.0.1:{port}/api/heartbeat" in line
        and "auth:" in line
        for line in lines
    )
    assert lines[-1].startswith(f"ready http://127.0.0.1:{port}")
    base = f"http://127.0.0.1:{port}"
    for expected in (
        f"POST  {base}/v2/general/servers/{{serverId}}/heartbeat",
        f"POST  {base}/api/systems/heartbeat",
        f"PATCH {base}/v1/game/session/heartbeat",
        f"POST  {base}/api/v3/analytics/lightning-devices/{{lcuid}}/heartbeat",
    ):
        assert any(expected in line and "auth:" in line for line in lines), (expected, lines)
    r = httpx.post(f"http://127.0.0.1:{port}/api/heartbeat", json=SEED_BODY)
    assert r.json()["publicId"] == "srv_pub_a3a9e1ed9732"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly_on_signals_and_the_port_is_free_again(served, sig):
    port = free_port()
    proc, _ = served("--port", str(port))
    proc.send_signal(sig)
    assert proc.wait(20) == 0
    proc2, lines = served("--port", str(port))
    assert lines[-1].startswith("ready")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_frees_the_port_at_once_while_a_request_in_flight_gets_its_answer(sig):
    """Issue 23, item 12, one process: uvicorn closes the listening socket before it drains."""
    with WorkerServer(workers=1) as server:
        seen = signal_during_a_request(server, sig)
    assert seen["refused_while_in_flight"] and seen["rebound_while_in_flight"]
    assert seen["answer"] is not None, "the request in flight was cut"
    status, body = seen["answer"]
    assert status == 200 and body["publicId"] == "srv_pub_a3a9e1ed9732"
    assert seen["exit_code"] == 0


def test_a_request_still_in_flight_10_s_after_sigterm_is_cut_not_answered_500():
    """The graceful wait is 10 s (server.GRACEFUL_SHUTDOWN_SECONDS); a request held longer
    (delay_ms up to 60 s) gets no answer, never uvicorn's plain-text 500; the exit is 0."""
    with WorkerServer(workers=1) as server:
        seen = signal_during_a_request(server, signal.SIGTERM, delay_ms=15_000)
    assert seen["refused_while_in_flight"]
    assert seen["answer"] is None, seen["answer"]
    assert seen["exit_code"] == 0


def test_a_second_ctrl_c_cuts_the_requests_in_flight_at_once_and_exits_0():
    with WorkerServer(workers=1) as server:
        seen = signal_during_a_request(server, signal.SIGINT, delay_ms=15_000, again=True)
        assert seen["answer"] is None, seen["answer"]
        assert seen["exit_code"] == 0
        assert not any("graceful shutdown exceeded" in line for line in server.output)


def test_taken_port_exits_nonzero_with_one_line(served):
    port = free_port()
    served("--port", str(port))
    r = run_fail("--port", str(port))
    assert r.returncode != 0
    assert r.stderr.strip() == f"mockserver: error: port {port} on 127.0.0.1 is already in use"


@pytest.mark.parametrize(
    "args",
    [["--host", "0.0.0.0"], ["--host", "0.0.0.0", "--control-token", ""], ["--host", ""]],
    ids=["no-token", "empty-token", "empty-host"],
)
def test_a_non_loopback_host_without_a_control_token_is_refused_before_binding(args):
    """Issue 23, item 13: the port is held on 127.0.0.1, so a bind before the check would
    say "already in use"; the refusal names the way out, in one line."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        r = run_fail(*args, "--port", str(listener.getsockname()[1]))
    assert r.returncode == 2 and "ready" not in r.stdout
    assert r.stderr.startswith("mockserver: error: binding ") and len(r.stderr.splitlines()) == 1
    assert "exposes the control API; pass --control-token TOKEN or --no-control" in r.stderr


def test_a_non_loopback_host_from_the_environment_is_refused_too():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = str(listener.getsockname()[1])
        r = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve"],
            capture_output=True,
            text=True,
            env={**env(), "MOCKSERVER_HOST": "0.0.0.0", "MOCKSERVER_PORT": port},
            cwd=ROOT,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert r.returncode == 2 and "binding 0.0.0.0 exposes the control API" in r.stderr


def test_unknown_api_exits_nonzero(served):
    r = run_fail("--port", "0", "--api", "nope")
    assert r.returncode != 0
    assert "unknown API 'nope'" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_invalid_config_exits_nonzero(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[server]\nport = 'eighty'\n")
    r = run_fail("--config", str(cfg))
    assert r.returncode != 0
    assert (
        r.stderr == f"mockserver: error: {cfg} [server] port: expected an integer, got 'eighty'\n"
    )


def test_api_flag_limits_what_is_served(served):
    port = free_port()
    _, lines = served("--port", str(port), "--api", "statusbadge")
    health = httpx.get(f"http://127.0.0.1:{port}/__mock/health").json()
    assert health["apis"] == ["statusbadge"]


def test_python_dash_m_and_console_script_share_the_parser():
    r = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--help"],
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
    )
    assert r.returncode == 0 and "--api NAME" in r.stdout
