"""Sonoran CAD v2 server heartbeat (seed 000, "Heartbeat").

Documented rules (000): `POST /v2/general/servers/{serverId}/heartbeat` with an integer
serverId, a JSON body `{"playerCount": ...}` and a Bearer API key; the answer is
`{serverId, playerCount, receivedAtUtc}`; 10 requests per minute, per API key rather than per
IP address. Everything else (bounds, error bodies, how the limit is counted) is a choice marked
`x-mock-assumed` in specs/sonoran.yaml.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from mockserver.client import ApiControl
from mockserver.core.api import CadencePolicy, ErrorBody, MockApi
from mockserver.core.clock import iso_utc
from mockserver.core.errors import UPPER_CODES, MockError
from mockserver.core.ratelimit import RateWindow
from mockserver.core.redaction import mask_credential
from mockserver.http.security import security_map

__all__ = ["SonoranApi", "SonoranFake", "key_id", "WINDOW_SECONDS"]

WINDOW_SECONDS = 60.0  # 000: "10 requests per minute"
# RFC 6750 b64token: what a well-formed `Authorization: Bearer <token>` carries.
BEARER_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")

ERROR_CODES = {**UPPER_CODES, "validation": "INVALID_REQUEST"}


def key_id(api_key: str) -> str:
    """A non-secret name for an API key: state is keyed by it, so the store holds no keys."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


def _list_setting(name: str, value: Any, item: type) -> list | None:
    """Settings arrive from TOML (lists), env JSON (`[1,2]`, `1`) or env text (`1,2`, `key`)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list, got {value!r}")
    out = []
    for v in value:
        if item is int and isinstance(v, str) and v.isdigit():
            v = int(v)
        elif item is str and isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, item) or isinstance(v, bool):
            raise ValueError(f"{name} must be a list of {item.__name__}s, got {value!r}")
        out.append(v)
    return out


class SonoranFake:
    """The rules of seed 000 on the mock clock: configured servers, the per-key rate limit and
    the latest heartbeat per API key and server."""

    NS_HEARTBEATS = "sonoran:heartbeats"
    NS_WINDOWS = "sonoran:windows"

    def __init__(self, store, config: SonoranApi.Config) -> None:
        self.store = store
        self.config = config
        self.window = RateWindow(
            store, self.NS_WINDOWS, config.rate_limit_per_minute, WINDOW_SECONDS
        )

    def configured(self, server_id: int) -> bool:
        return self.config.server_ids is None or server_id in self.config.server_ids

    async def heartbeat(self, api_key: str, server_id: int, player_count: int, now: float) -> dict:
        kid = key_id(api_key)
        configured = self.configured(server_id)
        # The limiter answers first (a key over its limit gets 429 even for an unknown server),
        # but only an accepted heartbeat takes a slot.
        admission = await self.window.admit(kid, now, take=configured)
        if not admission.allowed:
            limit = self.config.rate_limit_per_minute
            raise MockError(
                429,
                "rate_limited",
                f"rate limit of {limit} requests per minute exceeded for this API key; "
                f"retry in {admission.retry_after} seconds",
                headers={"Retry-After": str(admission.retry_after)},
                data={"retryAfter": admission.retry_after},
            )
        if not configured:
            raise MockError(
                404, "SERVER_NOT_FOUND", f"server {server_id} is not configured for this community"
            )

        def write(old: dict | None):
            return {
                "apiKey": mask_credential(api_key),
                "keyId": kid,
                "serverId": server_id,
                "playerCount": player_count,
                "receivedAt": now,
                "firstSeen": old["firstSeen"] if old else now,
                "heartbeats": (old["heartbeats"] if old else 0) + 1,
            }, None

        await self.store.update(self.NS_HEARTBEATS, f"{kid}:{server_id}", write)
        return {"serverId": server_id, "playerCount": player_count, "receivedAtUtc": iso_utc(now)}

    async def servers(self) -> list[dict]:
        records = [rec for _, rec in await self.store.scan(self.NS_HEARTBEATS)]
        records.sort(key=lambda r: (r["keyId"], r["serverId"]))
        return [
            {
                "apiKey": r["apiKey"],
                "keyId": r["keyId"],
                "serverId": r["serverId"],
                "playerCount": r["playerCount"],
                "receivedAtUtc": iso_utc(r["receivedAt"]),
                "heartbeats": r["heartbeats"],
                "firstSeenUtc": iso_utc(r["firstSeen"]),
            }
            for r in records
        ]


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

    @dataclass
    class Config:
        rate_limit_per_minute: int = 10  # 000: "10 requests per minute", per API key; 0 = off
        server_ids: list[int] | None = None  # None: every positive id is a configured server
        api_keys: list[str] | None = None  # None: any well-formed Bearer token is a key

        def __post_init__(self) -> None:
            limit = self.rate_limit_per_minute
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ValueError(f"rate_limit_per_minute must be an integer >= 0, got {limit!r}")
            self.server_ids = _list_setting("server_ids", self.server_ids, int)
            if self.server_ids is not None and any(
                not 1 <= s <= 2147483647 for s in self.server_ids
            ):
                raise ValueError(f"server_ids must be positive integers, got {self.server_ids!r}")
            self.api_keys = _list_setting("api_keys", self.api_keys, str)
            bad = [k for k in self.api_keys or [] if not BEARER_TOKEN.match(k)]
            if bad:
                raise ValueError("api_keys must be well-formed bearer tokens (RFC 6750 characters)")

    def __init__(self, ctx, config) -> None:
        super().__init__(ctx, config)
        self.fake = SonoranFake(ctx.store, config)

    # --- native API ------------------------------------------------------------------------
    async def sonoran_heartbeat(self, serverId: int, body: dict, user: str):
        now = await self.clock.now()
        answer = await self.fake.heartbeat(user, serverId, body["playerCount"], now)
        return answer, 200

    # --- control routes (/__mock/sonoran) --------------------------------------------------
    async def sonoran_list_servers(self):
        servers = await self.fake.servers()
        return {"servers": servers, "count": len(servers)}, 200

    # --- what core asks -------------------------------------------------------------------
    def security_map(self) -> dict:
        config = self.config

        def bearer(token: str) -> dict | None:
            if not BEARER_TOKEN.match(token):
                return None
            if config.api_keys is not None and token not in config.api_keys:
                return None
            return {"sub": token}

        return security_map(bearer=bearer)

    def auth_hint(self) -> str:
        if self.config.api_keys is not None:
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
        return CadencePolicy(interval=None, rate_limit=(limit, WINDOW_SECONDS) if limit else None)

    def render_error(self, err: MockError) -> ErrorBody:
        """One JSON shape for every error (000 shows none; see the spec's x-mock-assumed)."""
        headers = dict(err.headers)
        code = ERROR_CODES.get(err.kind, err.kind if err.kind.isupper() else err.kind.upper())
        body: dict[str, Any] = {
            "error": code,
            "message": err.message or code.replace("_", " ").lower(),
        }
        if err.status == 400:
            body["errors"] = [f.as_dict() for f in err.fields]
            if err.fields:
                body["message"] = "; ".join(f"{f.key}: {f.message}" for f in err.fields)
        if err.status == 429:
            retry_after = (
                err.data.get("retryAfter")
                or _int(headers.get("Retry-After"))
                or int(WINDOW_SECONDS)
            )
            headers.setdefault("Retry-After", str(retry_after))
            body["retryAfter"] = retry_after
        return ErrorBody(err.status, body, headers)


def _int(text: str | None) -> int | None:
    try:
        value = int(text) if text is not None else None
    except ValueError:
        return None
    return value if value and value > 0 else None
