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


def test_taken_port_exits_nonzero_with_one_line(served):
    port = free_port()
    served("--port", str(port))
    r = run_fail("--port", str(port))
    assert r.returncode != 0
    assert r.stderr.strip() == f"mockserver: error: port {port} on 127.0.0.1 is already in use"


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
