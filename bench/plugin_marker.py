"""What `@pytest.mark.mockserver(api_settings=...)` costs a test, next to a plain test (issue 18:
target <= 20 ms more), and, for scale, a marker that still gets a server of its own (`apis=`).

One pytest session in a scratch directory runs the three kinds interleaved (plain, api_settings,
plain, ..., so a noisy moment hits every kind), each test sending one Sonoran heartbeat through
the plugin's `mockserver` fixture; a hook records each test's whole protocol (set-up, call,
teardown) with `time.perf_counter`. The first test, which starts the session's server, is left
out. Standalone: `.venv/bin/python bench/plugin_marker.py [--tests N]`; `bench/run.py` runs it
as its last phase (one row in the table).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["MAX_EXTRA_MS", "measure", "rows"]

REPO_DIR = Path(__file__).resolve().parents[1]
MAX_EXTRA_MS = 20.0

CONFTEST = """
import json, os, time
import pytest

TIMES = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.perf_counter()
    yield
    TIMES.append([item.name.split("[")[0], time.perf_counter() - start])


def pytest_sessionfinish(session):
    with open(os.environ["MARKER_BENCH_OUT"], "w") as fh:
        json.dump(TIMES, fh)
"""

TESTS = """
import httpx, pytest

KEY = {"Authorization": "Bearer bench-key-0123456789"}
SETTINGS = {"sonoran": {"rate_limit_per_minute": 5, "heartbeat_retention_seconds": 600}}
CLIENT = httpx.Client()  # the client under test, built once as an integrator's would be


def beat(mockserver):
    r = CLIENT.post(mockserver.url + "/v2/general/servers/1/heartbeat",
                    json={"playerCount": 1}, headers=KEY)
    assert r.status_code == 200


def test_first(mockserver):  # starts the session's server: left out
    beat(mockserver)


@pytest.mark.parametrize("i", range(N))
def test_plain(mockserver, i):
    beat(mockserver)


@pytest.mark.parametrize("i", range(N))
@pytest.mark.mockserver(api_settings=SETTINGS)
def test_api_settings(mockserver, i):
    beat(mockserver)


@pytest.mark.parametrize("i", range(OWN))
@pytest.mark.mockserver(apis=["sonoran"], api_settings=SETTINGS)
def test_own_server(mockserver, i):
    beat(mockserver)
"""

ORDER_PLUGIN = '''
def pytest_collection_modifyitems(items):
    """plain, api_settings, plain, api_settings, ..., own servers spread among them."""
    first = [i for i in items if i.name == "test_first"]
    kinds = {}
    for item in items:
        if item.name != "test_first":
            kinds.setdefault(item.name.split("[")[0], []).append(item)
    plain, marked, own = (kinds.get(k, []) for k in ("test_plain", "test_api_settings",
                                                     "test_own_server"))
    mixed = []
    every = max(1, len(plain) // max(1, len(own)))
    for n, pair in enumerate(zip(plain, marked)):
        mixed.extend(pair)
        if own and n % every == every - 1:
            mixed.append(own.pop(0))
    items[:] = first + mixed + own
'''


def measure(tests: int = 40, own: int = 5, timeout: float = 300.0) -> dict:
    """Run the session; per kind the median and p90 in ms and the count."""
    with tempfile.TemporaryDirectory(prefix="marker-bench-") as scratch:
        root = Path(scratch)
        (root / "conftest.py").write_text(CONFTEST + ORDER_PLUGIN)
        (root / "test_marker_bench.py").write_text(
            TESTS.replace("range(N)", f"range({tests})").replace("range(OWN)", f"range({own})")
        )
        out = root / "times.json"
        env = {**os.environ, "MARKER_BENCH_OUT": str(out), "PYTHONPATH": str(REPO_DIR)}
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise RuntimeError(f"the marker bench's tests failed:\n{result.stdout[-3000:]}")
        times = json.loads(out.read_text())
    by_kind: dict[str, list[float]] = {}
    for name, seconds in times:
        if name != "test_first":
            by_kind.setdefault(name.removeprefix("test_"), []).append(seconds * 1000)
    summary = {
        kind: {
            "median_ms": round(statistics.median(values), 2),
            "p90_ms": round(statistics.quantiles(values, n=10)[-1], 2)
            if len(values) > 1
            else round(values[0], 2),
            "tests": len(values),
        }
        for kind, values in by_kind.items()
    }
    summary["session_s"] = round(time.monotonic() - started, 1)
    return summary


def rows(tests: int = 40, own: int = 5) -> list[dict]:
    """The bench table's row (bench/report.py): the extra cost of an api_settings test."""
    figures = measure(tests, own)
    plain, marked = figures["plain"]["median_ms"], figures["api_settings"]["median_ms"]
    extra = round(marked - plain, 2)
    own_extra = round(figures["own_server"]["median_ms"] - plain, 1)
    verdict = "pass" if extra <= MAX_EXTRA_MS else "FAIL"
    note = (
        f"pytest: a test with @pytest.mark.mockserver(api_settings=...) {marked:.1f} ms vs a "
        f"plain test {plain:.1f} ms (median of {figures['plain']['tests']} each): +{extra:.1f} ms "
        f"(target <= {MAX_EXTRA_MS:g} ms: {verdict}); a marker with apis= (a server of its "
        f"own): +{own_extra:.0f} ms"
    )
    return [
        {
            "kind": "pytest",
            "label": "pytest / api_settings marker",
            "marker_extra_ms": extra,
            "figures": figures,
            "note": note,
        }
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=40, help="tests of each kind (default 40)")
    parser.add_argument("--own", type=int, default=5, help="tests with a server of their own")
    args = parser.parse_args(argv)
    (row,) = rows(args.tests, args.own)
    print(json.dumps(row["figures"], indent=1))
    print(row["note"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
