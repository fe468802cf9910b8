"""The shared-store row (issue 16): `mockserver serve --store redis://... --workers 2` with a
redis-server the harness starts on 127.0.0.1 and a free port (no persistence), measured on the
statusbadge heartbeat like Prism and the floor, so its ratio to Prism is in the same table.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import targets
from procs import Processes, free_port
from workloads import MOCK_ENV

__all__ = ["WORKERS", "mock_redis_spec", "start_redis"]

WORKERS = 2
REDIS_TIMEOUT_S = 15.0


def start_redis(procs: Processes, log_dir: Path) -> str | None:
    """A private redis-server; its URL (with a key prefix of the bench's own), or None when
    redis-server is not installed (`apt-get install redis-server`)."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    import redis  # the mock's own dependency, in the venv the harness runs in

    port = free_port()
    argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    process = procs.start("redis", argv, {}, log_dir, log_dir / "redis.log")
    deadline = time.monotonic() + REDIS_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
        try:
            if client.ping():
                return f"redis://127.0.0.1:{port}/0?prefix=bench:"
        except (redis.RedisError, OSError):
            time.sleep(0.05)
        finally:
            client.close()
    procs.stop(process)
    raise RuntimeError(f"redis-server gave no PONG within {REDIS_TIMEOUT_S:.0f} s")


def mock_redis_spec(url: str) -> targets.TargetSpec:
    base = targets.mock_spec(MOCK_ENV)
    return targets.TargetSpec(
        "mock-redis",
        lambda port: [*base.argv_for_port(port), "--store", url, "--workers", str(WORKERS)],
        base.env,
        ready_prefix="ready",
        notes=[*base.notes, f"--store redis (a redis-server of its own) --workers {WORKERS}"],
    )
