"""What the benchmark needs: wrk, Prism, compiled bytecode, and a note of the machine it ran on.

wrk comes from Debian's packages, Prism from the npm registry into bench/.prism (git-ignored).
Prism 5.15 and later declare Node >= 24, so the version is pinned to one that installs on Node 20.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = [
    "PRISM_VERSION",
    "compile_bytecode",
    "ensure_prism",
    "ensure_wrk",
    "machine_note",
    "prism_bin",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PRISM_VERSION = "5.14.2"
PRISM_PREFIX = BENCH_DIR / ".prism"


def _run(argv: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    print("  $", " ".join(argv), flush=True)
    return subprocess.run(argv, timeout=timeout, check=True, **kwargs)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: run `apt-get install -y wrk` as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-qq"], timeout=300, env=env)
    _run(["apt-get", "install", "-y", "-qq", "wrk"], timeout=300, env=env)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("apt-get installed wrk but it is not on PATH")
    return found


def prism_bin() -> Path:
    return PRISM_PREFIX / "node_modules" / ".bin" / "prism"


def ensure_prism() -> Path | None:
    """Install @stoplight/prism-cli into bench/.prism when missing; None when npm is missing."""
    if prism_bin().exists():
        return prism_bin()
    if not shutil.which("npm"):
        print("  npm not found: Prism is skipped")
        return None
    PRISM_PREFIX.mkdir(exist_ok=True)
    _run(
        [
            "npm",
            "install",
            "--prefix",
            str(PRISM_PREFIX),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"@stoplight/prism-cli@{PRISM_VERSION}",
        ],
        timeout=600,
    )
    return prism_bin() if prism_bin().exists() else None


def compile_bytecode() -> str:
    """Precompile site-packages and the project, so start-up is measured with .pyc files."""
    targets = [sysconfig.get_paths()["purelib"], str(BENCH_DIR)]
    if (REPO_DIR / "mockserver").is_dir():
        targets.append(str(REPO_DIR / "mockserver"))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *targets],
        timeout=600,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    return (
        "compileall -q on site-packages, mockserver/ and bench/ before the run; "
        "PYTHONDONTWRITEBYTECODE removed from the servers' environment"
        + (" (it is set on this machine)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "")
    )


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        return done.stdout.strip().splitlines()[0]  # (wrk --version exits 1 but prints)
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def machine_note() -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    commit = _first_line(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"])
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": _first_line(["node", "--version"]),
        "wrk": _first_line(["wrk", "--version"]),
        "prism": PRISM_VERSION if prism_bin().exists() else None,
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        "git_commit": commit,
    }
