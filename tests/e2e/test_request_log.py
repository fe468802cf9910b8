"""The request log (issue 17, item 4): `mockserver serve` writes one line per native request on
stderr, after the request is journaled, from its journal entry: mock-clock time, API, method,
path (query redacted), status, duration, verdict with the first violation, fault. Credentials
never show. `--quiet` (or `quiet` in the settings) turns it off; in-process servers (the pytest
plugin, BackgroundServer) print nothing unless the caller's logging asks for INFO.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import seed_body
from tests.multiworker import wait_until

pytestmark = pytest.mark.e2e
pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
BEARER = "planted-bearer-key-5f0c1e9a"  # secrets planted in the requests, searched for in the log
TOKEN = "sk_live_9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
QUERY_TOKEN = "planted-query-token-77c1d2"
BODY_SECRET = "planted-body-secret-a1b2c3"
LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (?P<api>\w+) (?P<method>[A-Z]+) (?P<path>\S+) "
    r"(?P<status>\d{3}|dropped) (?P<ms>\d+\.\d)ms (?P<verdict>.*)$"
)


class Served:
    """`python -m mockserver serve --port 0 ...` with its stderr read line by line."""

    def __init__(self, *args: str, **env: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        )
        self.err: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        self.base = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("ready "):
                self.base = line.split()[1]
                break
        assert self.base, f"serve never got ready: {self.stop()}"

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            with self._changed:
                self.err.append(line.rstrip("\n"))
                self._changed.notify_all()

    def request_lines(self) -> list[str]:
        return [line for line in self.err if LINE.match(line)]

    def wait_for_lines(self, count: int, timeout: float = 20) -> list[str]:
        """Wait on the condition (at least `count` request lines), bounded by `timeout`."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.request_lines()) >= count, timeout)
        return self.request_lines()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return "\n".join(self.err)


@pytest.fixture
def serve(request):
    started: list[Served] = []

    def start(*args: str, **env: str) -> Served:
        started.append(Served(*args, **env))
        return started[-1]

    yield start
    for served in started:
        served.stop()


@pytest.fixture(params=["memory", "redis"])
def store(request) -> str:
    if request.param == "memory":
        return "memory"
    from tests.conftest import redis_url

    return redis_url(request.getfixturevalue("redis_server"))


def _send_the_four_kinds(base: str) -> None:
    """Valid, invalid (secrets in its header, query and body), a 503 fault, a 413."""
    sonoran = f"{base}/v2/general/servers/1/heartbeat"
    assert httpx.post(f"{base}/api/heartbeat", json={**seed_body("statusbadge")}).status_code == 200
    invalid = httpx.post(
        f"{sonoran}?token={QUERY_TOKEN}&x=1",
        json={"playerCount": BODY_SECRET, "api_key": BODY_SECRET},
        headers={"Authorization": f"Bearer {BEARER}"},
    )
    assert invalid.status_code == 400
    fault = {"api": "statusbadge", "status": 503, "times": 1}
    assert httpx.post(f"{base}/__mock/faults", json=fault).status_code == 201
    body = {**seed_body("statusbadge"), "token": TOKEN}
    assert httpx.post(f"{base}/api/heartbeat", json=body).status_code == 503
    big = {"playerCount": 1, "pad": "x" * 5000}
    headers = {"Authorization": f"Bearer {BEARER}"}
    assert httpx.post(sonoran, json=big, headers=headers).status_code == 413


def test_serve_logs_each_request_with_its_verdict_fault_and_no_secret(serve, store):
    served = serve("--store", store, MOCKSERVER_MAX_BODY_BYTES="2048")
    httpx.post(f"{served.base}/__mock/clock/set", json={"now": "2031-05-04T03:02:01Z"})
    _send_the_four_kinds(served.base)
    lines = served.wait_for_lines(4)
    log = served.stop()
    assert len(lines) == 4, log  # native requests only: no line for the control calls
    valid, invalid, fault, too_big = (LINE.match(line) for line in lines)
    for line in (valid, invalid, fault, too_big):
        assert line["at"].startswith("2031-05-04T03:0")  # the mock clock, not the wall clock
    assert (valid["api"], valid["method"], valid["path"]) == (
        "statusbadge",
        "POST",
        "/api/heartbeat",
    )
    assert (valid["status"], valid["verdict"]) == ("200", "valid")
    assert invalid["api"] == "sonoran" and invalid["status"] == "400"
    assert invalid["path"] == "/v2/general/servers/1/heartbeat?token=plante***&x=1"
    assert invalid["verdict"].startswith("invalid: playerCount: 'plante***' is not of type")
    assert fault["status"] == "503" and re.fullmatch(
        r"valid \[fault-\d+: status 503\]", fault["verdict"]
    )
    assert too_big["status"] == "413"
    assert too_big["verdict"] == "invalid: body: request body exceeds 2048 bytes"
    for secret in (BEARER, TOKEN, QUERY_TOKEN, BODY_SECRET):
        assert secret not in log and secret[:12] not in log


