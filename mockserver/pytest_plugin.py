"""pytest plugin (entry point `pytest11`): a real mock server for integrators' tests.

- `mockserver`: a `MockClient` for a real server on 127.0.0.1 and a free port, reset before each
  test; `.url` is the base URL to give the client under test. One server per test session, so
  one per pytest-xdist worker.
- `@pytest.mark.mockserver(apis=[...], settings={...}, api_settings={...})` gives that test a
  dedicated server with those settings instead (e.g. a pinned API key or a lower rate limit).
- `--mockserver-api NAME` (repeatable) or the ini option `mockserver_apis` limits the session
  server to some APIs; `--mockserver-validate-responses` checks every answer against its spec.

Code that does not use pytest uses `mockserver.server.BackgroundServer` directly.
"""

from __future__ import annotations

import contextlib
import warnings

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
        "mockserver(apis=None, settings=None, api_settings=None): give this test a dedicated "
        "mock server with these settings",
    )
    _check_apis(_session_apis(config), "--mockserver-api")


def _session_apis(config: pytest.Config) -> list[str]:
    return list(config.getoption("--mockserver-api") or config.getini("mockserver_apis") or [])


def _check_apis(apis: list[str], where: str) -> None:
    """A UsageError for an unknown API name: once for the session (pytest stops before any
    test), not one failed set-up per test."""
    if not apis:
        return
    with _quiet_imports():
        from mockserver.apis import api_names
        from mockserver.core.config import closest

    for name in apis:
        if name not in api_names():
            raise pytest.UsageError(
                f"{where}: unknown API {name!r}{closest(name, api_names())} "
                f"(known: {', '.join(api_names())})"
            )


@contextlib.contextmanager
def _quiet_imports():
    """Around the plugin's imports of the package (which imports connexion): the deprecation
    warnings its dependencies raise on import are silenced, so an integrator's `pytest -W error`
    does not fail on warnings that are not theirs, nor shows four of them in every run."""
    with warnings.catch_warnings():
        # starlette: "Using `httpx` with `starlette.testclient` is deprecated; install `httpx2`"
        # (StarletteDeprecationWarning), when connexion.apps.abstract imports starlette's client
        warnings.filterwarnings("ignore", message=r"Using .httpx. with .starlette\.testclient.")
        # jsonschema >= 4.18: "jsonschema.RefResolver is deprecated" and "jsonschema.exceptions.
        # RefResolutionError is deprecated" (DeprecationWarning), from connexion.json_schema
        warnings.filterwarnings(
            "ignore",
            message=r"jsonschema\.(exceptions\.RefResolutionError|RefResolver) is deprecated",
            category=DeprecationWarning,
        )
        yield


def _settings(config: pytest.Config, **extra):
    from mockserver.settings import Settings

    base = {
        "port": 0,
        "apis": _session_apis(config),
        "validate_responses": bool(config.getoption("--mockserver-validate-responses")),
    }
    base.update({k: v for k, v in extra.items() if v is not None})
    return Settings(**base)


def _marker_settings(config: pytest.Config, marker: pytest.Mark):
    """The marker's Settings, each value checked as at start-up: a wrong one fails the test at
    set-up in one line naming the marker argument, the setting and the expected type."""
    with _quiet_imports():
        from mockserver.core.config import check_types, closest
        from mockserver.settings import Settings, SettingsError, check_api_settings

    kwargs = dict(marker.kwargs)
    overrides = kwargs.pop("settings", None) or {}
    if not isinstance(overrides, dict):
        pytest.fail(f"@pytest.mark.mockserver(settings=...) wants a dict, got {overrides!r}")
    apis = kwargs.pop("apis", None)
    api_settings = kwargs.pop("api_settings", None) or {}
    if kwargs:
        raise pytest.UsageError(f"unknown mockserver marker argument(s): {', '.join(kwargs)}")
    where = "@pytest.mark.mockserver"
    fields = [f for f in Settings.__dataclass_fields__ if f != "api_settings"]
    apis = [apis] if isinstance(apis, str) else apis
    try:
        for name in overrides:
            if name not in fields:
                raise SettingsError(
                    f"{where}(settings=...): unknown setting {name!r}{closest(name, fields)}"
                )
        check_types(Settings, overrides, lambda n: f"{where}(settings={{{n!r}: ...}})")
        _check_apis(list(apis or []), f"{where}(apis=...)")
        origins = {
            api: {n: f"{where}(api_settings={{{api!r}: {{{n!r}: ...}}}})" for n in values}
            for api, values in (api_settings.items() if isinstance(api_settings, dict) else ())
            if isinstance(values, dict)
        }
        check_api_settings(api_settings, origins)
    except (SettingsError, ValueError, pytest.UsageError) as exc:
        pytest.fail(str(exc), pytrace=False)
    return _settings(config, **{"apis": apis, "api_settings": api_settings or None, **overrides})


@pytest.fixture(scope="session")
def mockserver_session(request: pytest.FixtureRequest):
    """The session's server (one per xdist worker)."""
    with _quiet_imports():
        from mockserver.server import BackgroundServer

    with BackgroundServer(_settings(request.config)) as server:
        yield server


@pytest.fixture
def mockserver(request: pytest.FixtureRequest):
    """A MockClient for a reset mock server; `.url` is its base URL."""
    with _quiet_imports():
        from mockserver.client import MockClient
        from mockserver.server import BackgroundServer

    marker = request.node.get_closest_marker("mockserver")
    if marker is not None:
        settings = _marker_settings(request.config, marker)
        with BackgroundServer(settings) as server:
            with MockClient(server.url, token=server.settings.control_token) as client:
                yield client
        return
    server = request.getfixturevalue("mockserver_session")
    with MockClient(server.url) as client:
        client.reset()
        yield client
