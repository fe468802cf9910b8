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

from mockserver.core.config import check_types, closest
from mockserver.core.errors import MockError

if TYPE_CHECKING:
    from mockserver.core.context import MockContext

__all__ = ["MockApi", "ErrorBody", "CadencePolicy"]


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
    and the TTL or stale timeout after which a silent client loses its state."""

    interval: float | None
    ttl: float | None = None
    rate_limit: tuple[int, float] | None = None  # (requests, window seconds)


class MockApi:
    name: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]  # the seed document the spec is written from
    spec: ClassVar[str]  # file name under specs/
    control_spec: ClassVar[str | None] = None  # under specs/control/, paths below /__mock/<name>
    prefixes: ClassVar[tuple[str, ...]]  # native path prefixes routed to this API
    heartbeat_operation: ClassVar[str | None] = None
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

    @dataclass
    class Config:
        pass

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
            return cls.Config(**overrides)
        except (TypeError, ValueError) as exc:
            named = [n for n in overrides if n in str(exc)] or list(overrides)
            prefix = where(named[0]) if named else f"settings for API {cls.name!r}"
            raise ValueError(f"{prefix}: {exc}") from exc

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
