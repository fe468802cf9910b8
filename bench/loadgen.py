"""wrk runs: fixed heartbeats (wrk/request.lua) and bounded creation of many things (wrk/fresh.lua).

wrk (Debian's package) is the load generator: a C event loop that keeps 16 connections busy from
two threads at well under one core, so on a 2-core machine it leaves the server the other core,
and it reports latency percentiles from an HdrHistogram-like record of every request.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from workloads import Heartbeat, ScaleFill

__all__ = ["WrkResult", "run_fill", "run_wrk"]

LUA_DIR = Path(__file__).resolve().parent / "wrk"

WrkResult = dict  # requests, duration_us, rps, p50_ms, p99_ms, errors, non_2xx ... (see _parse)


def _headers_env(headers: dict[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def _parse(output: str) -> WrkResult:
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            raw = json.loads(line[len("BENCH_RESULT ") :])
            seconds = raw["duration_us"] / 1e6
            socket_errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"]
            return {
                "requests": raw["requests"],
                "seconds": round(seconds, 3),
                "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
                "p50_ms": raw["p50_us"] / 1000,
                "p90_ms": raw["p90_us"] / 1000,
                "p99_ms": raw["p99_us"] / 1000,
                "max_ms": raw["max_us"] / 1000,
                "mean_ms": round(raw["mean_us"] / 1000, 3),
                "non_2xx_3xx": raw["status_errors"],
                "socket_errors": socket_errors,
                "timeouts": raw["timeouts"],
            }
    raise RuntimeError("wrk printed no BENCH_RESULT line:\n" + output[-2000:])


def _wrk_argv(url: str, script: str, threads: int, connections: int, seconds: float) -> list[str]:
    return [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(LUA_DIR / script),
        url,
    ]


def run_wrk(
    base_url: str,
    heartbeat: Heartbeat,
    seconds: float,
    threads: int,
    connections: int,
) -> WrkResult:
    """``wrk -tT -cC -dS --latency`` with the heartbeat; bounded by ``seconds`` (+ a margin)."""
    with tempfile.NamedTemporaryFile("w", suffix=".bodies", delete=False) as bodies:
        bodies.write("\n".join(heartbeat.bodies) + "\n")
    env = {
        **os.environ,
        "BENCH_METHOD": heartbeat.method,
        "BENCH_HEADERS": _headers_env(heartbeat.headers),
        "BENCH_BODIES_FILE": bodies.name,
        "BENCH_LUA_DIR": str(LUA_DIR),
    }
    argv = _wrk_argv(base_url + heartbeat.path, "request.lua", threads, connections, seconds)
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
    finally:
        os.unlink(bodies.name)
    result = _parse(done.stdout)
    result["wrk_text"] = done.stdout
    return result


def run_fill(
    base_url: str,
    fill: ScaleFill,
    count: int,
    max_seconds: float,
    threads: int,
    connections: int,
) -> WrkResult:
    """Create ``count`` distinct things with wrk/fresh.lua; stops wrk when every thread is done.

    Bounded twice: by count (each thread makes its share of new ids, then only idles) and by time
    (wrk's -d is ``max_seconds``). Returns wrk's totals plus ``ids_sent`` and ``seconds``.
    """
    done_dir = Path(tempfile.mkdtemp(prefix="bench-fill-"))
    nonce = f"{random.getrandbits(32):08x}"
    env = {
        **os.environ,
        "BENCH_METHOD": fill.method,
        "BENCH_HEADERS": _headers_env(fill.headers),
        "BENCH_BODY_TEMPLATE": fill.body_template,
        "BENCH_LIMIT": str(count),
        "BENCH_THREADS": str(threads),
        "BENCH_NONCE": nonce,
        "BENCH_NONCE_DIGITS": str(random.randint(100, 999)),
        "BENCH_IDLE_PATH": "/__mock/health",
        "BENCH_DONE_DIR": str(done_dir),
        "BENCH_LUA_DIR": str(LUA_DIR),
    }
    argv = _wrk_argv(base_url + fill.path, "fresh.lua", threads, connections, max_seconds)
    started = time.monotonic()
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = started + max_seconds + 30
        while process.poll() is None and time.monotonic() < deadline:
            if len(list(done_dir.iterdir())) >= threads:
                process.send_signal(signal.SIGINT)  # wrk stops and prints its summary
                break
            time.sleep(0.05)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    elapsed = time.monotonic() - started
    finished = list(done_dir.iterdir())
    ids_sent = sum(int(p.read_text() or 0) for p in finished)
    for marker in done_dir.iterdir():
        marker.unlink()
    done_dir.rmdir()
    result = _parse(output)
    result.update(
        {
            "complete": len(finished) >= threads,  # False: stopped by the time bound
            "ids_sent_by_finished_threads": ids_sent,
            "fill_seconds": round(elapsed, 2),
        }
    )
    return result
