"""The pytest plugin, tested the way pytest plugins are: with pytester."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

EXAMPLE = """
import httpx

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
DATA = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}

def test_client_reaches_the_mock(mockserver):
    r = httpx.post(mockserver.url + "/api/heartbeat", json={"token": TOKEN, "data": DATA})
    assert r.status_code == 200
    assert mockserver.statusbadge.servers()[0]["publicId"] == "srv_pub_a3a9e1ed9732"
    assert mockserver.requests()[0]["valid"] is True

def test_each_test_starts_reset(mockserver):
    assert mockserver.statusbadge.servers() == []
    assert mockserver.requests() == []
"""


def test_fixture_serves_a_reset_mock_per_test(pytester):
    pytester.makepyfile(EXAMPLE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_api_option_limits_the_session_server(pytester):
    pytester.makepyfile(
        """
        def test_only_statusbadge(mockserver):
            assert mockserver.health()["apis"] == ["statusbadge"]
        """
    )
    pytester.runpytest("--mockserver-api", "statusbadge").assert_outcomes(passed=1)


def test_marker_gives_a_dedicated_server_with_settings(pytester):
    pytester.makepyfile(
        """
        import httpx, pytest

        @pytest.mark.mockserver(api_settings={"statusbadge": {"ttl_seconds": 10}})
        def test_short_ttl(mockserver):
            mockserver.freeze()
            body = {"token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
                    "data": {"status": "online", "players": 1, "maxPlayers": 2,
                             "tps": 20, "version": "1"}}
            httpx.post(mockserver.url + "/api/heartbeat", json=body)
            mockserver.advance(11)
            assert mockserver.statusbadge.servers() == []

        def test_session_server_keeps_the_default(mockserver):
            mockserver.freeze()
            body = {"token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
                    "data": {"status": "online", "players": 1, "maxPlayers": 2,
                             "tps": 20, "version": "1"}}
            httpx.post(mockserver.url + "/api/heartbeat", json=body)
            mockserver.advance(11)
            assert len(mockserver.statusbadge.servers()) == 1
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_one_server_per_xdist_worker(pytester, monkeypatch):
    pytester.makepyfile(
        """
        import os, pytest

        @pytest.mark.parametrize("i", range(4))
        def test_url(mockserver, i):
            with open(os.environ["URLS_FILE"], "a") as fh:
                fh.write(os.environ.get("PYTEST_XDIST_WORKER", "-") + " " + mockserver.url + "\\n")
        """
    )
    urls = pytester.path / "urls.txt"
    monkeypatch.setenv("URLS_FILE", str(urls))
    pytester.runpytest("-n", "2").assert_outcomes(passed=4)
    pairs = {tuple(line.split()) for line in urls.read_text().splitlines()}
    workers = {w for w, _ in pairs}
    assert workers == {"gw0", "gw1"}
    assert len({u for _, u in pairs}) == 2  # each worker its own server


def test_a_marker_binding_0_0_0_0_without_a_control_token_is_refused_before_binding(pytester):
    """Issue 23, item 13: the plugin starts servers through the same bind as `serve` (the
    port is held on 127.0.0.1, so a bind before the check would say "already in use")."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        pytester.makepyfile(
            f"""
            import pytest

            @pytest.mark.mockserver(settings={{"host": "0.0.0.0", "port": {port}}})
            def test_exposed(mockserver):
                pass
            """
        )
        result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*SettingsError: binding 0.0.0.0 exposes the control API*"])


def test_an_integrator_project_runs_with_warnings_as_errors(pytester):
    """In a fresh process (in this one connexion is imported already, so its import-time
    warnings could not show): `-W error` passes, and a plain run shows no warning summary."""
    pytester.makepyfile(EXAMPLE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=2)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert "warnings summary" not in result.stdout.str()


def test_an_unknown_api_option_is_one_usage_error_for_the_session(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("i", range(3))
        def test_uses_the_mock(mockserver, i):
            pass
        """
    )
    result = pytester.runpytest("--mockserver-api", "statusbagde")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if "statusbagde" in line]
    assert errors == [
        "ERROR: --mockserver-api: unknown API 'statusbagde'; did you mean statusbadge? "
        "(known: statusbadge, sonoran, collect, lucit, playwave)"
    ]
    assert "test_uses_the_mock" not in result.stdout.str()


def test_a_wrongly_typed_marker_setting_fails_its_test_in_one_line(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockserver(api_settings={"statusbadge": {"ttl_seconds": "ten"}})
        def test_typo(mockserver):
            pass

        @pytest.mark.mockserver(settings={"validate_response": True})
        def test_unknown(mockserver):
            pass

        def test_others_still_run(mockserver):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=2)
    out = result.stdout.str()
    assert (
        "@pytest.mark.mockserver(api_settings={'statusbadge': {'ttl_seconds': ...}}): "
        "expected a number, got 'ten'" in out
    )
    assert "unknown setting 'validate_response'; did you mean validate_responses?" in out
    assert "Traceback" not in out


def test_odd_marker_arguments_fail_their_test_in_one_line_not_a_traceback(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockserver(api_settings="statusbadge")
        def test_not_a_table(mockserver):
            pass

        @pytest.mark.mockserver(api_settings={"statusbadge": 5})
        def test_not_a_table_of_settings(mockserver):
            pass

        @pytest.mark.mockserver(settings=["port"])
        def test_settings_not_a_dict(mockserver):
            pass

        @pytest.mark.mockserver(apis="statusbadge", settings={"port": 0})
        def test_one_api_by_name(mockserver):
            assert mockserver.health()["apis"] == ["statusbadge"]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=3)
    assert "Traceback" not in result.stdout.str()
