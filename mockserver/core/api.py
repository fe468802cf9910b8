"""What every API module provides: the base class the registry's entries subclass.

An API module owns its spec, its handlers (methods named by operationId), its error format, its
settings with the documented defaults, and its `/__mock/<api>/...` control routes (a spec in
`specs/control/<api>.yaml` whose operationIds are methods here too). Core modules only talk to
this interface, never to a particular API (DESIGN.md, "Adding a sixth API").
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from mockserver.core.config import ProxySettings, check_proxy, check_types, closest, field_types
from mockserver.core.errors import MockError

if TYPE_CHECKING:
    from mockserver.core.context import MockContext

__all__ = ["MockApi", "ErrorBody", "CadencePolicy", "StopAnswer"]


@dataclass
class ErrorBody:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str) and not self.media_type.endswith("json"):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()


@dataclass
class CadencePolicy:
    """The documented heartbeat cadence for the report (issue 7): expected interval in seconds,
    the TTL after which a silent client's state is gone, and (where the document has one) a
    shorter stale timeout after which it only shows offline (issue 17: statusbadge's 60 s stale
    timeout is not its 300 s TTL). The effects are the document's own words for what happened."""

    interval: float | None
    ttl: float | None = None
    rate_limit: tuple[int, float] | None = None  # (requests, window seconds)
    stale: float | None = None
    ttl_effect: str = "the client's state expired"
    stale_effect: str = "it showed offline"


@dataclass(frozen=True)
class StopAnswer:
    """An answer after which the API's document says a client stops heartbeating (issue 17): a
    status, and optionally a field of the JSON answer (`path`, e.g. ("error", "code")) holding
    `value`. The report flags a client that heartbeats again after one."""

    status: int
    path: tuple[str, ...] = ()
    value: str | None = None

    def told(self, status: int, body: Any) -> str | None:
        """The answer in words (its status, and the field's value) when it is this one."""
        if status != self.status:
            return None
        for key in self.path:
            body = body.get(key) if isinstance(body, dict) else None
        if self.path and (body != self.value if self.value is not None else body is None):
            return None
        return f"{status} {body}" if self.path and isinstance(body, str) else str(status)


class MockApi:
    name: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]  # the seed document the spec is written from
    spec: ClassVar[str]  # file name under specs/
    control_spec: ClassVar[str | None] = None  # under specs/control/, paths below /__mock/<name>
    prefixes: ClassVar[tuple[str, ...]]  # native path prefixes routed to this API
    heartbeat_operation: ClassVar[str | None] = None
    # The heartbeat's answers after which the document says a client stops (StopAnswer).
    stop_answers: ClassVar[tuple[StopAnswer, ...]] = ()
    # Why a client can't use the API before something is seeded through the control API (a
    # sentence for `serve`'s summary and the landing page, and a warning with --no-control).
    needs_seeding: ClassVar[str | None] = None
    control_client: ClassVar[type | None] = None  # an ApiControl subclass: typed control calls
    # Read a body sent without Content-Type as JSON (assumed, README) unless the document makes
    # the header required (002 does: PlayWave answers 415 itself).
    body_without_content_type_is_json: ClassVar[bool] = True
    # Where this API's credentials travel, beyond the generic Authorization/Cookie headers
    # (mockserver.core.redaction): header names, body field names, query parameter names.
    secret_headers: ClassVar[frozenset[str]] = frozenset()
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    secret_params: ClassVar[frozenset[str]] = frozenset()
    # JSON Schemas of the records in each of this API's store namespaces (by the name after
    # `<api>:`), which a restored snapshot must pass (mockserver.snapshot); None: any object.
    record_schemas: ClassVar[dict[str, dict] | None] = None

    @dataclass
    class Config(ProxySettings):
        pass

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every API's Config gets the generic settings (ProxySettings) after its own, added
        here once rather than written into each API's Config."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("Config")
        if own is not None and "proxy" not in {f.name for f in dataclasses.fields(own)}:
            generic = field_types(ProxySettings)
            extra = [
                (f.name, generic[f.name], dataclasses.field(default=f.default))
                for f in dataclasses.fields(ProxySettings)
            ]
            config = dataclasses.make_dataclass("Config", extra, bases=(own,))
            config.__module__, config.__qualname__ = own.__module__, own.__qualname__
            cls.Config = config

    def __init__(self, ctx: MockContext, config: Any) -> None:
        self.ctx = ctx
        self.config = config
        self.store = ctx.store
        self.clock = ctx.clock

    # --- configuration -------------------------------------------------------------------
    @classmethod
    def make_config(
        cls, overrides: dict[str, Any], origins: Mapping[str, str] | None = None
    ) -> Any:
        """The API's Config from `overrides`, each value checked against its field's type first
        (mockserver.core.config.check_types), then by the Config itself. A ValueError names
        where the value came from: `origins[name]` (a file and key, a variable), else the
        setting's own name."""
        origins = origins or {}

        def where(name: str) -> str:
            return origins.get(name) or f"{cls.name} setting {name!r}"

        known = {f.name for f in dataclasses.fields(cls.Config)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            name = unknown[0]
            raise ValueError(
                f"{where(name)}: unknown setting for API {cls.name!r}{closest(name, known)} "
                f"(known: {', '.join(sorted(known))})"
            )
        check_types(cls.Config, overrides, where)
        try:
            config = cls.Config(**overrides)
        except (TypeError, ValueError) as exc:
            named = [n for n in overrides if n in str(exc)] or list(overrides)
            prefix = where(named[0]) if named else f"settings for API {cls.name!r}"
            raise ValueError(f"{prefix}: {exc}") from exc
        check_proxy(config, where)
        return config

    def use_config(self, config: Any) -> None:
        """Put `config` in force from the next request (runtime settings,
        mockserver.runtime_settings): `__init__` runs again, so whatever an API builds from its
        config (its fake, a rate window) is built anew. Handlers and security checks read
        `self.config` when they run, never a value captured at start-up."""
        self.__init__(self.ctx, config)

    # --- what core asks of an API ----------------------------------------------------------
    def security_map(self) -> dict:
        """Connexion security handlers bound to this API's settings."""
        return {}

    def render_error(self, err: MockError) -> ErrorBody:
        raise NotImplementedError

    def auth_hint(self) -> str:
        return ""

    def cors_headers(self) -> dict[str, str] | None:
        """Headers added to every answer of this API (and OPTIONS preflight), or None."""
        return None

    def identity(self, operation: str | None, request: dict) -> str | None:
        """Who sent a heartbeat, for the cadence report: a key prefix, session, system, device
        or public id. `request` has `path_params`, `headers` (raw) and `body` (parsed)."""
        return None

    def cadence(
        self, identity: str | None = None, entries: list[dict] | None = None
    ) -> CadencePolicy | None:
        return None

    async def reset(self) -> None:
        """Forget everything of this API: every store namespace under its name, which holds its
        records, its journal (`<api>:journal`) and its faults (`<api>:faults`)."""
        await self.store.clear(self.name)
