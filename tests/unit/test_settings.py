from __future__ import annotations

import dataclasses
from typing import Literal

import pytest

from mockserver.apis import api_class, api_names
from mockserver.app import build_app
from mockserver.core.config import check_types, field_types
from mockserver.settings import Settings, SettingsError, env_warnings, load_settings


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
        ("[server]\nport = 'x'\n", "m.toml [server] port: expected an integer, got 'x'"),
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


# --- every value is type-checked at start-up, and the message says where it came from ---------


def test_a_wrongly_typed_api_setting_in_the_file_names_the_file_the_key_and_the_type(tmp_path):
    cfg = tmp_path / "m.toml"
    cfg.write_text('[apis.statusbadge]\nttl_seconds = "ten"\n')
    with pytest.raises(SettingsError) as raised:
        load_settings(cfg, env={})
    assert str(raised.value) == (
        f"{cfg} [apis.statusbadge] ttl_seconds: expected a number, got 'ten'"
    )


def test_a_wrongly_typed_variable_names_the_variable_the_setting_and_the_type():
    with pytest.raises(SettingsError) as raised:
        load_settings(env={"MOCKSERVER_STATUSBADGE__TTL_SECONDS": "ten"})
    assert str(raised.value) == (
        "MOCKSERVER_STATUSBADGE__TTL_SECONDS (statusbadge.ttl_seconds): "
        "expected a number, got 'ten'"
    )
    with pytest.raises(SettingsError, match="^MOCKSERVER_PORT: expected an integer, got 'eighty'$"):
        load_settings(env={"MOCKSERVER_PORT": "eighty"})


def test_a_value_the_config_itself_refuses_also_names_its_origin(tmp_path):
    cfg = tmp_path / "m.toml"
    cfg.write_text("[apis.statusbadge]\nttl_seconds = 0\n")
    with pytest.raises(SettingsError, match=r"m\.toml \[apis\.statusbadge\] ttl_seconds: ttl_"):
        load_settings(cfg, env={})


def test_mistyped_names_get_the_closest_known_one(tmp_path):
    with pytest.raises(SettingsError, match="unknown API 'statusbagde'; did you mean statusbadge"):
        load_settings(env={"MOCKSERVER_STATUSBAGDE__TTL_SECONDS": "1"})
    with pytest.raises(SettingsError, match="unknown setting .*; did you mean ttl_seconds"):
        load_settings(env={"MOCKSERVER_STATUSBADGE__TTL_SECOND": "1"})
    cfg = tmp_path / "m.toml"
    cfg.write_text("[server]\nprot = 1\n")
    with pytest.raises(SettingsError, match="'prot'; did you mean port"):
        load_settings(cfg, env={})


def wrong_value(annotation) -> object:
    """A value of a type no field of that annotation takes."""
    return ["not", "a", "table"] if "dict" in str(annotation) else {"not": "this"}


@pytest.mark.parametrize(
    ("api", "name"),
    [(api, name) for api in api_names() for name in field_types(api_class(api).Config)],
)
def test_every_field_of_every_api_is_type_checked(api, name, tmp_path):
    value = wrong_value(field_types(api_class(api).Config)[name])
    with pytest.raises(SettingsError, match=rf"^{api} setting '{name}': expected .*, got "):
        build_app(Settings(apis=[api], api_settings={api: {name: value}}))


def test_environment_text_is_read_as_each_field_wants_it():
    s = load_settings(
        env={
            "MOCKSERVER_SONORAN__SERVER_IDS": "[1, 2]",
            "MOCKSERVER_SONORAN__API_KEYS": "123",  # a string setting keeps digits as text
            "MOCKSERVER_COLLECT__USERS": '{"agent": "s3cret"}',
            "MOCKSERVER_STATUSBADGE__TTL_SECONDS": "600",
            "MOCKSERVER_VALIDATE_RESPONSES": "1",
            "MOCKSERVER_APIS": "sonoran, collect,statusbadge",
        }
    )
    assert s.for_api("sonoran") == {"server_ids": [1, 2], "api_keys": "123"}
    assert s.for_api("collect") == {"users": {"agent": "s3cret"}}
    assert s.for_api("statusbadge") == {"ttl_seconds": 600}
    assert s.validate_responses is True and s.apis == ["sonoran", "collect", "statusbadge"]
    assert build_app(s).ctx.apis["sonoran"].config.api_keys == ["123"]


