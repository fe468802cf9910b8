"""Run the mock as a real HTTP server: in a background thread (tests, scripts), in the
foreground (`mockserver serve`), or as several worker processes sharing one listening socket
(`mockserver serve --workers N`, with a shared store). Sockets are bound here, before uvicorn
starts, so a taken port is reported in one line and port 0 picks a free one, and every way of
starting a server (serve, serve --workers, BackgroundServer, the pytest plugin) goes through
`bind_socket`, which holds the one rule on exposing the control API."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import ipaddress
import logging
import os
import select
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable

import uvicorn

from mockserver.app import MockServerApp, build_app
from mockserver.settings import Settings, SettingsError

__all__ = [
    "BackgroundServer",
    "MockUvicornServer",
    "bind_socket",
    "uvicorn_config",
    "is_loopback",
    "refuse_exposed_control",
    "run_serving",
    "serve_workers",
    "tune_gc_for_serving",
]


# How long a stopping server waits for the requests in flight (uvicorn_config).
GRACEFUL_SHUTDOWN_SECONDS = 10
# The young generation is collected once per 10 000 net allocations instead of 700.
SERVING_GC_THRESHOLD = (10_000, 20, 10)


def tune_gc_for_serving() -> None:
    """Once the app is built, before a serving process takes requests: what start-up made
    (specs, validators, connexion's apps: ~70 000 objects) is moved out of the collector's
    sight (`gc.freeze`, no collection first: it found ~60 objects and cost ~45 ms of start-up),
    and the young generation is collected less often. Measured under wrk (bench/README.md):
    the default collector paused a serving mock for up to ~4.5 ms a few times per 5 s, never
    more; with this, no collection ran at all. Per-request garbage is freed by reference
    counting. For `serve` and its workers only: a process that embeds the mock keeps its own."""
    gc.freeze()
    gc.set_threshold(*SERVING_GC_THRESHOLD)


class MockUvicornServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, so the process would die by
    the signal; a mock stopped on purpose should exit 0. The signals still stop it gracefully:
    the listening socket closes first, then the requests in flight finish, for up to
    GRACEFUL_SHUTDOWN_SECONDS (a fault's `delay_ms` may hold one for 60 s)."""

    async def _wait_tasks_to_complete(self) -> None:
        """Requests still running when the wait ends (the graceful timeout, or a second Ctrl-C)
        are cut: their connections close with no answer, as a `drop` fault's do. Left to
        uvicorn, their tasks would be cancelled and each client would get uvicorn's plain-text
        500, in no API's format and no spec."""
        try:
            await super()._wait_tasks_to_complete()
        finally:
            for connection in list(self.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()

    @contextlib.contextmanager
    def capture_signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serving_loop(config: uvicorn.Config) -> asyncio.AbstractEventLoop:
    """A new event loop of the kind `uvicorn` itself would serve on (its `loop="auto"`: uvloop
    where it is installed, as with uvicorn[standard], else asyncio's own). Measured on a serving
    mock (bench/README.md): asyncio's selector loop and its transports were about a fifth of the
    time per heartbeat."""
    factory = config.get_loop_factory()
    return factory() if factory is not None else asyncio.new_event_loop()


def run_serving(main, config: uvicorn.Config):
    """`asyncio.run(main)` on `serving_loop(config)`."""
    with asyncio.Runner(loop_factory=lambda: serving_loop(config)) as runner:
        return runner.run(main)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_exposed_control(host: str, served: Settings) -> None:
    """README, "Running it safely": binding anything but loopback needs a control token, or
    the control API off, since whoever reaches the port could otherwise reset, seed and read
    the mock (its journal holds what clients sent). `served`: the settings of the app that
    will answer on `host`."""
    if not is_loopback(host) and served.control and not served.control_token:
        raise SettingsError(
            f"binding {host or 'every address'} exposes the control API; pass "
            "--control-token TOKEN or --no-control (Settings: control_token=... or control=False)"
        )


def bind_socket(host: str, port: int, served: Settings) -> socket.socket:
    """A listening socket on host:port for the app whose settings are `served`; refused before
    anything is bound when it would expose that app's control API (refuse_exposed_control)."""
    refuse_exposed_control(host, served)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this on Linux. Without it a response written in two parts
    # (headers, body) waits for the client's delayed ACK: ~40 ms per request (bench/).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SettingsError(f"port {port} on {host} is already in use") from None
        raise SettingsError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _no_websocket_advice(record: logging.LogRecord) -> bool:
    """With `ws="none"` chosen, uvicorn still advises installing a WebSocket library for each
    Upgrade request; that advice is wrong here, so it is dropped ("Unsupported upgrade" stays)."""
    return "WebSocket library" not in record.getMessage()


def uvicorn_config(app, settings: Settings) -> uvicorn.Config:
    config = _uvicorn_config(app, settings)  # configures uvicorn's loggers: filter after it
    errors = logging.getLogger("uvicorn.error")
    if _no_websocket_advice not in errors.filters:
        errors.addFilter(_no_websocket_advice)
    return config


def _uvicorn_config(app, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
        # No mocked API has a WebSocket endpoint: an Upgrade request is answered as the plain
        # request it also is (its API's own 404/405), not left a handshake (uvicorn's bare 500).
        ws="none",
    )


class BackgroundServer:
    """A real mock server on 127.0.0.1 and a free port, in a daemon thread.

    It prints nothing per request: its request log goes to the `mockserver.requests` logger,
    with no handler of its own, so it shows only where the caller's logging takes INFO.

    >>> with BackgroundServer() as server:
    ...     httpx.get(server.url + "/__mock/health")
    """

    def __init__(
        self, settings: Settings | None = None, *, app: MockServerApp | None = None
    ) -> None:
        settings = settings or Settings(port=0)
        self.app = app or build_app(settings)
        self.settings = self.app.settings
        self._sock = bind_socket(settings.host, settings.port, self.settings)
        host, port = self._sock.getsockname()[:2]
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self._server = MockUvicornServer(uvicorn_config(self.app, settings))
        self._thread: threading.Thread | None = None

    def start(self) -> BackgroundServer:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = serving_loop(self._server.config)
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve(started))
            except BaseException as exc:  # reported to start()
                failure.append(exc)
                started.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name=f"mockserver:{self.port}", daemon=True)
        self._thread.start()
        if not started.wait(30) or failure:
            raise RuntimeError(f"mock server did not start: {failure[0] if failure else 'timeout'}")
        return self

    async def _serve(self, started: threading.Event) -> None:
        self._server.config.setup_event_loop = lambda: None  # type: ignore[method-assign]
        task = asyncio.ensure_future(self._server.serve(sockets=[self._sock]))
        for _ in range(3000):
            if self._server.started or task.done():
                break
            await asyncio.sleep(0.01)
        started.set()
        await task

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# A worker's exit code when it could not start serving: the supervisor then stops them all
# rather than restarting a worker that would fail the same way.
_STARTUP_FAILURE = 3
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _worker(settings: Settings, sock: socket.socket, ready_fd: int) -> int:
    """One worker process: its own app, store connections and event loop, on the shared socket.
    uvicorn's signal handling stops it gracefully on SIGTERM or SIGINT; a signal that comes
    before uvicorn listens for them is kept and honoured as soon as it does."""
    pending: list[int] = []
    for sig in _STOP_SIGNALS:
        signal.signal(sig, lambda sig, frame: pending.append(sig))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # blocked by the parent for fork
    try:
        app = build_app(settings)
        server = MockUvicornServer(uvicorn_config(app, settings))
        tune_gc_for_serving()

        async def run() -> None:
            task = asyncio.ensure_future(server.serve(sockets=[sock]))
            while not server.started and not task.done():
                await asyncio.sleep(0.005)
            if server.started:
                os.write(ready_fd, b"1")
            if pending:
                server.should_exit = True
            await task

        if not pending:
            run_serving(run(), server.config)
        return 0 if server.started or pending else _STARTUP_FAILURE
    except Exception:
        traceback.print_exc()
        return _STARTUP_FAILURE


