"""Sonoran CAD v2 server heartbeat (seed 000, "Heartbeat"): thin handlers over `SonoranFake`.

Documented (000): `POST /v2/general/servers/{serverId}/heartbeat` with an integer serverId, a
JSON body `{"playerCount": ...}` and a Bearer API key; the answer is
`{serverId, playerCount, receivedAtUtc}`; 10 requests per minute, per API key rather than per IP
address. The rules are in `rules`, the state in `fake`, the error format in `errors`; every other
choice is marked `x-mock-assumed` in specs/sonoran.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.apis.sonoran import records, rules
from mockserver.apis.sonoran.errors import RateLimited, ServerNotFound, render_error
from mockserver.apis.sonoran.fake import Accepted, NotConfigured, OverLimit, SonoranFake
from mockserver.client import ApiControl
from mockserver.core.api import CadencePolicy, ErrorBody, MockApi
from mockserver.core.config import ANY, list_setting
from mockserver.core.errors import MockError
from mockserver.core.redaction import mask_credential
from mockserver.http.security import security_map

__all__ = ["SonoranApi", "SonoranControl"]

MAX_SERVER_ID = 2147483647  # the spec's serverId maximum
MAX_RETENTION = 10 * 365 * 86400.0  # ten years: past that a timestamp leaves datetime's range


class SonoranControl(ApiControl):
    """`client.sonoran`: the latest heartbeat per API key and server."""

    api = "sonoran"

    def servers(self) -> list[dict]:
        return self._call("GET", "/servers")["servers"]


class SonoranApi(MockApi):
    name = "sonoran"
    title = "Sonoran CAD v2 heartbeat"
    source = "000_60f532caf9b1dfbf.txt"
    spec = "sonoran.yaml"
    control_spec = "sonoran.yaml"
    control_client = SonoranControl
    prefixes = ("/v2/",)
    heartbeat_operation = "sonoran_heartbeat"
    record_schemas = records.SCHEMAS  # what a restored snapshot may hold

    # Shown by their prefix in GET /__mock/settings: what clients send as credentials.
    secret_settings = frozenset({"api_keys"})

    @dataclass
    class Config:
        rate_limit_per_minute: int = 10  # 000: "10 requests per minute", per API key; 0 = off
        server_ids: list[int] | None = ANY  # ANY: every positive id is a configured server
        api_keys: list[str] | None = ANY  # ANY: any well-formed Bearer token is a key
        heartbeat_retention_seconds: float = 86400  # assumed: a day after the latest heartbeat

        def __post_init__(self) -> None:
            limit = self.rate_limit_per_minute
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ValueError(f"rate_limit_per_minute must be an integer >= 0, got {limit!r}")
            self.server_ids = list_setting("server_ids", self.server_ids, int)
            if self.server_ids is not ANY and any(
                not 1 <= s <= MAX_SERVER_ID for s in self.server_ids
            ):
                raise ValueError(
                    f"server_ids must be integers from 1 to {MAX_SERVER_ID}, "
                    f"got {self.server_ids!r}"
                )
            self.api_keys = list_setting("api_keys", self.api_keys, str)
            if self.api_keys is not ANY and not all(map(rules.BEARER_TOKEN.match, self.api_keys)):
                raise ValueError("api_keys must be well-formed bearer tokens (RFC 6750 characters)")
            retention = self.heartbeat_retention_seconds
            if (
                isinstance(retention, bool)
                or not isinstance(retention, int | float)
                or not 0 <= retention <= MAX_RETENTION
            ):
                raise ValueError(
                    f"heartbeat_retention_seconds must be a number of seconds from 0 to "
                    f"{MAX_RETENTION:.0f}, got {retention!r}"
                )

    def __init__(self, ctx, config) -> None:
        super().__init__(ctx, config)
        self.fake = SonoranFake(ctx.store, config)

    # --- native API ------------------------------------------------------------------------
    async def sonoran_heartbeat(self, serverId: int, body: dict, user: str):
        now = await self.clock.now()
        match await self.fake.heartbeat(user, serverId, body["playerCount"], now):
            case Accepted(record):
                return rules.answer(record), 200
            case OverLimit(limit, retry_after):
                raise RateLimited(limit, retry_after)
            case NotConfigured(server_id):
                raise ServerNotFound(server_id)

    # --- control routes (/__mock/sonoran) --------------------------------------------------
    async def sonoran_list_servers(self):
        retention = self.config.heartbeat_retention_seconds
        records = await self.fake.servers(await self.clock.now())
        servers = [_server_view(rec, retention) for rec in records]
        return {"servers": servers, "count": len(servers)}, 200

    # --- what core asks -------------------------------------------------------------------
    def security_map(self) -> dict:
        def bearer(token: str) -> dict | None:  # the settings in force now (runtime settings)
            return {"sub": token} if rules.accepts_key(token, self.config.api_keys) else None

        return security_map(bearer=bearer)

    def auth_hint(self) -> str:
        if self.config.api_keys is not ANY:
            return "Authorization: Bearer <one of the api_keys setting>"
        return "Authorization: Bearer <any API key>"

    def identity(self, operation, request) -> str | None:
        if operation != self.heartbeat_operation:
            return None
        scheme, _, token = request["headers"].get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        server = request["path_params"].get("serverId", "?")
        return f"{mask_credential(token.strip())} server {server}"

    def cadence(self, identity=None, entries=None) -> CadencePolicy:
        """000 documents no heartbeat interval, only the rate limit."""
        limit = self.config.rate_limit_per_minute
        window = rules.WINDOW_SECONDS
        return CadencePolicy(interval=None, rate_limit=(limit, window) if limit else None)

    def render_error(self, err: MockError) -> ErrorBody:
        return render_error(err)


def _server_view(rec: dict, retention: float) -> dict:
    return {
        "apiKey": rec["apiKey"],
        "keyId": rec["keyId"],
        "serverId": rec["serverId"],
        "playerCount": rec["playerCount"],
        "receivedAtUtc": rules.iso_utc(rec["receivedAt"]),
        "heartbeats": rec["heartbeats"],
        "firstSeenUtc": rules.iso_utc(rec["firstSeen"]),
        "expiresAtUtc": rules.iso_utc(rules.lapse(rec, retention)),
    }
