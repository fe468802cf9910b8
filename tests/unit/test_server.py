"""mockserver.server: the one rule on exposing the control API holds for BackgroundServer, and
is checked before anything is bound (issue 23, item 13; README "Running it safely").

"Before binding" is shown with a port that a listener already holds on 127.0.0.1: binding
0.0.0.0 on it would fail with "already in use", so the control-API refusal must come first.
Traffic goes to 127.0.0.1 only, also where a server binds 0.0.0.0.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import httpx
import pytest

from mockserver.app import build_app
from mockserver.server import BackgroundServer
from mockserver.settings import Settings, SettingsError

EXPOSED = "binding 0.0.0.0 exposes the control API"
TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
DATA = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


@pytest.mark.parametrize("token", [None, ""])
def test_background_server_on_0_0_0_0_without_a_control_token_is_refused_before_binding(
    taken_port, token
):
    with pytest.raises(SettingsError, match=EXPOSED):
        BackgroundServer(Settings(host="0.0.0.0", port=taken_port, control_token=token))


def test_the_rule_follows_the_app_served_not_the_settings_passed_for_the_bind(taken_port):
    """The app answering on the port has no token: a token in the bind's settings is no help."""
    settings = Settings(host="0.0.0.0", port=taken_port, control_token="s3cret")
    with pytest.raises(SettingsError, match=EXPOSED):
        BackgroundServer(settings, app=build_app(Settings()))


def test_a_taken_loopback_port_is_still_reported_as_taken(taken_port):
    with pytest.raises(SettingsError, match=f"port {taken_port} on 127.0.0.1 is already in use"):
        BackgroundServer(Settings(port=taken_port))


@pytest.mark.parametrize(
    "settings", [{"control_token": "s3cret"}, {"control": False}], ids=["token", "no-control"]
)
def test_background_server_on_0_0_0_0_with_a_token_or_no_control_serves(settings):
    with BackgroundServer(Settings(host="0.0.0.0", port=0, **settings)) as server:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
            heartbeat = client.post("/api/heartbeat", json={"token": TOKEN, "data": DATA})
            assert heartbeat.status_code == 200
            health = client.get("/__mock/health")
            assert health.status_code == (401 if settings.get("control_token") else 404)


def _upgrade(port: int, path: str) -> bytes:
    """A WebSocket handshake request, answered by the time the server closes the connection."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, close\r\n"
        "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    ("path", "status"), [("/api/heartbeat", b"405"), ("/__mock/health", b"200")]
)
def test_a_websocket_upgrade_is_an_ordinary_request_not_a_500(path, status):
    """No mocked API has a WebSocket endpoint: the Upgrade header is ignored (RFC 9110 7.8)
    and the request gets the answer it would get without it, in the API's own format, where
    uvicorn answered a handshake the app never completed with a bare 500."""
    seen: list[logging.LogRecord] = []
    catch = logging.Handler()
    catch.emit = seen.append  # type: ignore[method-assign]
    with BackgroundServer(Settings(port=0)) as server:
        logging.getLogger("uvicorn.error").addHandler(catch)  # after uvicorn set its loggers
        try:
            answer = _upgrade(server.port, path)
        finally:
            logging.getLogger("uvicorn.error").removeHandler(catch)
    assert answer.split(b"\r\n", 1)[0].split(b" ")[1] == status, answer[:200]
    assert b"application/json" in answer.split(b"\r\n\r\n", 1)[0]
    # uvicorn's advice to install a WebSocket library is wrong for a mock that chose none
    assert not [r for r in seen if "WebSocket library" in r.getMessage()]
