"""A real `redis-server` process for tests: on 127.0.0.1 and a free port, no persistence by
default, stopped by its PID. Never a fake (issue 10): the Redis store is tested against Redis.

Debian's `redis-server` must be on PATH (tests/run_all.py installs it in CI when missing).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

__all__ = ["RedisProcess", "free_port", "redis_server_binary"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


class RedisProcess:
    """`redis-server --port P --save '' --appendonly no` (or with an append-only file, so a
    restart keeps the data: `persistent=True`). `stop()` and `start()` again reuse the port."""

    def __init__(self, *, persistent: bool = False) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: `apt-get install redis-server` "
                "(tests/run_all.py does it in CI), or run pytest with --stores memory"
            )
        self.binary = binary
        self.persistent = persistent
        self.dir = Path(tempfile.mkdtemp(prefix="mockserver-redis-"))
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _command(self) -> list[str]:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        cmd += ["--save", "", "--daemonize", "no", "--logfile", str(self.dir / "redis.log")]
        if self.persistent:
            cmd += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            cmd += ["--appendonly", "no"]
        return cmd

    def start(self, timeout: float = 10.0) -> RedisProcess:
        for _ in range(5):  # a free port can be taken between choosing and binding it
            self.port = self.port or free_port()
            self.process = subprocess.Popen(
                self._command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
            )
            if self._wait_ready(timeout):
                return self
            self._kill()
            if self.persistent:
                break  # a persistent server must come back on its own port
            self.port = 0
        raise RuntimeError(f"redis-server did not start; see {self.dir / 'redis.log'}")

    def _wait_ready(self, timeout: float) -> bool:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    return False
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return True
                time.sleep(0.02)
            return False
        finally:
            client.close()

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        """SIGTERM (Redis flushes its append-only file) and wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self._kill()
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
