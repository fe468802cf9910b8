"""Proxy mode's pieces without a network (issue 19): the generic settings every API gets, the
command line and console helpers, the answer checks, and the pool made only when used.
The end-to-end behaviour is in tests/e2e/test_proxy.py."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest

from mockserver.apis import api_class, api_names
from mockserver.app import build_app
from mockserver.cli import main
from mockserver.core.redaction import Redactor
from mockserver.http.gate import ApiGate
from mockserver.http.proxy import proxy_overrides, proxy_summary
from mockserver.http.proxy_check import ResponseSpec
from mockserver.http.upstream import redacted_url, upstream_url
from mockserver.settings import Settings, SettingsError, load_settings

URL = "https://upstream.example"


@pytest.mark.parametrize("api", api_names())
def test_every_api_has_the_proxy_settings_once(api):
    config = api_class(api).make_config({"proxy": URL, "proxy_mode": "strict"})
    assert (config.proxy, config.proxy_mode, config.proxy_timeout_seconds) == (URL, "strict", 10)
    assert api_class(api).make_config({}).proxy is None


def test_the_proxy_comes_from_a_file_the_environment_or_the_command_line(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(f'[apis.sonoran]\nproxy = "{URL}"\nproxy_timeout_seconds = 2.5\n')
    settings = load_settings(path, env={"MOCKSERVER_LUCIT__PROXY": "http://127.0.0.1:9"})
    assert settings.api_settings["sonoran"] == {"proxy": URL, "proxy_timeout_seconds": 2.5}
    assert settings.api_settings["lucit"] == {"proxy": "http://127.0.0.1:9"}
    assert settings.api_sources["lucit"]["proxy"] == "environment"
    cli = load_settings(env={}, api_settings=proxy_overrides([f"collect={URL}"]))
    assert cli.api_settings == {"collect": {"proxy": URL}}


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("ftp://x", "expected an http:// or https:// service root"),
        ("http://", "service root"),
        ("http://x/?key=1", "service root"),
        ("http://x:port", "service root"),
        ("http://x/a b", "service root"),
        ("http://u:p@x", "without credentials"),
    ],
)
def test_a_proxy_that_is_no_service_root_is_refused_naming_its_origin(tmp_path, value, needle):
    path = tmp_path / "m.toml"
    path.write_text(f"[apis.sonoran]\nproxy = {json.dumps(value)}\n")
    with pytest.raises(SettingsError, match=rf"m.toml \[apis.sonoran\] proxy: .*{needle}"):
        load_settings(path, env={})


@pytest.mark.parametrize(
    ("setting", "value"), [("proxy_timeout_seconds", 0), ("proxy_mode", "block")]
)
def test_a_bad_mode_or_timeout_is_refused(setting, value):
    with pytest.raises(SettingsError, match=setting):
        load_settings(env={}, api_settings={"sonoran": {setting: value}})


def test_serve_refuses_a_proxy_argument_without_an_equals_sign(capsys):
    assert main(["serve", "--proxy", "sonoran", "--port", "0"]) == 2
    assert "--proxy expects API=URL, got 'sonoran'" in capsys.readouterr().err


def test_serve_says_which_apis_are_proxied_and_where():
    app = build_app(Settings(api_settings={"sonoran": {"proxy": URL, "proxy_mode": "strict"}}))
    lines = proxy_summary(app.ctx.apis, app.ctx.journal.redactor)
    assert lines == [f"sonoran: proxied to {URL} (strict; timeout 10 s)"]


def test_urls_keep_the_native_path_as_sent_and_hide_secret_query_values():
    url = upstream_url("https://h.example/", b"/api/status/a%2Fb", "token=sk_live_123456789")
    assert url == "https://h.example/api/status/a%2Fb?token=sk_live_123456789"
    assert (
        redacted_url(url, Redactor(fields=["token"]))
        == "https://h.example/api/status/a%2Fb?token=sk_liv***"
    )


def test_the_upstream_pool_is_made_on_first_use_only():
    app = build_app(Settings(api_settings={"sonoran": {"proxy": URL}}))
    gates = {id(t): t for _, t in app.routes if isinstance(t, ApiGate)}
    assert gates and all(g.proxy.upstream._client is None for g in gates.values())
    asyncio.run(next(iter(gates.values())).aclose())  # closing an unused pool is harmless


# --- the answer checks ---------------------------------------------------------------------------

SPEC = ResponseSpec("statusbadge.yaml")
JSON = {"content-type": "application/json"}
GOOD = {
    "success": True,
    "publicId": "srv_pub_a3a9e1ed9732",
    "message": "Heartbeat recorded successfully",
}


def check(status: int, headers: dict, body: bytes, op="statusbadge_heartbeat", method="POST"):
    return SPEC.violations(op, method, status, headers, body)


def test_a_documented_answer_has_no_violation():
    assert check(200, JSON, json.dumps(GOOD).encode()) == []


def test_a_gzipped_answer_is_checked_as_the_client_reads_it():
    body = gzip.compress(json.dumps({**GOOD, "publicId": 42}).encode())
    (v,) = check(200, {**JSON, "content-encoding": "gzip"}, body)
    assert (v["key"], v["rule"]) == ("publicId", "type")


def test_an_undeclared_media_type_and_a_body_that_is_no_json_are_named():
    (v,) = check(200, {"content-type": "text/html"}, b"<h1>hi</h1>")
    assert v["rule"] == "media_type" and "text/html" in v["message"]
    (v,) = check(200, JSON, b"{not json")
    assert v["rule"] == "json"


def test_a_missing_required_field_names_it():
    body = {k: v for k, v in GOOD.items() if k != "publicId"}
    (v,) = check(200, JSON, json.dumps(body).encode())
    assert v["rule"] == "required" and "'publicId' is a required property" in v["message"]


def test_a_declared_header_that_is_wrong_or_missing_is_named():
    spec = ResponseSpec("sonoran.yaml")
    body = json.dumps({"error": "RATE_LIMITED", "message": "slow down", "retryAfter": 3}).encode()
    op = "sonoran_heartbeat"
    missing = spec.violations(op, "POST", 429, JSON, body)
    assert [v["rule"] for v in missing] == ["header_missing"]
    wrong = spec.violations(op, "POST", 429, {**JSON, "retry-after": "soon"}, body)
    assert [(v["key"], v["rule"]) for v in wrong] == [("Retry-After", "header")]
    assert spec.violations(op, "POST", 429, {**JSON, "retry-after": "3"}, body) == []


def test_an_operation_the_spec_does_not_know_is_not_judged():
    assert check(418, JSON, b"", op=None) == []
