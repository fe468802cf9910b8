"""The three servers compared in one run, and how each is started and timed to its first 200.

- mock:  ``python -m mockserver serve --quiet`` with every API it has (workloads.MOCK_ENV
  applied; quiet: no request log, as Prism is run quiet);
- floor: bench/floor_app.py under uvicorn (same loop and HTTP parser defaults as the mock);
- prism: ``prism mock specs/statusbadge.yaml -v error`` (quiet: Prism's default per-request
  logging halves its throughput, see shared/notes/performance-anchors.md).

Start-up is the time from spawning the process to the first 200 on the statusbadge heartbeat.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from httpjson import request_raw
from procs import Processes, descendants, free_port, pss_mb, rss_mb
from workloads import MOCK_ENV

__all__ = ["Started", "TargetSpec", "floor_spec", "mock_spec", "prism_spec", "start"]

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
STARTUP_TIMEOUT_S = 60.0
PROBE_PATH = "/api/heartbeat"
PROBE_BODY = (BENCH_DIR / "bodies" / "statusbadge.json").read_bytes().strip()
PROBE_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def _python() -> str:
    venv = REPO_DIR / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONUNBUFFERED"] = "1"  # the `ready` line reaches the log when printed, not at exit
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class TargetSpec:
    name: str  # "mock", "floor", "prism"
    argv_for_port: object  # Callable[[int], list[str]]
    env: dict[str, str]
    ready_prefix: str | None = None  # a log line that announces readiness, timed as well
    notes: list[str] = field(default_factory=list)


def mock_spec(settings_env: dict[str, str] | None = None) -> TargetSpec:
    settings_env = MOCK_ENV if settings_env is None else settings_env
    return TargetSpec(
        "mock",
        # --quiet: no request log, as Prism runs with `-v error` (each logs a line per request
        # by default; about 19 µs a line for the mock)
        lambda port: [
            _python(),
            *"-m mockserver serve --quiet --host 127.0.0.1 --port".split(),
            str(port),
        ],
        _server_env(settings_env),
        ready_prefix="ready",
        notes=["--quiet (no request log)", *(f"env {k}={v}" for k, v in settings_env.items())],
    )


def floor_spec() -> TargetSpec:
    return TargetSpec(
        "floor",
        lambda port: [
            _python(),
            *"-m uvicorn --app-dir".split(),
            str(BENCH_DIR),
            *"floor_app:app --log-level warning".split(),
            *f"--no-access-log --host 127.0.0.1 --port {port}".split(),
        ],
        _server_env(),
        notes=["uvicorn defaults (uvloop + httptools when installed), access log off"],
    )


def prism_spec(prism: Path, spec: Path) -> TargetSpec:
    return TargetSpec(
        "prism",
        lambda port: [str(prism), *f"mock -h 127.0.0.1 -p {port} -v error".split(), str(spec)],
        dict(os.environ),
        notes=["-v error (quiet logging), static examples, one process"],
    )


@dataclass
class Started:
    spec: TargetSpec
    process: object  # subprocess.Popen
    port: int
    startup_s: float | None
    ready_line_s: float | None
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        return round(rss_mb(self.process.pid), 1)

    def memory_note(self) -> str:
        """For a target of several processes: how many, and their PSS (shared pages once)."""
        count = 1 + len(descendants(self.process.pid))
        if count == 1:
            return ""
        pss = pss_mb(self.process.pid)
        return f"; {count} processes, PSS {pss:.1f} MB (RSS counts a shared page in each)"


def _ready_line_seen(log: Path, prefix: str) -> bool:
    try:
        return any(line.startswith(prefix) for line in log.read_text(errors="replace").splitlines())
    except OSError:
        return False


def start(procs: Processes, spec: TargetSpec, log_dir: Path, tag: str = "") -> Started:
    """Spawn the target on a free 127.0.0.1 port; wait (bounded) for its first 200."""
    port = free_port()
    log = log_dir / f"{spec.name}{tag}.log"
    started_at = time.monotonic()
    process = procs.start(spec.name, spec.argv_for_port(port), spec.env, REPO_DIR, log)
    first_ok = ready_at = last_status = None
    url = f"http://127.0.0.1:{port}{PROBE_PATH}"
    deadline = started_at + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        if spec.ready_prefix and ready_at is None and _ready_line_seen(log, spec.ready_prefix):
            ready_at = time.monotonic()
        try:
            status, _ = request_raw("POST", url, PROBE_BODY, PROBE_HEADERS, timeout=5.0)
        except OSError:
            status = None
        last_status = status if status is not None else last_status
        if status == 200:
            first_ok = time.monotonic()
            break
        time.sleep(0.005)
    ready_deadline = time.monotonic() + 1.0  # the line may follow the first 200 by a moment
    while spec.ready_prefix and ready_at is None and time.monotonic() < ready_deadline:
        if _ready_line_seen(log, spec.ready_prefix):
            ready_at = time.monotonic()
        else:
            time.sleep(0.005)
    if first_ok is None:
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        procs.stop(process)
        raise RuntimeError(
            f"{spec.name} gave no 200 on {PROBE_PATH} within "
            f"{STARTUP_TIMEOUT_S:.0f} s (last status {last_status}, exit code "
            f"{process.returncode}); log tail:\n{tail}"
        )
    return Started(
        spec,
        process,
        port,
        round(first_ok - started_at, 3),
        round(ready_at - started_at, 3) if ready_at else None,
        log,
    )
