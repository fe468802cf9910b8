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

The servers print no request log into the test output: its lines go to the `mockserver.requests`
logger, which pytest shows only when asked (`--log-cli-level=INFO`, `--log-level=INFO`).
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
    group.addoption(
        "--mockserver-report",
        default=None,
        metavar="PATH",
        help="write the mock's HTML report (a section per test) to PATH at the end of the "
        "session (under xdist one file per worker: NAME.gwN.html)",
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
    fields = [f for f in Settings.__dataclass_fields__ if f not in ("api_settings", "api_sources")]
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
        problem = str(exc)  # failed outside the handler: pytest would show it twice, chained
    else:
        problem = None
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    return _settings(config, **{"apis": apis, "api_settings": api_settings or None, **overrides})


@pytest.fixture(scope="session")
def mockserver_session(request: pytest.FixtureRequest):
    """The session's server (one per xdist worker)."""
    with _quiet_imports():
        from mockserver.server import BackgroundServer

    with BackgroundServer(_settings(request.config)) as server:
        yield server


def _needs_a_server_of_its_own(marker: pytest.Mark) -> bool:
    """What can't change at run time: the set of APIs and the server's own settings."""
    return marker.kwargs.get("apis") is not None or bool(marker.kwargs.get("settings"))


def _configure(client, api_settings: dict) -> None:
    from mockserver.client import MockClientError

    for api, values in api_settings.items():
        try:
            client.configure(api, **values)
            continue
        except MockClientError as exc:
            error = exc.body.get("error", {}) if isinstance(exc.body, dict) else {}
            message = error.get("message", exc.body)
        where = f"@pytest.mark.mockserver(api_settings={{{api!r}: ...}})"
        pytest.fail(f"{where}: {message}", pytrace=False)  # outside the handler: shown once


@pytest.fixture
def mockserver(request: pytest.FixtureRequest):
    """A MockClient for a reset mock server; `.url` is its base URL."""
    with _quiet_imports():
        from mockserver.client import MockClient
        from mockserver.server import BackgroundServer

    marker = request.node.get_closest_marker("mockserver")
    api_settings: dict = {}
    if marker is not None:
        settings = _marker_settings(request.config, marker)  # every value checked first
        api_settings = settings.api_settings
    if marker is not None and _needs_a_server_of_its_own(marker):
        with BackgroundServer(settings) as server:
            with MockClient(server.url, token=server.settings.control_token) as client:
                yield client
                _keep_report(request, server.url, server.settings.control_token)
        return
    client = request.getfixturevalue("_mockserver_session_client")
    client.reset()  # the start-up settings too
    _configure(client, api_settings)
    yield client
    _keep_report(request, client.url, None)
    if api_settings:
        client.restore_settings()


@pytest.fixture(scope="session")
def _mockserver_session_client(mockserver_session):
    """One MockClient for the session's server: an HTTP client costs tens of milliseconds to
    build (its TLS context), more than a reset, so tests share one."""
    from mockserver.client import MockClient

    with MockClient(mockserver_session.url) as client:
        yield client


_SECTIONS = pytest.StashKey["object"]()


def _keep_report(request: pytest.FixtureRequest, url: str, token: str | None) -> None:
    """With --mockserver-report, this test's HTML report, fetched before the next reset."""
    if not request.config.getoption("--mockserver-report"):
        return
    from mockserver.report_file import ReportSections, fetch_report

    sections = request.config.stash.setdefault(_SECTIONS, ReportSections())
    sections.add(request.node.nodeid, fetch_report(url, token=token))


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    path = config.getoption("--mockserver-report")
    sections = config.stash.get(_SECTIONS, None)
    if not path or (sections is None and _under_xdist(config)):
        return  # an xdist controller or idle worker: the workers that used the mock write
    from mockserver.report_file import ReportSections

    (sections or ReportSections()).write(path)


def _under_xdist(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput") or config.pluginmanager.hasplugin("dsession")
