"""Run the mock as a real HTTP server: in a background thread (tests, scripts) or in the
foreground (`mockserver serve`). Sockets are bound here, before uvicorn starts, so a taken port
is reported in one line and port 0 picks a free one."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import signal
import socket
import threading

import uvicorn

from mockserver.app import MockServerApp, build_app
from mockserver.settings import Settings, SettingsError

__all__ = ["BackgroundServer", "MockUvicornServer", "bind_socket", "uvicorn_config", "is_loopback"]


class MockUvicornServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, so the process would die by
    the signal; a mock stopped on purpose should exit 0. The signals still stop it gracefully:
    in-flight requests finish first (`timeout_graceful_shutdown`)."""

    @contextlib.contextmanager
    def capture_signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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


def uvicorn_config(app, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        server_header=False,
    )


class BackgroundServer:
    """A real mock server on 127.0.0.1 and a free port, in a daemon thread.

    >>> with BackgroundServer() as server:
    ...     httpx.get(server.url + "/__mock/health")
    """

    def __init__(self, settings: Settings | None = None, *, app: MockServerApp | None = None) -> None:
        settings = settings or Settings(port=0)
        self.app = app or build_app(settings)
        self.settings = self.app.settings
        self._sock = bind_socket(settings.host, settings.port)
        host, port = self._sock.getsockname()[:2]
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self._server = MockUvicornServer(uvicorn_config(self.app, settings))
        self._thread: threading.Thread | None = None

    def start(self) -> BackgroundServer:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
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
