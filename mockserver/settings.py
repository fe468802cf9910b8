"""One Settings object from defaults, a TOML file and `MOCKSERVER_*` environment variables.

Precedence, lowest first: built-in defaults (the documented values), the TOML file
(`--config FILE` or `MOCKSERVER_CONFIG`), environment variables, command-line flags.

TOML layout::

    [server]
    host = "127.0.0.1"
    port = 8080
    apis = ["statusbadge", "sonoran"]     # default: every registered API
    store = "memory"                      # or "redis://127.0.0.1:6379/0"
    engine = "compiled"                   # or "connexion" (the reference engine only)

    [apis.sonoran]                        # each API's own settings; see its Config class
    rate_limit_per_minute = 10

Environment: `MOCKSERVER_HOST`, `MOCKSERVER_PORT`, `MOCKSERVER_APIS` (comma separated),
`MOCKSERVER_STORE`, `MOCKSERVER_ENGINE`, ... and `MOCKSERVER_<API>__<SETTING>` for an API's
setting (the value is read as JSON when it parses, else as a string), e.g.
`MOCKSERVER_SONORAN__RATE_LIMIT_PER_MINUTE=0`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.core.config import check_types, closest, field_types, from_text

__all__ = [
    "ENGINES",
    "LOG_LEVELS",
    "Settings",
    "SettingsError",
    "check_api_settings",
    "env_warnings",
    "load_settings",
]

PREFIX = "MOCKSERVER_"


class SettingsError(ValueError):
    """The configuration can't be used; the message says why in one line."""


