"""The HTML report as a file (issue 20): the pytest plugin's `--mockserver-report PATH` from an
integrator's test project (pytester), one file per xdist worker, and `mockserver report`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.server import BackgroundServer
from tests.conftest import test_settings

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]

PROJECT = """
import httpx, pytest

def beat(url, token):
    data = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1",
            "heartbeatIntervalSec": 30}
    return httpx.post(url + "/api/heartbeat", json={"token": token, "data": data})

@pytest.mark.parametrize("n", [1, 2])
def test_reporter(mockserver, n):
    token = f"sk_live_00000000-0000-4000-8000-00000000000{n}"
    assert beat(mockserver.url, token).status_code == 200
    mockserver.advance(100)  # past the 60 s stale timeout
    assert beat(mockserver.url, token).status_code == 200

def test_silent(mockserver):
    pass
"""


def public_id(n: int) -> str:
    from mockserver.apis.statusbadge.rules import public_id as pid

    return pid(f"sk_live_00000000-0000-4000-8000-00000000000{n}")


def test_the_plugin_writes_a_section_per_test_that_used_the_mock(pytester, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # when this suite runs under -n
    pytester.makepyfile(PROJECT)
    out = pytester.path / "artifacts" / "report.html"
    pytester.runpytest("-p", "no:cacheprovider", f"--mockserver-report={out}").assert_outcomes(
        passed=3
    )
    html = out.read_text()
    assert html.count('<section class="test">') == 2  # test_silent sent nothing
    assert "test_reporter[1]" in html and "test_reporter[2]" in html
    for n in (1, 2):
        assert f'data-identity="{public_id(n)}"' in html
    assert html.count('class="gap stale"') == 2 and "<script" not in html


def test_without_the_option_no_file_is_written(pytester):
    pytester.makepyfile(PROJECT)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
    assert not list(pytester.path.rglob("*.html"))


def test_each_xdist_worker_writes_its_own_file(pytester):
    pytester.makepyfile(PROJECT)
    out = pytester.path / "report.html"
    pytester.runpytest("-n", "2", f"--mockserver-report={out}").assert_outcomes(passed=3)
    files = sorted(p.name for p in pytester.path.glob("report*.html"))
    assert files == ["report.gw0.html", "report.gw1.html"] or files in (
        ["report.gw0.html"],
        ["report.gw1.html"],
    )  # a worker that ran only test_silent never used the mock
    html = "".join((pytester.path / f).read_text() for f in files)
    assert all(f'data-identity="{public_id(n)}"' in html for n in (1, 2))


def run_report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "report", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def beaten():
    with BackgroundServer(test_settings()) as server:
        data = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}
        token = "sk_live_00000000-0000-4000-8000-000000000001"
        import httpx

        httpx.post(server.url + "/api/heartbeat", json={"token": token, "data": data})
        yield server


@pytest.mark.parametrize("fmt", ["html", "json", "text"])
def test_the_report_command_writes_each_format(beaten, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    r = run_report("--url", beaten.url, "--out", str(out), "--format", fmt)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    if fmt == "json":
        (client,) = json.loads(text)["apis"]["statusbadge"]["clients"]
        assert client["identity"] == public_id(1)
    else:
        assert public_id(1) in text
        assert text.startswith("<!DOCTYPE html>") == (fmt == "html")


def test_the_report_command_says_in_one_line_when_it_cannot_connect():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        r = run_report("--url", f"http://127.0.0.1:{port}")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "could not reach" in r.stderr


def test_the_report_command_passes_on_the_mocks_own_error(beaten):
    r = run_report("--url", beaten.url, "--api", "nosuch")
    assert r.returncode == 1 and "404" in r.stderr and "not enabled" in r.stderr
