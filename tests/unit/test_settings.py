from __future__ import annotations

import pytest

from mockserver.app import build_app
from mockserver.settings import Settings, SettingsError, load_settings


def test_defaults_are_loopback_8080_all_apis():
    s = load_settings(env={})
    assert (s.host, s.port, s.apis, s.store) == ("127.0.0.1", 8080, [], "memory")


def test_file_then_env_then_overrides(tmp_path):
    cfg = tmp_path / "m.toml"
    cfg.write_text(
        '[server]\nport = 9000\nhost = "127.0.0.1"\n[apis.statusbadge]\nttl_seconds = 600\n'
    )
    s = load_settings(cfg, env={})
    assert s.port == 9000 and s.for_api("statusbadge") == {"ttl_seconds": 600}
    s = load_settings(
        cfg, env={"MOCKSERVER_PORT": "9100", "MOCKSERVER_STATUSBADGE__TTL_SECONDS": "120"}
    )
    assert s.port == 9100 and s.for_api("statusbadge") == {"ttl_seconds": 120}
    s = load_settings(cfg, env={"MOCKSERVER_PORT": "9100"}, port=9200)
    assert s.port == 9200


def test_config_file_named_by_env(tmp_path):
    cfg = tmp_path / "m.toml"
    cfg.write_text("[server]\nport = 9300\n")
    assert load_settings(env={"MOCKSERVER_CONFIG": str(cfg)}).port == 9300


def test_env_list_and_bool():
    s = load_settings(
        env={"MOCKSERVER_APIS": "statusbadge, sonoran", "MOCKSERVER_VALIDATE_RESPONSES": "true"}
    )
    assert s.apis == ["statusbadge", "sonoran"] and s.validate_responses is True


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[server\nport=1", "not valid TOML"),
        ("[server]\nport = 'x'\n", "invalid value"),
        ("[server]\nbogus = 1\n", "unknown [server] setting"),
        ("[nope]\n", "unknown section"),
        ("[server]\nport = 70000\n", "out of range"),
    ],
)
def test_invalid_config_files_say_why(tmp_path, text, needle):
    cfg = tmp_path / "m.toml"
    cfg.write_text(text)
    with pytest.raises(SettingsError, match=needle.replace("[", r"\[")):
        load_settings(cfg, env={})


def test_missing_config_file():
    with pytest.raises(SettingsError, match="not found"):
        load_settings("/nonexistent/m.toml", env={})


def test_unknown_api_setting_is_refused_when_the_app_is_built():
    with pytest.raises(SettingsError, match="unknown setting"):
        build_app(Settings(api_settings={"statusbadge": {"ttl": 1}}))


def test_unknown_api_name_is_refused():
    with pytest.raises(SettingsError, match="unknown API 'nope'"):
        build_app(Settings(apis=["nope"]))
    with pytest.raises(SettingsError, match="unknown API 'nope'"):
        build_app(Settings(api_settings={"nope": {}}))


def test_unknown_store_is_refused():
    with pytest.raises(SettingsError, match="unknown store"):
        build_app(Settings(store="mongodb://x"))
