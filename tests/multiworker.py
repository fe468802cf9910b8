"""`mockserver serve --workers N` as a real subprocess, and HTTP connections pinned to a worker.

A test of shared state must know that two requests were served by two different processes,
else it could pass on one worker alone. Each keep-alive connection is accepted by one worker
and stays with it, so `pinned_connections` opens connections until every worker holds enough,
finding the owner of each in /proc (Linux): the server side of the TCP connection is a socket
inode, and exactly one worker has a file descriptor on it.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["WorkerServer", "Conn", "pinned_connections", "signal_during_a_request", "wait_until"]


class WorkerServer:
    """`python -m mockserver serve --port 0 --workers N ...`; `stop()` sends SIGTERM."""

    def __init__(
        self,
        *args: str,
        workers: int = 2,
        env: dict[str, str] | None = None,
        own_group: bool = False,
    ) -> None:
        """`own_group`: start it in a process group of its own, so a test can signal the group
        as a terminal's Ctrl-C does (the supervisor and every worker at once)."""
        self.cmd = [sys.executable, "-m", "mockserver", "serve", "--port", "0"]
        self.cmd += ["--workers", str(workers), *args]
        self.workers = workers
        self.own_group = own_group
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.host = "127.0.0.1"
        self.port = 0
        self.output: list[str] = []
        self._drain: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> WorkerServer:
        self.process = subprocess.Popen(
            self.cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            start_new_session=self.own_group,
        )
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith("ready "):
                self.url = line.split()[1]
                self.host, port = self.url.removeprefix("http://").rsplit(":", 1)
                self.port = int(port)
                # keep reading, so the workers' log lines can never fill the pipe and block them
                self._drain = threading.Thread(target=self._read_rest, daemon=True)
                self._drain.start()
                return self
            if time.monotonic() > deadline:
                break
        self.stop()
        raise RuntimeError("mockserver did not get ready:\n" + "".join(self.output))

    def _read_rest(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        parent = str(self.process.pid)
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
            if stat.rsplit(")", 1)[1].split()[1] == parent:
                pids.append(int(entry.name))
        return sorted(pids)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Signal the supervisor and wait; returns its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self._drain is not None:
            self._drain.join(10)
        elif self.process.stdout is not None:
            self.output.append(self.process.stdout.read())
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def __enter__(self) -> WorkerServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Conn:
    """One keep-alive HTTP/1.1 connection, so every request on it reaches the same worker."""

    def __init__(self, host: str, port: int, timeout: float = 30) -> None:
        self.http = http.client.HTTPConnection(host, port, timeout=timeout)
        self.http.connect()
        self.local_port = self.http.sock.getsockname()[1]
        self.worker: int | None = None

    def request(
        self, method: str, path: str, body: dict | None = None, headers: dict | None = None
    ) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json"} if data is not None else {}
        all_headers.update(headers or {})
        self.http.request(method, path, body=data, headers=all_headers)
        response = self.http.getresponse()
        raw = response.read()
        if response.getheader("connection", "").lower() == "close":
            raise AssertionError(f"the server closed a pinned connection after {method} {path}")
        content_type = response.getheader("content-type", "")
        return response.status, json.loads(raw) if "json" in content_type and raw else raw

    def close(self) -> None:
        self.http.close()


def _server_socket_inodes(port: int) -> dict[int, int]:
    """Established connections to 127.0.0.1:port: client port -> inode of the server's side."""
    out = {}
    local = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[3] == "01":
            out[int(fields[2].split(":")[1], 16)] = int(fields[9])
        # the client side of the same connection has local = the client port; skip it
    return out


def _socket_owner(pids: list[int], inode: int) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            for fd in fd_dir.iterdir():
                try:
                    if os.readlink(fd) == target:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


def pinned_connections(server: WorkerServer, per_worker: int, attempts: int = 2000) -> list[Conn]:
    """`per_worker` open connections on each worker (extra ones are closed), each knowing its
    worker's pid, in an order that alternates workers."""
    pids = server.worker_pids()
    assert len(pids) == server.workers, f"expected {server.workers} workers, found {pids}"
    by_worker: dict[int, list[Conn]] = {pid: [] for pid in pids}
    for _ in range(attempts):
        if all(len(conns) >= per_worker for conns in by_worker.values()):
            break
        conn = Conn(server.host, server.port)
        status, _ = conn.request("GET", "/__mock/health")  # answered, so accepted by a worker
        assert status == 200
        inode = _server_socket_inodes(server.port).get(conn.local_port)
        owner = None if inode is None else _socket_owner(pids, inode)
        if owner is None or len(by_worker[owner]) >= per_worker:
            conn.close()
            continue
        conn.worker = owner
        by_worker[owner].append(conn)
    else:
        counts = {pid: len(c) for pid, c in by_worker.items()}
        raise AssertionError(f"could not spread connections over the workers: {counts}")
    return [conn for group in zip(*by_worker.values(), strict=True) for conn in group]


HEARTBEAT = {  # 004: a statusbadge heartbeat (seed example)
    "token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
    "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"},
}


def wait_until(condition, what: str, timeout: float = 30.0) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds saying `what` never came."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting until {what}")
        time.sleep(0.01)


def _refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def signal_during_a_request(
    server: WorkerServer, sig: int = signal.SIGTERM, delay_ms: int = 3000, again: bool = False
) -> dict:
    """Signal the server (its whole process group if it has its own, as Ctrl-C does) while one
    statusbadge heartbeat is held in flight by a fault's `delay_ms`, and record what a client
    sees: whether connect() to the port was refused and a new server could bind it
    (SO_REUSEADDR, as `mockserver serve` binds) while that request was still in flight, the
    request's answer (None if the connection was cut), and the exit code. `again`: send the
    signal a second time once the port is closed (a second Ctrl-C)."""
    control = Conn(server.host, server.port)
    fault = {"api": "statusbadge", "delay_ms": delay_ms, "times": 1}
    assert control.request("POST", "/__mock/faults", fault)[0] == 201
    seen: dict = {}

    def in_flight() -> None:  # its answer closes the connection: the server is stopping
        conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
        headers = {"Content-Type": "application/json"}
        conn.request("POST", "/api/heartbeat", json.dumps(HEARTBEAT), headers)
        try:
            response = conn.getresponse()
            raw = response.read()
            ctype = response.getheader("content-type", "")
            seen["answer"] = response.status, json.loads(raw) if "json" in ctype else raw
        except (http.client.RemoteDisconnected, ConnectionError):
            seen["answer"] = None
        finally:
            conn.close()

    thread = threading.Thread(target=in_flight)
    thread.start()
    # The fault is used up once the request holds it: from then on it waits in its delay.
    wait_until(
        lambda: control.request("GET", "/__mock/faults")[1]["faults"] == [],
        "the heartbeat is in flight",
        30,
    )
    control.close()
    assert server.process is not None

    def send() -> None:
        if server.own_group:
            os.killpg(server.process.pid, sig)
        else:
            server.process.send_signal(sig)

    send()
    wait_until(lambda: _refused(server.host, server.port), "connect() is refused", 30)
    if again:
        send()
    seen["refused_while_in_flight"] = thread.is_alive()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((server.host, server.port))
        sock.listen(1)
    seen["rebound_while_in_flight"] = thread.is_alive()
    thread.join(60)
    seen["exit_code"] = server.process.wait(60)
    return seen
