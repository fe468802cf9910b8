"""Runtime settings: an API's settings changed while the mock runs, for every worker and host.

`PATCH /__mock/settings/<api>` `{name: value}` checks the change against the API's Config (its
types and its own rules, with the start-up settings and earlier changes: `make_config`), then
keeps every API's runtime changes in one store record with a fresh version; a bad change is
refused whole and writes nothing. Each request first reads that record (one store read, made
with the request's other reads: `RECORD`, `refresh_from`; mockserver.http.gate) and, when its
version differs from the one in force in this process, puts the new settings in force
(`MockApi.use_config`): so a change holds from the next request on, on every worker and host
that shares the store. `POST /__mock/reset` (the whole mock) clears the
store, this record with it, so the start-up settings are back from the next request; `DELETE
/__mock/settings` drops the runtime changes alone.

`GET /__mock/settings` shows, per API and setting, the value in force, its default (the
documented value) and where the value came from: `default`, `file` (the TOML file),
`environment` (`MOCKSERVER_<API>__<NAME>`), `arguments` (given in code or on the command line:
`Settings(api_settings=...)`, `BackgroundServer`) or `runtime`.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Any

from mockserver.core.errors import MockError
from mockserver.core.redaction import KEEP, mask
from mockserver.store import Store, StoreUnavailable

__all__ = ["NS", "KEY", "RECORD", "RuntimeSettings", "SettingsChangeError", "SOURCES", "refreshing"]

log = logging.getLogger("mockserver")

NS, KEY = "_settings", "runtime"
RECORD = (NS, KEY)
SOURCES = ("default", "file", "environment", "arguments", "runtime")


class SettingsChangeError(ValueError):
    """A change that can't be made: `status` 404 for an API that is not enabled, else 400;
    `setting` names the offending setting when one can be told."""

    def __init__(
        self, status: int, message: str, setting: str | None = None, secret: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.setting = setting
        self.secret = secret  # the setting holds credentials: show its value by `masked`


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


class RuntimeSettings:
    """Start-up settings and runtime changes for the APIs of one app (see the module docstring).

    `apis`: name -> MockApi object; `startup`: name -> the settings it started with (what
    `Settings.for_api` gives); `sources`: name -> setting -> "file" | "environment" |
    "arguments" (a start-up setting with no recorded source counts as "arguments")."""

    def __init__(
        self,
        store: Store,
        apis: dict[str, Any],
        startup: dict[str, dict[str, Any]],
        sources: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.store = store
        self.apis = apis
        self.startup = {name: dict(startup.get(name, {})) for name in apis}
        self.sources = sources or {}
        self._version: str | None = None  # of the runtime record in force in this process
        self._applied: dict[str, dict[str, Any]] = {name: {} for name in apis}

    def _config(self, name: str, changes: dict[str, Any]) -> Any:
        """The API's Config from its start-up settings and `changes`; ValueError if refused."""
        cls = type(self.apis[name])
        try:
            return cls.make_config({**self.startup[name], **changes})
        except (TypeError, ValueError) as exc:  # a Config's own check may trip on a wild value
            raise ValueError(str(exc)) from None

    async def refresh(self) -> None:
        """Put the store's runtime settings in force here if they changed (one store read)."""
        self.refresh_from(await self.store.get(NS, KEY))

    def refresh_from(self, record: dict | None) -> None:
        """Put `record` (the store's runtime record, read with others) in force if it changed."""
        version = record.get("version") if record else None
        if version != self._version:
            self._apply((record or {}).get("apis", {}), version)

    def _apply(self, changes: dict[str, dict[str, Any]], version: str | None) -> None:
        for name, api in self.apis.items():
            wanted = changes.get(name, {})
            if wanted == self._applied[name]:
                continue
            try:
                config = self._config(name, wanted)
            except ValueError as exc:  # written by a mock of another version: keep start-up
                log.warning("runtime settings of %s ignored: %s", name, exc)
                wanted, config = {}, self._config(name, {})
            api.use_config(config)
            self._applied[name] = wanted
        self._version = version

    def _enabled(self, name: str) -> None:
        if name not in self.apis:
            raise SettingsChangeError(
                404, f"API {name!r} is not enabled; enabled: {', '.join(self.apis)}"
            )

    async def change(self, name: str, changes: dict[str, Any]) -> dict:
        """Apply `changes` to API `name` (with its earlier runtime changes) for every worker;
        SettingsChangeError and nothing changed if the API or any value is refused."""
        self._enabled(name)
        if not isinstance(changes, dict):
            raise SettingsChangeError(400, "the body must be an object of settings")
        version = uuid.uuid4().hex

        def write(record: dict | None):
            apis = dict((record or {}).get("apis", {}))
            merged = {**apis.get(name, {}), **changes}
            self._config(name, merged)  # raises: nothing is written
            apis[name] = merged
            return {"version": version, "apis": apis}, apis

        try:
            apis = await self.store.update(NS, KEY, write)
        except ValueError as exc:
            message = self._hide_secrets(name, changes, str(exc))
            named = (  # the setting the message quotes, else one it names, else the first
                [n for n in changes if repr(n) in message]
                or [n for n in changes if n in message]
                or list(changes)
            )
            setting = named[0] if named else None
            secret = setting in getattr(self.apis[name], "secret_settings", ())
            raise SettingsChangeError(400, message, setting, secret) from None
        self._apply(apis, version)
        return self.describe_api(name)

    def _hide_secrets(self, name: str, changes: dict[str, Any], message: str) -> str:
        """A refusal's message with every password, key or token the change gave (in a
        credential setting) shown by its prefix: a typo in one list item must not echo the
        others."""
        secret = getattr(self.apis[name], "secret_settings", frozenset())
        values = [changes[n] for n in changes if n in secret]
        for leaf in sorted(_strings(values), key=len, reverse=True):
            if len(leaf) > KEEP:
                message = message.replace(leaf, mask(leaf))
        return message

    async def clear(self, name: str | None = None) -> None:
        """Drop the runtime changes (of one API, or all): the start-up settings hold again."""
        if name is not None:
            self._enabled(name)
        version = uuid.uuid4().hex

        def drop(record: dict | None):
            apis = {} if name is None else dict((record or {}).get("apis", {}))
            apis.pop(name, None)
            return ({"version": version, "apis": apis} if apis else None), apis

        apis = await self.store.update(NS, KEY, drop)
        self._apply(apis, version if apis else None)

    def describe(self) -> dict:
        """Every enabled API's settings as in force here (call `refresh` first)."""
        return {"apis": {name: self.describe_api(name) for name in self.apis}}

    def describe_api(self, name: str) -> dict:
        self._enabled(name)
        config = self.apis[name].config
        secret = getattr(self.apis[name], "secret_settings", frozenset())
        shown = masked if secret else _jsonable
        out = {}
        for f in dataclasses.fields(config):
            show = shown if f.name in secret else _jsonable
            if f.name in self._applied[name]:
                source = "runtime"
            elif f.name in self.startup[name]:
                source = self.sources.get(name, {}).get(f.name, "arguments")
            else:
                source = "default"
            out[f.name] = {
                "value": show(getattr(config, f.name)),
                "default": show(_default(f)),
                "source": source,
            }
        return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def masked(value: Any) -> Any:
    """A credential setting as shown: every password, key or token by its prefix (a table's
    keys, user names, stay readable), like the journal shows the same value."""
    value = _jsonable(value)
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return mask(value) if isinstance(value, str) else value


def refreshing(app, runtime: RuntimeSettings, render):
    """`app` (the control API) with the runtime settings brought up to date before each request
    (API gates do it themselves): a store that can't be read is the control API's 503 at once
    (`render` gives its body), not a wait now and another in the handler."""

    async def refreshed(scope, receive, send):
        if scope["type"] == "http":
            try:
                await runtime.refresh()
            except StoreUnavailable:
                body = render(MockError(503, "unavailable", "state store unavailable")).encode()
                headers = [(b"content-type", b"application/json")]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({"type": "http.response.start", "status": 503, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return refreshed