def test_every_worker_writes_its_requests_lines(serve, request):
    from tests.conftest import redis_url

    store = redis_url(request.getfixturevalue("redis_server"))
    served = serve("--api", "statusbadge", "--workers", "2", "--store", store)
    for _ in range(6):  # new connections: the workers share them out
        with httpx.Client() as client:
            answer = client.post(f"{served.base}/api/heartbeat", json=seed_body("statusbadge"))
            assert answer.status_code == 200
    lines = served.wait_for_lines(6)
    served.stop()
    assert len(lines) == 6
    assert all(LINE.match(line)["verdict"] == "valid" for line in lines)


def test_each_line_is_one_line_whatever_the_path_holds(serve):
    served = serve("--api", "sonoran")
    path = "/v2/general/servers/1/heartbeat%0A2031-01-01T00:00:00Z%20sonoran%20POST%20/x%20200"
    r = httpx.post(
        served.base + path, json={"playerCount": 1}, headers={"Authorization": "Bearer k"}
    )
    assert r.status_code == 404
    (line,) = served.wait_for_lines(1)
    served.stop()
    logged = LINE.match(line)["path"]
    assert (
        logged
        == "/v2/general/servers/1/heartbeat\\x0a2031-01-01T00:00:00Z%20sonoran%20POST%20/x%20200"
    )
    assert len(served.request_lines()) == 1


def test_a_path_no_api_serves_gets_its_line_too(serve):
    served = serve("--api", "statusbadge")
    at = {"now": "2031-05-04T03:02:01Z", "frozen": True}
    assert httpx.post(f"{served.base}/__mock/clock/set", json=at).status_code == 200
    assert httpx.post(f"{served.base}/ap/heartbeat", json={}).status_code == 404
    with served._changed:
        served._changed.wait_for(lambda: any("/ap/heartbeat" in e for e in served.err), 20)
    served.stop()
    (line,) = [e for e in served.err if "/ap/heartbeat" in e]
    assert line == "2031-05-04T03:02:01Z - POST /ap/heartbeat 404 - no mocked API serves this path"


def test_a_request_the_store_could_not_journal_still_gets_a_line(serve):
    with socket.socket() as sock:  # a port nobody listens on: the store never answers
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    served = serve("--api", "statusbadge", "--store", f"redis://127.0.0.1:{port}/0")
    assert httpx.post(f"{served.base}/api/heartbeat", json={}).status_code == 503
    with served._changed:
        served._changed.wait_for(lambda: any("not journaled" in e for e in served.err), 20)
    served.stop()
    (line,) = [e for e in served.err if "/api/heartbeat" in e]
    assert re.fullmatch(
        r"- statusbadge POST /api/heartbeat - \d+\.\dms not journaled \(state store unavailable\)",
        line,
    )