ENGINES = ("compiled", "connexion")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    apis: list[str] = field(default_factory=list)  # empty: every registered API
    store: str = "memory"
    workers: int = 1
    validate_responses: bool = False
    control: bool = True
    control_token: str | None = None
    max_body_bytes: int = 1_048_576
    journal_cap: int = 2_000  # per API; a ring buffer (bench: 10 000 x 5 APIs cost ~35 MB)
    journal_body_cap: int = 4_096
    log_level: str = "warning"
    # No request log: `serve` writes one line per request on stderr unless this is set
    # (`--quiet`); in-process servers write theirs only where the caller's logging shows INFO.
    quiet: bool = False
    # "compiled": the compiled path answers what it proves valid, connexion the rest;
    # "connexion": connexion answers everything (DESIGN.md, "Two engines, one behaviour").
    engine: str = "compiled"
    api_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    # api -> setting -> "file" | "environment" | "arguments": where load_settings found it
    api_sources: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise SettingsError(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(
                f"log_level must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}"
            )

    def for_api(self, name: str) -> dict[str, Any]:
        return dict(self.api_settings.get(name, {}))

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_SERVER_FIELDS = {
    f.name: f for f in dataclasses.fields(Settings) if f.name not in ("api_settings", "api_sources")
}


_CHOICES = {"engine": ENGINES, "log_level": LOG_LEVELS}


def _server_value(name: str, value: Any, origin: str) -> Any:
    """A [server] setting checked against its field's type (SettingsError naming `origin`);
    a list from comma text (`MOCKSERVER_APIS=statusbadge,sonoran`)."""
    try:
        check_types(Settings, {name: value}, lambda _: origin)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    choices = _CHOICES.get(name)
    if choices and value not in choices:
        raise SettingsError(f"{origin}: expected one of {', '.join(choices)}, got {value!r}")
    if isinstance(value, str) and field_types(Settings)[name] == list[str]:
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


class _Layers:
    """The values read so far, lowest precedence first, and where each came from."""

    def __init__(self) -> None:
        self.server: dict[str, Any] = {}
        self.apis: dict[str, dict[str, Any]] = {}
        self.origins: dict[str, dict[str, str]] = {}  # api -> setting -> where it was set
        self.sources: dict[str, dict[str, str]] = {}  # ... and its kind (Settings.api_sources)

    def set_api(self, api: str, name: str, value: Any, origin: str, source: str) -> None:
        self.apis.setdefault(api, {})[name] = value
        self.origins.setdefault(api, {})[name] = origin
        self.sources.setdefault(api, {})[name] = source


def _read_file(path: Path, layers: _Layers) -> None:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SettingsError(f"config file {str(path)!r} not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"server", "apis"})
    if unknown:
        raise SettingsError(
            f"{path}: unknown section [{unknown[0]}]{closest(unknown[0], ['server', 'apis'])}"
        )
    server = data.get("server", {})
    if not isinstance(server, dict):
        raise SettingsError(f"{path}: [server] must be a table")
    for key, value in server.items():
        if key not in _SERVER_FIELDS:
            hint = closest(key, _SERVER_FIELDS)
            raise SettingsError(f"{path}: unknown [server] setting {key!r}{hint}")
        layers.server[key] = _server_value(key, value, f"{path} [server] {key}")
    apis = data.get("apis", {})
    if not isinstance(apis, dict):
        raise SettingsError(f"{path}: apis must be a table of [apis.<api>] tables")
    for api, table in apis.items():
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: [apis.{api}] must be a table")
        for key, value in table.items():
            layers.set_api(api, key, value, f"{path} [apis.{api}] {key}", "file")


def _read_env(env: dict[str, str], layers: _Layers) -> None:
    """`MOCKSERVER_<SETTING>` and `MOCKSERVER_<API>__<SETTING>`, each read as its field's type
    wants it (mockserver.core.config.from_text). Other `MOCKSERVER_*` names are left alone:
    integrators keep their own there (`MOCKSERVER_URL`); `env_warnings` names them."""
    from mockserver.apis import REGISTRY, api_class

    for key, text in sorted(env.items()):
        if not key.startswith(PREFIX) or key == f"{PREFIX}CONFIG":
            continue
        name = key[len(PREFIX) :].lower()
        if "__" in name:
            api, _, setting = name.partition("__")
            value: Any = text
            if api in REGISTRY:
                kind = field_types(api_class(api).Config).get(setting)
                value = text if kind is None else from_text(kind, text)
            layers.set_api(api, setting, value, f"{key} ({api}.{setting})", "environment")
        elif name in _SERVER_FIELDS:
            kind = field_types(Settings)[name]
            layers.server[name] = _server_value(name, from_text(kind, text), key)


def _overrides(overrides: dict[str, Any], layers: _Layers) -> None:
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "api_settings":
            for api, table in value.items():
                for name, setting in table.items():
                    layers.set_api(api, name, setting, f"{api} setting {name!r}", "arguments")
            continue
        if key not in _SERVER_FIELDS:
            raise SettingsError(f"unknown setting {key!r}{closest(key, _SERVER_FIELDS)}")
        layers.server[key] = _server_value(key, value, f"setting {key!r}")


def check_api_settings(
    api_settings: dict[str, dict[str, Any]], origins: dict[str, dict[str, str]] | None = None
) -> None:
    """A SettingsError naming where an offending value came from and what was expected, for
    each API's settings as its Config takes them; an unknown API is refused with the closest
    known name. What `serve` and the plugin check at start-up, before any request can meet a
    wrongly typed setting."""
    from mockserver.apis import REGISTRY, api_class

    origins = origins or {}
    if not isinstance(api_settings, dict):
        raise SettingsError(f"api_settings must map API names to settings, got {api_settings!r}")
    for api, values in api_settings.items():
        if not isinstance(values, dict):
            raise SettingsError(f"settings for API {api!r} must be a table, got {values!r}")
        if api not in REGISTRY:
            where = next(iter(origins.get(api, {}).values()), f"settings for API {api!r}")
            raise SettingsError(
                f"{where}: unknown API {api!r}{closest(api, REGISTRY)} "
                f"(known: {', '.join(REGISTRY)})"
            )
        cls = api_class(api)
        try:
            cls.make_config(values, origins.get(api))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None


def env_warnings(env: dict[str, str] | None = None) -> list[str]:
    """One line per `MOCKSERVER_*` variable that is no setting (ignored, not refused: it may be
    an integrator's own, like `MOCKSERVER_URL`), naming the closest known one."""
    env = dict(os.environ) if env is None else env
    known = [name.upper() for name in _SERVER_FIELDS] + ["CONFIG"]
    lines = []
    for key in sorted(env):
        name = key[len(PREFIX) :]
        if not key.startswith(PREFIX) or name in known or "__" in name:
            continue
        if name.startswith("CONTRACT_"):  # the contract suites' own (mockserver.contract)
            continue
        hint = closest(name, known, PREFIX) or "; it is not a mockserver setting"
        lines.append(f"mockserver: warning: {key} is ignored{hint}")
    return lines


def load_settings(
    config_file: str | os.PathLike | None = None,
    *,
    env: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Defaults, then the TOML file, then the environment, then `overrides` (the command line);
    every value is type-checked here, and a SettingsError names its file and key or variable."""
    env = dict(os.environ) if env is None else env
    layers = _Layers()
    config_file = config_file or env.get(f"{PREFIX}CONFIG")
    if config_file:
        _read_file(Path(config_file), layers)
    _read_env(env, layers)
    _overrides(overrides, layers)
    check_api_settings(layers.apis, layers.origins)
    settings = Settings(**layers.server, api_settings=layers.apis, api_sources=layers.sources)
    if not 0 <= settings.port <= 65535:
        raise SettingsError(f"port {settings.port} is out of range")
    if settings.workers < 1:
        raise SettingsError("workers must be at least 1")
    if settings.max_body_bytes < 1 or settings.journal_cap < 1:
        raise SettingsError("max_body_bytes and journal_cap must be positive")
    return settings
