"""What proxy mode costs per request (issue 19): statusbadge heartbeats sent one at a time to a
mock directly, and through a second mock proxying to it (observe and strict), on each engine.

    .venv/bin/python bench/proxy_overhead.py [--requests N]

Everything runs on 127.0.0.1 and free ports; every loop is bounded by --requests. It prints the
median and 95th percentile latency in ms; timings are reported here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mockserver.server import BackgroundServer  # noqa: E402
from mockserver.settings import Settings  # noqa: E402

BODY = {
    "token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
    "data": {"status": "online", "players": 15, "maxPlayers": 100, "tps": 19.8, "version": "5"},
}


def latencies(url: str, requests: int) -> tuple[float, float]:
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(min(20, requests)):  # warm-up: pools, caches
            client.post("/api/heartbeat", json=BODY)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            answer = client.post("/api/heartbeat", json=BODY)
            times.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def shown(figures: tuple[float, float]) -> str:
    return f"{figures[0]:.2f}/{figures[1]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    n = parser.parse_args().requests
    for engine in ("compiled", "connexion"):
        with BackgroundServer(Settings(port=0, engine=engine)) as upstream:
            row = [f"{engine:<10} direct {shown(latencies(upstream.url, n))}"]
            for mode in ("observe", "strict"):
                proxy = {"statusbadge": {"proxy": upstream.url, "proxy_mode": mode}}
                with BackgroundServer(Settings(port=0, engine=engine, api_settings=proxy)) as px:
                    row.append(f"{mode} {shown(latencies(px.url, n))}")
            print("  ".join(row), "(median/p95 ms)")


if __name__ == "__main__":
    main()
