"""`mockserver contract` as CI runs it: a real process, pytest underneath, JUnit XML out.

The full-strength contract run is part of `make test` (contracts/ is in testpaths); these tests
check the command itself: that it passes for every registered API, and that a handler that
breaks its spec makes it fail with a report naming the check and the operation.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockserver.apis import api_names
from mockserver.apis.statusbadge import StatusbadgeApi
from mockserver.server import BackgroundServer
from mockserver.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def contract(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "contract", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def junit_cases(path: Path) -> list[ET.Element]:
    return list(ET.parse(path).getroot().iter("testcase"))


def test_contract_passes_for_every_registered_api(tmp_path):
    junit = tmp_path / "contracts.xml"
    run = contract("--max-examples", "3", "--junit", str(junit))
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "contract: passed" in run.stdout
    cases = junit_cases(junit)
    for api in api_names():
        ran = [c for c in cases if c.get("classname", "").endswith(f"test_{api}")]
        assert ran, f"no contract test of {api} in the JUnit report"
        assert any(c.get("name", "").startswith(f"test_{api}_operations[") for c in ran)
        success = [c for c in ran if c.get("name") == f"test_{api}_every_operation_succeeded"]
        assert success and success[0].find("skipped") is None, f"{api}: the 2xx check did not run"
        assert not [c for c in ran if c.find("failure") is not None or c.find("error") is not None]
    assert "contract summary" in run.stdout


@pytest.fixture
def broken_statusbadge(monkeypatch):
    """A mock whose heartbeat answers a publicId the spec's pattern forbids (and no response
    validation in the mock, so the wrong body reaches the client as a real bug would)."""

    async def broken_heartbeat(self, body):
        return {
            "success": True,
            "publicId": "srv_pub_NOT-HEX",
            "message": "Heartbeat recorded successfully",
        }, 200

    monkeypatch.setattr(StatusbadgeApi, "statusbadge_heartbeat", broken_heartbeat)
    with BackgroundServer(
        Settings(port=0, apis=["statusbadge"], validate_responses=False)
    ) as server:
        yield server


def test_a_broken_handler_fails_the_contract_with_a_readable_report(broken_statusbadge, tmp_path):
    junit = tmp_path / "contracts.xml"
    run = contract(
        "--api",
        "statusbadge",
        "--url",
        broken_statusbadge.url,
        "--max-examples",
        "3",
        "--junit",
        str(junit),
    )
    assert run.returncode == 1, run.stdout[-4000:] + run.stderr[-2000:]
    assert "contract: FAILED" in run.stdout
    report = run.stdout
    failed = r"FAILED \S*test_statusbadge\.py::test_statusbadge_operations\[POST /api/heartbeat\]"
    assert re.search(failed, report)
    assert "Response violates schema" in report
    assert "srv_pub_NOT-HEX" in report  # the offending body
    assert "curl -X POST" in report  # how to reproduce it
    failed = [c for c in junit_cases(junit) if c.find("failure") is not None]
    assert "test_statusbadge_operations[POST /api/heartbeat]" in {c.get("name") for c in failed}


def test_contract_refuses_unknown_apis_and_bad_options():
    run = contract("--api", "nosuchapi")
    assert run.returncode == 2
    assert "unknown API 'nosuchapi'" in run.stderr
    run = contract("--auth", "statusbadge")
    assert run.returncode == 2
    assert "--auth wants API=VALUE" in run.stderr
    run = contract("--url", "ftp://example.com")
    assert run.returncode == 2
    assert "not an http(s) URL" in run.stderr


def test_an_installed_package_finds_its_contracts_or_says_it_needs_a_checkout(
    installed_copy, tmp_path
):
    """A plain `pip install .` ships contracts/ as mockserver/contracts when pyproject's wheel
    force-include lists it; without that, `mockserver contract` says it needs a source checkout."""
    target = installed_copy
    installed_env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    if (target / "mockserver" / "contracts").is_dir():
        probe = "import mockserver.contract.cli as c; print(c.contracts_dir())"
        out = subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
            env=installed_env,
        ).stdout.strip()
        assert out == str(target / "mockserver" / "contracts")
        shipped = {p.name for p in (target / "mockserver" / "contracts").glob("test_*.py")}
        assert shipped == {f"test_{api}.py" for api in api_names()}
    else:
        run = subprocess.run(
            [sys.executable, "-m", "mockserver", "contract"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=installed_env,
            stdin=subprocess.DEVNULL,
        )
        assert run.returncode == 2
        assert "run from a source checkout" in run.stderr


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_target_is_one_line_and_a_non_zero_exit():
    url = f"http://127.0.0.1:{free_port()}"
    run = contract("--api", "statusbadge", "--url", url, timeout=60)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        f"mockserver: error: the contract target {url} does not answer: "
        "[Errno 111] Connection refused"
    ]


def test_contract_runs_without_pytest_xdist(tmp_path):
    """A plain `pip install` has no pytest-xdist (a dev extra): its xdist_group mark must not
    be added, nor any warning be turned into an error."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_ADDOPTS": "-p no:xdist"}
    run = subprocess.run(
        [sys.executable, "-m", "mockserver", "contract", "--api", "statusbadge"]
        + ["--max-examples", "1", "--", "-k", "heartbeat and not OPTIONS"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "INTERNALERROR" not in run.stdout + run.stderr
    assert "contract: passed" in run.stdout


def test_an_installed_contract_run_names_tests_alike_passes_pytest_args_and_leaves_no_files(
    installed_copy, tmp_path
):
    """From an install, in a folder of the caller's: test ids as in the JUnit XML (no
    site-packages path), the summary names operations as the ids do, arguments after `--`
    reach pytest, and hypothesis leaves no `.hypothesis/` behind."""
    cwd = tmp_path / "project"
    cwd.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed_copy)}
    run = subprocess.run(
        [sys.executable, "-m", "mockserver", "contract", "--api", "statusbadge"]
        + ["--max-examples", "1", "--", "-k", "operations"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    out = run.stdout
    ran = re.findall(r"^(\S+)::test_statusbadge_operations\[([^\]]+)\] PASSED", out, re.M)
    assert ran and {path for path, _ in ran} == {"test_statusbadge.py"}, out[-3000:]
    assert "site-packages" not in out
    assert "deselected" in out  # -k reached pytest: the stateful and 2xx tests did not run
    summary = out[out.index("contract summary") :]
    rows = re.findall(r"^  ((?:GET|POST|OPTIONS) \S+) +\d{3}×", summary, re.M)
    assert sorted(rows) == sorted(label for _, label in ran)
    assert "statusbadge_heartbeat" not in summary  # operationIds are not a third name
    assert list(cwd.iterdir()) == []


def test_arguments_after_a_double_dash_are_refused_by_commands_that_take_none():
    run = subprocess.run(
        [sys.executable, "-m", "mockserver", "check-specs", "--", "-x"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.startswith("usage: mockserver check-specs")
    assert "takes no arguments after --: -x" in run.stderr