def serve_workers(
    settings: Settings, sock: socket.socket, on_ready: Callable[[], None] | None = None
) -> int:
    """Fork `settings.workers` processes that all accept on `sock`; return when they have stopped.

    The parent only supervises: on SIGTERM or SIGINT it closes its own copy of the listening
    socket, then passes SIGTERM on to every worker, which closes its copy before it finishes its
    requests and closes its store; the parent exits 0 once all have exited. The port is free
    once the last copy is closed, so the supervisor's must not outlive the workers' (a socket
    still listening in the parent alone accepts connections that nobody serves, then resets
    them when the parent exits).
    A worker that dies on its own is replaced; one that can't start stops them all (exit 1).
    `on_ready` runs once every worker is serving. Needs `fork` (Linux, macOS).
    Long because: the supervisor's life (fork, wait, replace, relay a signal) is one sequence
    over shared local state; split up, that state would need a class of its own.
    """
    ready_r, ready_w = os.pipe()
    workers: set[int] = set()
    stopping = False
    failed = False

    def spawn() -> None:
        # No stop signal may reach the new worker before it has its own handlers.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(ready_r)
            code = _worker(settings, sock, ready_w)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        workers.add(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        sock.close()  # first: the workers' copies are then the only ones left
        for pid in list(workers):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {sig: signal.signal(sig, stop) for sig in _STOP_SIGNALS}
    try:
        for _ in range(settings.workers):
            spawn()
        announced = on_ready is None
        started = 0
        while workers:
            if not announced:
                readable, _, _ = select.select([ready_r], [], [], 0.1)
                if readable:
                    started += len(os.read(ready_r, 64))
                    if started >= settings.workers and not stopping:
                        announced = True
                        on_ready()  # type: ignore[misc]
            pid, status = os.waitpid(-1, os.WNOHANG if not announced else 0)
            if pid == 0:
                continue
            if pid not in workers:
                continue
            workers.discard(pid)
            code = os.waitstatus_to_exitcode(status)
            if stopping:
                continue
            if code == _STARTUP_FAILURE:
                print(f"mockserver: worker {pid} could not start", file=sys.stderr, flush=True)
                failed = True
                stop()
                continue
            print(f"mockserver: worker {pid} exited ({code}), restarting", file=sys.stderr)
            spawn()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(ready_r)
        os.close(ready_w)
    return 1 if failed else 0
