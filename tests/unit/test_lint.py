"""The code stays ruff-clean (lint and format), as the house style asks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATHS = ["mockserver", "tests", "contracts", "bench"]


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *PATHS], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_check_is_clean():
    r = ruff("check")
    assert r.returncode == 0, r.stdout


def test_ruff_format_is_clean():
    r = ruff("format", "--check")
    assert r.returncode == 0, r.stdout
