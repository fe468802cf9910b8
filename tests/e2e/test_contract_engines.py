"""The contract suites on the reference engine too (issue 16: both engines pass them). The
API tests run on both engines through tests/conftest.py; the suites start their own mocks, so
here they run once more, in a pytest of their own, on `connexion`, with fewer examples than
the compiled run that `make test` collects from contracts/ (a CI-time budget: ~20 s)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.apis import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_every_contract_suite_passes_against_the_connexion_engine():
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MOCKSERVER_CONTRACT"))
    }
    env.update(MOCKSERVER_CONTRACT_ENGINE="connexion", MOCKSERVER_CONTRACT_MAX_EXAMPLES="10")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:xdist", "contracts"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    for api in REGISTRY:
        assert f"contract target: {api}: its own mock on 127.0.0.1 (connexion engine" in done.stdout
