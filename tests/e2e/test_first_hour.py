"""The first hour of a newcomer (issue 17), from a wheel installed into a fresh virtualenv outside
the checkout, with only the package's own dependencies (no dev extras: no pytest-xdist):
`--version`, `serve`, `docs`, `check-specs` and `contract --api statusbadge` work; a bad setting
and an unreachable contract target each end in one clear line and a non-zero exit; a mistyped
variable gets its warning; every subcommand shows its own usage on a bad argument.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
BODY = {"token": TOKEN, "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20}}
BODY["data"]["version"] = "1"


class Installed:
    """A fresh virtualenv with the wheel installed, and a project folder outside the checkout."""

    def __init__(self, venv: Path, project: Path, home: Path) -> None:
        self.venv, self.project, self.home = venv, project, home

    def env(self, **extra: str) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "LANG", "LC_"))}
        path = f"{self.venv / 'bin'}:/usr/bin:/bin"
        return {**keep, "PATH": path, "HOME": str(self.home), **extra}

    def run(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.venv / "bin" / "mockserver"), *args],
            capture_output=True,
            text=True,
            cwd=self.project,
            env=self.env(**env),
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )

    def serve(self, *args: str, **env: str) -> tuple[subprocess.Popen, list[str]]:
        """A running `serve --port 0`, and its stdout up to the ready line."""
        proc = subprocess.Popen(
            [str(self.venv / "bin" / "mockserver"), "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.project,
            env=self.env(**env),
            stdin=subprocess.DEVNULL,
        )
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("ready "):
                return proc, lines
        proc.kill()
        _, err = proc.communicate(timeout=20)
        raise AssertionError(f"serve never got ready: {lines} {err}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    where = tmp_path_factory.mktemp("first-hour")
    dist, venv, project, home = (where / name for name in ("dist", "venv", "project", "home"))
    project.mkdir()
    home.mkdir()
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, "-w", str(dist), str(ROOT)], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    (wheel,) = dist.glob("heartbeat_mockserver-*.whl")
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")},
        stdin=subprocess.DEVNULL,
        timeout=900,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    return Installed(venv, project, home)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_install_has_no_dev_extras_and_lives_outside_the_checkout(installed):
    probe = (
        "import importlib.util as u, mockserver; print(u.find_spec('xdist'), mockserver.__file__)"
    )
    python = str(installed.venv / "bin" / "python")
    out = subprocess.run(
        [python, "-c", probe],
        capture_output=True,
        text=True,
        env=installed.env(),
        cwd=installed.project,
        check=True,
    ).stdout.split()
    assert out[0] == "None"
    assert Path(out[1]).is_relative_to(installed.venv)


def test_version(installed):
    run = installed.run("--version")
    assert run.returncode == 0
    assert run.stdout == "mockserver 0.1.0\n"


@pytest.mark.parametrize("command", ["serve", "docs", "contract", "check-specs"])
def test_each_command_shows_its_own_usage_on_a_bad_argument(installed, command):
    run = installed.run(command, "--bogus")
    assert run.returncode == 2
    assert run.stderr.startswith(f"usage: mockserver {command} ")
    assert run.stderr.rstrip().endswith(
        f"mockserver {command}: error: unrecognized arguments: --bogus"
    )


def test_serve_lists_every_route_the_landing_page_and_the_docs_and_warns_of_a_typo(installed):
    proc, lines = installed.serve(MOCKSERVER_PROT="9000")
    try:
        base = lines[-1].split()[1]
        text = "\n".join(lines)
        for route in ("POST  {}/api/heartbeat", "GET   {}/api/badge/{{publicId}}"):
            assert route.format(base) in text
        assert f"GET   {base}/api/status/{{publicId}}" in text
        assert "seeding: its sessions come only from POST /__mock/playwave/sessions" in text
        assert f"control      {base}/__mock/  (landing page" in text
        assert f"docs         {base}/__mock/docs/" in text
        assert httpx.post(f"{base}/api/heartbeat", json=BODY).status_code == 200
        landing = httpx.get(f"{base}/__mock/")
        assert landing.status_code == 200 and "/api/badge/{publicId}" in landing.text
        assert httpx.get(f"{base}/__mock/docs/").status_code == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "mockserver: warning: MOCKSERVER_PROT is ignored; did you mean MOCKSERVER_PORT?" in err
    # The request log (item 4): the heartbeat's line, on the mock clock, with its verdict.
    assert re.search(r"^\S+Z statusbadge POST /api/heartbeat 200 \d+\.\dms valid$", err, re.M), err
    assert TOKEN not in err and TOKEN[:12] not in err


def test_serve_quiet_writes_no_request_log(installed):
    proc, lines = installed.serve("--quiet", "--api", "statusbadge")
    base = lines[-1].split()[1]
    try:
        assert httpx.post(f"{base}/api/heartbeat", json=BODY).status_code == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and err == ""


INTEGRATOR_TESTS = """
import httpx
import pytest

