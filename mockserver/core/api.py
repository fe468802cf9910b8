"""What every API module provides: the base class the registry's entries subclass.

An API module owns its spec, its handlers (methods named by operationId), its error format, its
settings with the documented defaults, and its `/__mock/<api>/...` control routes (a spec in
`specs/control/<api>.yaml` whose operationIds are methods here too). Core modules only talk to
this interface, never to a particular API (DESIGN.md, "Adding a sixth API").
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

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
    the TTL after which a silent client's state is gone, and (where the document has one) a
    shorter stale timeout after which it only shows offline (issue 17: statusbadge's 60 s stale
    timeout is not its 300 s TTL). The effects are the document's own words for what happened."""

    interval: float | None
    ttl: float | None = None
    rate_limit: tuple[int, float] | None = None  # (requests, window seconds)
    stale: float | None = None
    ttl_effect: str = "the client's state expired"
    stale_effect: str = "it showed offline"


class MockApi:
    name: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]  # the seed document the spec is written from
    spec: ClassVar[str]  # file name under specs/
    control_spec: ClassVar[str | None] = None  # under specs/control/, paths below /__mock/<name>
    prefixes: ClassVar[tuple[str, ...]]  # native path prefixes routed to this API
    heartbeat_operation: ClassVar[str | None] = None
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
    def make_config(cls, overrides: dict[str, Any]) -> Any:
        known = {f.name: f for f in dataclasses.fields(cls.Config)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"unknown setting(s) for API {cls.name!r}: {', '.join(unknown)}")
        try:
            return cls.Config(**overrides)
        except TypeError as exc:
            raise ValueError(f"invalid settings for API {cls.name!r}: {exc}") from exc

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
        await self.store.clear(self.name)
