"""The pytest plugin's `api_settings` marker on the session's server (issue 18), with pytester:
applied at run time for one test, restored at teardown; only `apis` and `settings` still get
a server of their own."""

from __future__ import annotations

pytest_plugins = ["pytester"]

SONORAN = """
import httpx, pytest

KEY = {"Authorization": "Bearer k-0123456789"}


def beats(mockserver, n):
    url = mockserver.url + "/v2/general/servers/1/heartbeat"
    return [httpx.post(url, json={"playerCount": 1}, headers=KEY).status_code for _ in range(n)]
"""


def test_api_settings_apply_to_the_session_server_for_one_test(pytester):
    pytester.makepyfile(
        SONORAN
        + """
URLS = []


@pytest.mark.mockserver(api_settings={"sonoran": {"rate_limit_per_minute": 1}})
def test_limited(mockserver):
    URLS.append(mockserver.url)
    assert beats(mockserver, 2) == [200, 429]
    assert mockserver.settings()["sonoran"]["rate_limit_per_minute"]["source"] == "runtime"


def test_unlimited_again_on_the_same_server(mockserver):
    assert URLS == [mockserver.url]
    assert beats(mockserver, 3) == [200, 200, 200]


def test_restored_at_teardown_not_only_by_the_next_reset(mockserver_session):
    settings = httpx.get(mockserver_session.url + "/__mock/settings").json()["apis"]
    assert settings["sonoran"]["rate_limit_per_minute"]["source"] == "default"
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_apis_or_server_settings_still_get_a_server_of_their_own(pytester):
    pytester.makepyfile(
        SONORAN
        + """
URLS = []


def test_plain(mockserver):
    URLS.append(mockserver.url)


@pytest.mark.mockserver(apis=["sonoran"], api_settings={"sonoran": {"rate_limit_per_minute": 1}})
def test_own(mockserver):
    assert mockserver.url != URLS[0] and mockserver.health()["apis"] == ["sonoran"]
    assert beats(mockserver, 2) == [200, 429]
    assert mockserver.settings()["sonoran"]["rate_limit_per_minute"]["source"] == "arguments"
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_bad_api_settings_are_an_error_that_names_them(pytester):
    pytester.makepyfile(
        """
import pytest


@pytest.mark.mockserver(api_settings={"sonoran": {"rate_limit_per_minute": "ten"}})
def test_wrong_type(mockserver):
    pass


@pytest.mark.mockserver(api_settings={"sonoran": {"ratelimit": 1}})
def test_unknown_name(mockserver):
    pass


@pytest.mark.mockserver(api_settings={"nope": {"x": 1}})
def test_unknown_api(mockserver):
    pass


def test_the_session_server_is_unharmed(mockserver):
    assert mockserver.settings()["sonoran"]["rate_limit_per_minute"]["value"] == 10
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*api_settings={'sonoran': {'rate_limit_per_minute': ...}}): expected an integer*",
            "*api_settings={'sonoran': {'ratelimit': ...}}): unknown setting for API 'sonoran'*",
            "*api_settings={'nope': {'x': ...}}): unknown API 'nope'*",
        ],
        consecutive=False,
    )


def test_api_settings_for_an_api_the_session_does_not_serve_name_it(pytester):
    pytester.makepyfile(
        """
import pytest


@pytest.mark.mockserver(api_settings={"sonoran": {"rate_limit_per_minute": 1}})
def test_not_served(mockserver):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--mockserver-api", "statusbadge")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*api_settings={'sonoran': ...}): API 'sonoran' is not enabled; enabled: statusbadge*"]
    )
