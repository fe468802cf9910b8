"""Servers the harness starts: started on 127.0.0.1, measured through /proc, stopped by PID.

Every process goes through :class:`Processes`, whose ``stop_all`` runs in the harness's
``finally`` (also on Ctrl-C and SIGTERM). A child also gets SIGTERM from the kernel if the harness
itself dies (PR_SET_PDEATHSIG), so a killed harness leaves no server behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import socket
import subprocess
import time
from pathlib import Path

__all__ = [
    "CpuWatch",
    "Processes",
    "busy_pct",
    "cpu_times",
    "descendants",
    "free_port",
    "paused",
    "pss_mb",
    "rss_mb",
]

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces: split after the last ')'.
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(pid: int) -> list[int]:
    """All live descendants of ``pid`` (children, grandchildren, ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _parent_of(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _vm_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` plus all its descendants, in MiB."""
    return sum(_vm_rss_kb(p) for p in [pid, *descendants(pid)]) / 1024


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_mb(pid: int) -> float:
    """PSS of ``pid`` plus its descendants, in MiB: forked workers share their parent's pages,
    which VmRSS counts once per process (PSS divides each shared page among its sharers)."""
    return sum(_pss_kb(p) for p in [pid, *descendants(pid)]) / 1024


def busy_pct(seconds: float = 1.0) -> float:
    """Share of all CPUs not idle over ``seconds``: what else is running before we start."""
    before = cpu_times()
    time.sleep(seconds)
    after = cpu_times()
    total = sum(after) - sum(before)
    idle = (after[3] + after[4]) - (before[3] + before[4])
    return round(100 * (total - idle) / total, 1) if total else 0.0


def _process_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


class CpuWatch:
    """CPU used during a measurement (100 = one core): by the server, by wrk, by everything else.

    This machine is shared; "other" is what the table shows as bg%, the noise behind a row.
    """

    def __init__(self, server_pid: int) -> None:
        self.pids = [server_pid, *descendants(server_pid)]
        self.started = time.monotonic()
        self.machine = cpu_times()
        self.server = sum(_process_ticks(p) for p in self.pids)
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.me = resource.getrusage(resource.RUSAGE_SELF)

    def stop(self) -> dict:
        seconds = time.monotonic() - self.started
        tick = os.sysconf("SC_CLK_TCK")
        machine = cpu_times()
        busy = (sum(machine) - machine[3] - machine[4]) - (
            sum(self.machine) - self.machine[3] - self.machine[4]
        )
        server = sum(_process_ticks(p) for p in self.pids) - self.server
        children, me = (
            resource.getrusage(resource.RUSAGE_CHILDREN),
            resource.getrusage(resource.RUSAGE_SELF),
        )
        wrk = (children.ru_utime + children.ru_stime) - (
            self.children.ru_utime + self.children.ru_stime
        )
        harness = (me.ru_utime + me.ru_stime) - (self.me.ru_utime + self.me.ru_stime)

        def pct(cpu_seconds: float) -> float:
            return round(100 * cpu_seconds / seconds, 1) if seconds else 0.0

        return {
            "server_cpu_pct": pct(server / tick),
            "wrk_cpu_pct": pct(wrk),
            "other_cpu_pct": max(0.0, pct(busy / tick - server / tick - wrk - harness)),
        }


def cpu_times() -> list[int]:
    """The aggregate ``cpu`` line of /proc/stat (user nice system idle iowait irq softirq steal)."""
    return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Processes:
    """Starts processes, remembers their PIDs, and stops exactly those (and their children)."""

    def __init__(self) -> None:
        self._running: dict[int, tuple[str, subprocess.Popen]] = {}

    def start(
        self, name: str, argv: list[str], env: dict[str, str], cwd: Path, log: Path
    ) -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the harness, which stops the servers
                preexec_fn=_die_with_parent,
            )
        self._running[process.pid] = (name, process)
        return process

    def stop(self, process: subprocess.Popen, grace: float = 5.0) -> None:
        """SIGTERM the process and its descendants by PID, then SIGKILL whatever is left."""
        self._running.pop(process.pid, None)
        if process.poll() is not None:
            return
        pids = [process.pid, *descendants(process.pid)]
        for pid in pids:
            _signal(pid, signal.SIGTERM)
            _signal(pid, signal.SIGCONT)  # a paused process acts on SIGTERM only once continued
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        for pid in pids:
            if Path(f"/proc/{pid}").exists():
                _signal(pid, signal.SIGKILL)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass

    def stop_all(self) -> None:
        for _, process in list(self._running.values()):
            self.stop(process)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


@contextlib.contextmanager
def paused(processes: list[subprocess.Popen]):
    """SIGSTOP ``processes`` and their descendants while one target is measured, SIGCONT after
    (also on an error or Ctrl-C): an idle server still takes CPU (Node's GC and timers, uvicorn's
    per-second date header), and on two cores that showed in the measured target's tail.
    A process that was paused is continued by ``Processes.stop`` too."""
    pids = [pid for p in processes if p.poll() is None for pid in (p.pid, *descendants(p.pid))]
    try:
        for pid in pids:
            _signal(pid, signal.SIGSTOP)
        yield pids
    finally:
        for pid in pids:
            _signal(pid, signal.SIGCONT)
