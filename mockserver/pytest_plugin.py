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
        "mockserver(apis=None, settings=None, api_settings=None): give this test a dedicated "
        "mock server with these settings",
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


@pytest.fixture
def mockserver(request: pytest.FixtureRequest):
    """A MockClient for a reset mock server; `.url` is its base URL."""
    from mockserver.client import MockClient
    from mockserver.server import BackgroundServer

    marker = request.node.get_closest_marker("mockserver")
    if marker is not None:
        kwargs = dict(marker.kwargs)
        overrides = dict(kwargs.pop("settings", None) or {})
        extra = {
            "apis": kwargs.pop("apis", None),
            "api_settings": kwargs.pop("api_settings", None),
            **overrides,
        }
        if kwargs:
            raise pytest.UsageError(f"unknown mockserver marker argument(s): {', '.join(kwargs)}")
        with BackgroundServer(_settings(request.config, **extra)) as server:
            with MockClient(server.url, token=server.settings.control_token) as client:
                yield client
                _keep_report(request, server.url, server.settings.control_token)
        return
    server = request.getfixturevalue("mockserver_session")
    with MockClient(server.url) as client:
        client.reset()
        yield client
        _keep_report(request, server.url, None)


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
