"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def artifacts(request) -> Path:
    """test-artifacts/<name>/ for a browser test's screenshots: `name` is the test module's
    ARTIFACTS (dashboard, drift, docs)."""
    path = ROOT / "test-artifacts" / request.module.ARTIFACTS
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def installed_copy(tmp_path_factory) -> Path:
    """A plain, non-editable `pip install .` of this checkout into its own directory (no deps:
    the venv's are used), made once per session for the packaging and contract tests."""
    target = tmp_path_factory.mktemp("installed") / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        capture_output=True,
    )
    return target
