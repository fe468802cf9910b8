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
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ENGINES", "Settings", "SettingsError", "load_settings"]


class SettingsError(ValueError):
    """The configuration can't be used; the message says why in one line."""


ENGINES = ("compiled", "connexion")


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
    # "compiled": the compiled path answers what it proves valid, connexion the rest;
    # "connexion": connexion answers everything (DESIGN.md, "Two engines, one behaviour").
    engine: str = "compiled"
    api_settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise SettingsError(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")

    def for_api(self, name: str) -> dict[str, Any]:
        return dict(self.api_settings.get(name, {}))

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_SERVER_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "api_settings"}


def _coerce(name: str, value: Any) -> Any:
    target = _SERVER_FIELDS[name].type
    try:
        if target == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if target == "bool":
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            return bool(value)
        if target == "list[str]":
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError
            return list(value)
        if value is None and "None" in target:
            return None
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"setting {name!r} has an invalid value {value!r}") from None


def _env_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def load_settings(
    config_file: str | os.PathLike | None = None,
    *,
    env: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {}
    api_settings: dict[str, dict[str, Any]] = {}

    config_file = config_file or env.get("MOCKSERVER_CONFIG")
    if config_file:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise SettingsError(f"config file {str(path)!r} not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
        unknown = sorted(set(data) - {"server", "apis"})
        if unknown:
            raise SettingsError(f"config file has unknown section(s): {', '.join(unknown)}")
        server = data.get("server", {})
        for key, value in server.items():
            if key not in _SERVER_FIELDS:
                raise SettingsError(f"config file: unknown [server] setting {key!r}")
            values[key] = _coerce(key, value)
        for api, table in data.get("apis", {}).items():
            if not isinstance(table, dict):
                raise SettingsError(f"config file: [apis.{api}] must be a table")
            api_settings.setdefault(api, {}).update(table)

    for key, text in env.items():
        if not key.startswith("MOCKSERVER_") or key == "MOCKSERVER_CONFIG":
            continue
        name = key[len("MOCKSERVER_") :].lower()
        if "__" in name:
            api, _, setting = name.partition("__")
            api_settings.setdefault(api, {})[setting] = _env_value(text)
        elif name in _SERVER_FIELDS:
            values[name] = _coerce(name, text)

    for key, value in overrides.items():
        if value is None:
            continue
        if key == "api_settings":
            for api, table in value.items():
                api_settings.setdefault(api, {}).update(table)
            continue
        if key not in _SERVER_FIELDS:
            raise SettingsError(f"unknown setting {key!r}")
        values[key] = _coerce(key, value)

    settings = Settings(**values, api_settings=api_settings)
    if not 0 <= settings.port <= 65535:
        raise SettingsError(f"port {settings.port} is out of range")
    if settings.workers < 1:
        raise SettingsError("workers must be at least 1")
    if settings.max_body_bytes < 1 or settings.journal_cap < 1:
        raise SettingsError("max_body_bytes and journal_cap must be positive")
    return settings