def test_a_dropped_connection_and_a_delay_are_logged_as_such(serve):
    served = serve("--api", "statusbadge")
    rules = [{"api": "statusbadge", "drop": True, "times": 1}]
    rules.append({"api": "statusbadge", "delay_ms": 50, "status": 500, "times": 1})
    for rule in rules:
        assert httpx.post(f"{served.base}/__mock/faults", json=rule).status_code == 201
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{served.base}/api/heartbeat", json=seed_body("statusbadge"))
    assert (
        httpx.post(f"{served.base}/api/heartbeat", json=seed_body("statusbadge")).status_code == 500
    )
    dropped, delayed = (LINE.match(line) for line in served.wait_for_lines(2))
    served.stop()
    assert dropped["status"] == "dropped" and dropped["verdict"].endswith(": drop]")
    assert delayed["verdict"].endswith(": delay 50 ms, status 500]")
    assert float(delayed["ms"]) >= 50  # the duration is the request's whole time in the mock


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--quiet",), {}), ((), {"MOCKSERVER_QUIET": "true"})],
    ids=["--quiet", "MOCKSERVER_QUIET"],
)
def test_quiet_prints_no_request_line(serve, args, env):
    served = serve(*args, MOCKSERVER_MAX_BODY_BYTES="2048", **env)
    _send_the_four_kinds(served.base)
    log = served.stop()  # a graceful stop: every line a request would write is written by now
    assert served.request_lines() == [], log
    assert "statusbadge POST" not in log


def test_the_log_level_is_checked_in_one_line_naming_where_it_came_from(tmp_path):
    config = tmp_path / "mock.toml"
    config.write_text('[server]\nlog_level = "loud"\n')
    run = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr == (
        f"mockserver: error: {config} [server] log_level: expected one of critical, error, "
        "warning, info, debug, got 'loud'\n"
    )


def test_an_in_process_server_prints_nothing_unless_logging_asks(make_server, capfd, caplog):
    server = make_server()
    assert (
        httpx.post(f"{server.url}/api/heartbeat", json=seed_body("statusbadge")).status_code == 200
    )
    out, err = capfd.readouterr()
    assert "POST /api/heartbeat" not in out + err
    assert not [r for r in caplog.records if r.name == "mockserver.requests"]
    caplog.set_level(logging.INFO, logger="mockserver.requests")
    assert (
        httpx.post(f"{server.url}/api/heartbeat", json=seed_body("statusbadge")).status_code == 200
    )
    logged = lambda: [r for r in caplog.records if r.name == "mockserver.requests"]  # noqa: E731
    wait_until(logged, "the request's line is logged", timeout=20)
    (record,) = logged()
    assert LINE.match(record.getMessage())["verdict"] == "valid"


PLUGIN_PROJECT = """
import httpx

def test_beat(mockserver):
    body = {"token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
            "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}}
    assert httpx.post(mockserver.url + "/api/heartbeat", json=body).status_code == 200
    assert mockserver.requests()
"""


def test_the_pytest_plugin_prints_no_request_line_unless_a_log_level_asks(pytester):
    pytester.makepyfile(PLUGIN_PROJECT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    assert "POST /api/heartbeat" not in result.stdout.str() + result.stderr.str()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--log-cli-level=INFO")
    result.assert_outcomes(passed=1)
    assert re.search(r"Z statusbadge POST /api/heartbeat 200 \d+\.\dms valid", result.stdout.str())


# --- the line itself, from an entry as the journal has it ----------------------------------------
def _entry(**changes) -> dict:
    entry = {"epoch": 1_900_000_000.25, "api": "sonoran", "method": "POST", "path": "/v2/x"}
    entry |= {"query": "", "status": 200, "valid": True, "violations": [], "fault": None}
    return entry | changes


def test_a_proxied_request_shows_the_upstream_status():
    from mockserver.http.requestlog import format_line

    proxied = {"url": "https://up.example/v2/x", "status": 502, "ms": 12.5}
    assert format_line(_entry(proxied=proxied), 3.25).endswith(" valid [upstream 502 in 12.5ms]")
    failed = {"url": "https://up.example/v2/x", "status": None, "ms": 5000.0, "error": "timeout"}
    assert format_line(_entry(proxied=failed), 1).endswith("[upstream: no answer in 5000.0ms]")
    assert "upstream" not in format_line(_entry(), 1)


def test_a_long_or_odd_violation_stays_one_short_line():
    from mockserver.http.requestlog import MESSAGE_CAP, format_line

    violation = {"key": "a\nb", "message": "\ud800" + "x" * 5000 + "\u2028"}
    line = format_line(_entry(status=400, valid=False, violations=[violation]), 1)
    assert line.startswith("2030-03-17T17:46:40Z sonoran POST /v2/x 400 1.0ms invalid: a\\x0ab: ")
    assert line.endswith("x...") and len(line) < 100 + MESSAGE_CAP
    line.encode("utf-8")  # no lone surrogate left: a handler can write it