BODY = {body!r}


def test_beat(mockserver):
    assert httpx.post(mockserver.url + "/api/heartbeat", json=BODY).status_code == 200
    assert mockserver.count(api="statusbadge") == 1


@pytest.mark.mockserver(api_settings={{"statusbadge": {{"ttl_seconds": "ten"}}}})
def test_a_wrongly_typed_marker_setting(mockserver):
    pass
"""


def test_an_integrator_project_runs_with_warnings_as_errors(installed):
    """Items 2 and 8 from the wheel: `pytest -W error` runs the fixture, a wrongly typed marker
    setting fails its test in one line shown once, and no request line lands in the output."""
    project = installed.project / "integrator"
    project.mkdir()
    (project / "test_client.py").write_text(INTEGRATOR_TESTS.format(body=BODY))
    run = subprocess.run(
        [str(installed.venv / "bin" / "pytest"), "-W", "error", "-p", "no:cacheprovider", "-rE"],
        capture_output=True,
        text=True,
        cwd=project,
        env=installed.env(),
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 1 and "1 passed, 1 error" in out, out
    message = (
        "@pytest.mark.mockserver(api_settings={'statusbadge': {'ttl_seconds': ...}}): "
        "expected a number, got 'ten'"
    )
    assert out.count(message) == 1, out  # not again under "During handling of ..."
    assert "During handling" not in out and "Traceback" not in out
    assert "POST /api/heartbeat" not in out  # in-process servers keep the request log quiet
    assert "warning" not in out.lower()


def test_no_control_warns_that_an_api_needs_seeding(installed):
    proc, lines = installed.serve("--no-control", "--api", "playwave")
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    assert "control      off" in lines
    assert [line for line in err.splitlines() if "warning" in line] == [
        "mockserver: warning: --no-control leaves playwave unusable: its sessions come only "
        "from POST /__mock/playwave/sessions (the verify endpoint that creates them is not "
        "documented)"
    ]


def test_a_wrongly_typed_setting_is_one_line_and_exit_2(installed):
    run = installed.run("serve", "--port", "0", MOCKSERVER_STATUSBADGE__TTL_SECONDS="ten")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == (
        "mockserver: error: MOCKSERVER_STATUSBADGE__TTL_SECONDS (statusbadge.ttl_seconds): "
        "expected a number, got 'ten'\n"
    )
    config = installed.project / "mock.toml"
    config.write_text('[apis.statusbadge]\nttl_seconds = "ten"\n')
    run = installed.run("serve", "--config", "mock.toml")
    assert run.returncode == 2
    assert run.stderr == (
        "mockserver: error: mock.toml [apis.statusbadge] ttl_seconds: expected a number, "
        "got 'ten'\n"
    )
    config.write_text('[server]\nport = "eighty"\n')
    run = installed.run("serve", "--config", "mock.toml")
    assert (run.returncode, run.stdout) == (2, "")
    assert (
        run.stderr
        == "mockserver: error: mock.toml [server] port: expected an integer, got 'eighty'\n"
    )
    config.write_text('[server]\nlog_level = "loud"\n')
    run = installed.run("serve", "--config", "mock.toml")
    assert run.returncode == 2 and len(run.stderr.splitlines()) == 1
    assert run.stderr.startswith("mockserver: error: mock.toml [server] log_level: expected one of")


def test_docs_and_check_specs(installed):
    run = installed.run("docs", "--out", "site")
    assert run.returncode == 0, run.stderr
    assert (installed.project / "site" / "index.html").is_file()
    run = installed.run("check-specs")
    assert run.returncode == 0, run.stdout
    assert "FAILED" not in run.stdout and run.stdout.count("ok ") >= 6


def test_contract_against_statusbadge_passes_and_leaves_nothing_behind(installed):
    before = set(installed.project.iterdir())
    run = installed.run("contract", "--api", "statusbadge", "--max-examples", "2", timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "contract: passed" in run.stdout
    assert "INTERNALERROR" not in run.stdout + run.stderr
    tests = [line for line in run.stdout.splitlines() if "::" in line]
    assert tests and not [line for line in tests if "site-packages" in line]
    assert (
        "test_statusbadge.py::test_statusbadge_operations[POST /api/heartbeat] PASSED" in run.stdout
    )
    assert set(installed.project.iterdir()) == before  # no .hypothesis/, no .pytest_cache/


def test_contract_against_a_target_that_does_not_answer_is_one_line(installed):
    url = f"http://127.0.0.1:{free_port()}"
    run = installed.run("contract", "--api", "statusbadge", "--url", url)
    assert run.returncode == 2 and run.stdout == ""
    assert len(run.stderr.splitlines()) == 1
    assert run.stderr.startswith(f"mockserver: error: the contract target {url} does not answer")