@dataclasses.dataclass
class Sample:
    count: int = 1
    ratio: float = 0.5
    flag: bool = False
    name: str = "x"
    ids: list[int] | None = None
    users: dict[str, str] | None = None
    mode: Literal["a", "b"] = "a"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("count", True, "an integer"),
        ("count", 1.5, "an integer"),
        ("ratio", "0.5", "a number"),
        ("ratio", float("inf"), "a number"),
        ("flag", 1, "true or false"),
        ("name", 3, "a string"),
        ("ids", ["one"], "a list of integers"),
        ("ids", [True], "a list of integers"),
        ("users", {"u": 1}, "a table of strings to strings"),
        ("mode", "c", "one of 'a', 'b'"),
    ],
)
def test_the_type_check_refuses_each_kind_of_mismatch_in_one_line(name, value, expected):
    with pytest.raises(ValueError) as raised:
        check_types(Sample, {name: value}, lambda n: f"where {n}")
    assert str(raised.value) == f"where {name}: expected {expected}, got {value!r}"


@pytest.mark.parametrize(
    "values",
    [
        {"count": 2, "ratio": 1, "flag": True, "name": "y", "mode": "b"},
        {"ids": None, "users": None},
        {"ids": "1, 2"},  # comma text and a lone item: the forms list_setting converts
        {"ids": 3},
        {"ids": ["3"]},
        {"users": {"agent": "s3cret"}},
    ],
)
def test_the_type_check_accepts_the_forms_each_type_takes(values):
    check_types(Sample, values, str)


def test_an_unknown_variable_gets_a_warning_with_the_closest_setting_not_a_refusal():
    env = {
        "MOCKSERVER_PROT": "1",
        "MOCKSERVER_URL": "http://127.0.0.1:9",  # an integrator's own
        "MOCKSERVER_PORT": "9000",
        "MOCKSERVER_CONTRACT_URL": "",
        "MOCKSERVER_STATUSBADGE__TTL_SECONDS": "60",
        "OTHER_PROT": "1",
    }
    assert load_settings(env=env).port == 9000
    assert env_warnings(env) == [
        "mockserver: warning: MOCKSERVER_PROT is ignored; did you mean MOCKSERVER_PORT?",
        "mockserver: warning: MOCKSERVER_URL is ignored; it is not a mockserver setting",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apis = 5\n", "apis must be a table of [apis.<api>] tables"),
        ("[apis]\nstatusbadge = 5\n", "[apis.statusbadge] must be a table"),
        ("[server]\nport = 8080.5\n", "[server] port: expected an integer, got 8080.5"),
        ("[server]\ncontrol = 'no'\n", "[server] control: expected true or false, got 'no'"),
        ("[apis.statusbadge]\nttl_seconds = nan\n", "ttl_seconds: expected a number, got nan"),
        ("[apis.statusbadge]\nttl_seconds = inf\n", "ttl_seconds: expected a number, got inf"),
    ],
)
def test_odd_files_are_refused_in_one_line(tmp_path, text, message):
    cfg = tmp_path / "m.toml"
    cfg.write_text(text)
    with pytest.raises(SettingsError) as raised:
        load_settings(cfg, env={})
    assert message in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "env",
    [
        {"MOCKSERVER_PORT": ""},
        {"MOCKSERVER_STATUSBADGE__TTL_SECONDS": "[" * 100_000},
        {"MOCKSERVER_STATUSBADGE__TTL_SECONDS": "Infinity"},
        {"MOCKSERVER_COLLECT__USERS": "bob"},
        {"MOCKSERVER_STATUSBADGE__": "1"},
    ],
)
def test_odd_variables_are_refused_in_one_line(env):
    with pytest.raises(SettingsError) as raised:
        load_settings(env=env)
    assert next(iter(env)) in str(raised.value) and "\n" not in str(raised.value)


def test_settings_built_in_code_that_are_not_tables_are_refused():
    from mockserver.settings import check_api_settings

    with pytest.raises(SettingsError, match="must map API names"):
        check_api_settings("statusbadge")
    with pytest.raises(SettingsError, match="settings for API 'statusbadge' must be a table"):
        check_api_settings({"statusbadge": "ttl_seconds"})
