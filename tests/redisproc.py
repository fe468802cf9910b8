"""A real `redis-server` process for tests: on 127.0.0.1 and a free port, no persistence by
default, stopped by its PID. Never a fake (issue 10): the Redis store is tested against Redis.

Debian's `redis-server` must be on PATH (tests/run_all.py installs it in CI when missing).
"""

from __future__ import annotations

import contextlib
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import redis

__all__ = ["CuttingProxy", "RedisProcess", "free_port", "redis_server_binary"]


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


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 in front of a Redis port that can cut one connection at a
    chosen moment, so a test can make a connection die under a given command, deterministically:

    - `cut_next(marker)`: the next client chunk holding `marker` is not forwarded; both sides
      are closed (a connection that died before its command reached Redis);
    - `cut_next(marker, after_reply=True)`: it is forwarded, Redis's reply is read and thrown
      away, then both sides are closed (a command that ran, whose reply was lost).

    - `drop_all()`: every open connection is closed now, as a Redis that restarts closes them.

    `cuts` counts the cuts done. Every thread polls with a short timeout and stops on `close()`.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.cuts = 0
        self._armed: tuple[bytes, bool] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def cut_next(self, marker: bytes, *, after_reply: bool = False) -> None:
        with self._lock:
            self._armed = (marker, after_reply)

    def drop_all(self) -> None:
        """Close both sides of every open connection; returns once the FINs are sent."""
        with self._lock:
            sockets, self._open = self._open, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _take(self, chunk: bytes) -> bool | None:
        """None: forward as usual; else the armed cut (its after_reply), now disarmed."""
        with self._lock:
            if self._armed is None or self._armed[0] not in chunk:
                return None
            after_reply = self._armed[1]
            self._armed = None
            self.cuts += 1
            return after_reply

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            with self._lock:
                self._open += [client, upstream]
            thread = threading.Thread(target=self._pump, args=(client, upstream), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select([client, upstream], [], [], 0.1)
                for sock in readable:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    if sock is upstream:
                        client.sendall(chunk)
                        continue
                    cut = self._take(chunk)
                    if cut is None:
                        upstream.sendall(chunk)
                        continue
                    if cut:  # let Redis run it, and lose its reply
                        upstream.sendall(chunk)
                        upstream.recv(65536)
                    return
        except OSError:
            return
        finally:
            client.close()
            upstream.close()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
