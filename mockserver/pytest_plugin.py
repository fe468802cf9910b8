"""pytest plugin (entry point `pytest11`): a real mock server for integrators' tests.

`mockserver` starts one server per test session (per xdist worker) on 127.0.0.1 and a free port,
resets it before each test, and yields a `MockClient` whose `.url` is the base URL to give
the client under test.
"""

from __future__ import annotations

import pytest

__all__ = ["mockserver", "mockserver_session"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver", "heartbeat-mockserver")
    group.addoption(
        "--mockserver-api",
        action="append",
        default=None,
        metavar="NAME",
        help="serve only these APIs in the mockserver fixture (repeatable; default all)",
    )


@pytest.fixture(scope="session")
def mockserver_session(request: pytest.FixtureRequest):
    from mockserver.server import BackgroundServer
    from mockserver.settings import Settings

    apis = request.config.getoption("--mockserver-api") or []
    with BackgroundServer(Settings(port=0, apis=apis)) as server:
        yield server


@pytest.fixture
def mockserver(mockserver_session):
    from mockserver.client import MockClient

    client = MockClient(mockserver_session.url)
    client.reset()
    yield client
    client.close()
