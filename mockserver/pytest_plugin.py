"""pytest plugin (entry point `pytest11`): a real mock server for integrators' tests.

- `mockserver`: a `MockClient` for a real server on 127.0.0.1 and a free port, reset before each
  test; `.url` is the base URL to give the client under test. One server per test session, so
  one per pytest-xdist worker.
- `@pytest.mark.mockserver(api_settings={...})` applies those API settings (a pinned API key, a
  lower rate limit) to the session's server for that test, at run time (PATCH
  /__mock/settings), and restores the start-up settings at teardown: no server of its own.
  What can't change at run time, `apis=[...]` and `settings={...}` (the store, the bind
  address, ...), gives that test a dedicated server with those settings instead.
- `--mockserver-api NAME` (repeatable) or the ini option `mockserver_apis` limits the session
  server to some APIs; `--mockserver-validate-responses` checks every answer against its spec.

Code that does not use pytest uses `mockserver.server.BackgroundServer` directly.
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
    group.addoption(
        "--mockserver-validate-responses",
        action="store_true",
        default=False,
        help="make the mock check each of its answers against its spec",
    )
    parser.addini(
        "mockserver_apis", "APIs the mockserver fixture serves (default all)", type="linelist"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockserver(apis=None, settings=None, api_settings=None): apply api_settings to the "
        "session's mock server for this test; apis or settings give it a server of its own",
    )


def _settings(config: pytest.Config, **extra):
    from mockserver.settings import Settings

    apis = config.getoption("--mockserver-api") or config.getini("mockserver_apis") or []
    base = {
        "port": 0,
        "apis": list(apis),
        "validate_responses": bool(config.getoption("--mockserver-validate-responses")),
    }
    base.update({k: v for k, v in extra.items() if v is not None})
    return Settings(**base)


@pytest.fixture(scope="session")
def mockserver_session(request: pytest.FixtureRequest):
    """The session's server (one per xdist worker)."""
    from mockserver.server import BackgroundServer

    with BackgroundServer(_settings(request.config)) as server:
        yield server


def _marker(request: pytest.FixtureRequest) -> tuple[dict, dict | None]:
    """(the marker's API settings, the rest of its settings when it needs a server of its own,
    else None)."""
    marker = request.node.get_closest_marker("mockserver")
    if marker is None:
        return {}, None
    kwargs = dict(marker.kwargs)
    apis, server = kwargs.pop("apis", None), dict(kwargs.pop("settings", None) or {})
    api_settings = dict(kwargs.pop("api_settings", None) or {})
    if kwargs:
        raise pytest.UsageError(f"unknown mockserver marker argument(s): {', '.join(kwargs)}")
    if apis is None and not server:
        return api_settings, None
    return api_settings, {"apis": apis, **server}


def _configure(client, api_settings: dict) -> None:
    from mockserver.client import MockClientError

    for api, values in api_settings.items():
        try:
            client.configure(api, **values)
        except MockClientError as exc:
            error = exc.body.get("error", {}) if isinstance(exc.body, dict) else {}
            message = error.get("message", exc.body)
            raise pytest.UsageError(
                f"mockserver marker api_settings for {api!r}: {message}"
            ) from None


@pytest.fixture
def mockserver(request: pytest.FixtureRequest):
    """A MockClient for a reset mock server; `.url` is its base URL."""
    api_settings, dedicated = _marker(request)
    if dedicated is not None:
        from mockserver.client import MockClient
        from mockserver.server import BackgroundServer

        settings = _settings(request.config, api_settings=api_settings or None, **dedicated)
        with BackgroundServer(settings) as server:
            with MockClient(server.url, token=server.settings.control_token) as client:
                yield client
        return
    client = request.getfixturevalue("_mockserver_session_client")
    client.reset()  # the start-up settings too
    _configure(client, api_settings)
    yield client
    if api_settings:
        client.restore_settings()


@pytest.fixture(scope="session")
def _mockserver_session_client(mockserver_session):
    """One MockClient for the session's server: an HTTP client costs tens of milliseconds to
    build (its TLS context), more than a reset, so tests share one."""
    from mockserver.client import MockClient

    with MockClient(mockserver_session.url) as client:
        yield client
