"""`mockserver serve --state FILE --save-state FILE` as a person runs it: a real process, real
signals, both stores, one process and several workers (issue 18)."""

from __future__ import annotations

import json
import signal
import subprocess

import httpx
import pytest

from tests.conftest import seed_body
from tests.e2e.test_cli import free_port, run_fail, start
from tests.multiworker import WorkerServer

SID = "gs_550e8400-e29b-41d4-a716-446655440000"


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
        p.communicate(timeout=20)


def seed(base: str) -> None:
    """A PlayWave session and a badge on a frozen clock, the way a developer sets them up."""
    with httpx.Client(base_url=base) as http:
        http.post("/__mock/clock/set", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
        r = http.post(
            "/__mock/playwave/sessions",
            json={"provider_user_id": "123456789", "game_session_id": SID},
        )
        assert r.status_code == 201, r.text
        assert http.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 200


def check_restored(base: str) -> None:
    with httpx.Client(base_url=base) as http:
        assert http.get("/__mock/clock").json()["now"] == "2030-01-01T00:00:00.000000Z"
        beat = http.patch(
            "/v1/game/session/heartbeat", json=seed_body("playwave"), headers={"X-Api-Key": "k"}
        )
        assert beat.status_code == 200 and beat.json()["data"]["result"] == "OK"
        assert http.get("/api/status/srv_pub_a3a9e1ed9732").json()["online"] is True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_save_on_a_signal_then_load_at_start_up(served, store_url, tmp_path, sig):
    saved = tmp_path / "state.json"
    store = store_url()
    port = free_port()
    proc, _ = served("--port", str(port), "--store", store, "--save-state", str(saved))
    seed(f"http://127.0.0.1:{port}")
    proc.send_signal(sig)
    assert proc.wait(30) == 0
    out = proc.stdout.read()
    assert f"state: saved to {saved}:" in out and "records" in out
    doc = json.loads(saved.read_text())
    assert doc["format"] == 1 and SID in doc["apis"]["playwave"]["s"]
    assert not (tmp_path / "state.json.partial").exists()

    fresh = store_url()  # a new, empty store: all that comes back comes from the file
    port = free_port()
    _, lines = served("--port", str(port), "--store", fresh, "--state", str(saved))
    assert any(line.startswith(f"state: loaded from {saved}: ") for line in lines), lines
    check_restored(f"http://127.0.0.1:{port}")


def test_several_workers_load_and_save_one_state(store_kind, store_url, tmp_path):
    if store_kind != "redis":
        pytest.skip("several workers need the Redis store")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    with WorkerServer("--store", store_url(), "--save-state", str(first), workers=2) as server:
        seed(server.url)
    assert server.process.returncode == 0
    assert SID in json.loads(first.read_text())["apis"]["playwave"]["s"]
    args = ("--store", store_url(), "--state", str(first), "--save-state", str(second))
    with WorkerServer(*args, workers=2) as server:
        for _ in range(4):  # whichever worker answers
            check_restored(server.url)
    assert (
        json.loads(second.read_text())["apis"]["statusbadge"]
        == json.loads(first.read_text())["apis"]["statusbadge"]
    )


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "not found"),
        ("{not json", "is not a JSON document"),
        ('{"format": 7, "clock": {}, "apis": {}}', "format: must be 1"),
        ('{"format": 1, "clock": {"now": "2030-01-01T00:00:00Z", "frozen": NaN}}', "NaN"),
        (
            '{"format": 1, "clock": {"now": "2030-01-01T00:00:00Z", "frozen": true},'
            ' "apis": {"statusbadge": {"servers": {"\\ud800": {}}}}}',
            "not Unicode",
        ),
        (
            '{"format": 1, "clock": {"now": "2030-01-01T00:00:00Z", "frozen": true},'
            ' "apis": {"statusbadge": {"servers": {"x": {"publicId": 5}}}}}',
            "apis.statusbadge.servers.x",
        ),
    ],
    ids=["missing", "not-json", "format", "nan", "lone-surrogate", "bad-record"],
)
def test_a_state_file_that_cannot_be_restored_stops_serve_in_one_line(tmp_path, content, says):
    path = tmp_path / "state.json"
    if content is not None:
        path.write_text(content)
    result = run_fail("--port", str(free_port()), "--state", str(path))
    assert result.returncode == 2, result
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("mockserver: error: ") and says in line, line
