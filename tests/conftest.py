"""Shared fixtures: a real server on 127.0.0.1 and a free port, and the ASGI app in process.

Every test gets a reset mock (state, journal, faults, clock), so tests never share state.
Connexion's response validation is on: every answer a handler gives is checked against its spec.
"""

from __future__ import annotations

import os

import httpx
import pytest

from mockserver.app import build_app
from mockserver.server import BackgroundServer
from mockserver.settings import Settings


def test_settings(**overrides) -> Settings:
    return Settings(port=0, validate_responses=True, **overrides)


test_settings.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def live_server():
    with BackgroundServer(test_settings()) as server:
        yield server


@pytest.fixture
def http(live_server):
    """An httpx client on the shared live server, after a full reset."""
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        client.post("/__mock/reset").raise_for_status()
        yield client


@pytest.fixture
def make_server():
    """Start a dedicated live server with its own settings (closed after the test)."""
    servers: list[BackgroundServer] = []

    def start(**overrides) -> BackgroundServer:
        server = BackgroundServer(test_settings(**overrides)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def asgi_client():
    """The ASGI app in process (no socket), with its own fresh state."""
    from starlette.testclient import TestClient

    def make(**overrides):
        return TestClient(build_app(test_settings(**overrides)))

    return make


@pytest.fixture(scope="session")
def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
