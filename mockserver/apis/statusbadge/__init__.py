"""Game-server status heartbeat stored in KV, and its badge (seed 004, "Heartbeat API").

Documented rules (004): public id = `srv_pub_` + first 12 hex of SHA-256(token without
`sk_live_`); each heartbeat stored under the public id with data, timestamp and
heartbeatIntervalSec, TTL 300 s; the badge is offline after
staleTimeoutMs = max(60000, min(300000, heartbeatIntervalSec × 2000)) of silence (300000 ms
without an interval); no rate limit; CORS `*` / `GET, POST, OPTIONS` / `Content-Type`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from html import escape

from mockserver.client import ApiControl
from mockserver.core.api import CadencePolicy, ErrorBody, MockApi
from mockserver.core.clock import iso_utc
from mockserver.core.errors import MockError

__all__ = ["StatusbadgeApi", "public_id", "stale_timeout_ms", "StatusbadgeFake"]

TOKEN_PREFIX = "sk_live_"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}


def public_id(token: str) -> str:
    """004: strip `sk_live_`, SHA-256 the UUID text, first 12 hex characters, `srv_pub_`."""
    uuid_text = token[len(TOKEN_PREFIX) :] if token.startswith(TOKEN_PREFIX) else token
    return "srv_pub_" + hashlib.sha256(uuid_text.encode()).hexdigest()[:12]


def stale_timeout_ms(
    interval_sec: float | None, *, floor_ms: int = 60_000, cap_ms: int = 300_000
) -> int:
    """004: max(60000, min(300000, heartbeatIntervalSec × 2000)); 300000 when not sent."""
    if interval_sec is None:
        return cap_ms
    return int(max(floor_ms, min(cap_ms, interval_sec * 2000)))


class StatusbadgeFake:
    """The KV store of seed 004 on the mock clock: expiry is decided when a record is read."""

    NS = "statusbadge:servers"

    def __init__(self, store, config: StatusbadgeApi.Config) -> None:
        self.store = store
        self.config = config

    async def record(self, token: str, data: dict, now: float) -> str:
        pid = public_id(token)
        interval = data.get("heartbeatIntervalSec")

        def write(old: dict | None):
            fresh = old is not None and old["expires_at"] >= now
            return {
                "publicId": pid,
                "data": data,
                "timestamp": now,
                "heartbeatIntervalSec": interval,
                "expires_at": now + self.config.ttl_seconds,
                "first_seen": old["first_seen"] if fresh else now,
                "heartbeats": (old["heartbeats"] if fresh else 0) + 1,
            }, pid

        return await self.store.update(self.NS, pid, write)

    def view(self, rec: dict, now: float) -> dict:
        stale_ms = stale_timeout_ms(
            rec["heartbeatIntervalSec"],
            floor_ms=self.config.stale_min_ms,
            cap_ms=self.config.stale_max_ms,
        )
        online = (now - rec["timestamp"]) * 1000 <= stale_ms
        return {
            "publicId": rec["publicId"],
            "online": online,
            "status": rec["data"]["status"] if online else "offline",
            "lastHeartbeat": iso_utc(rec["timestamp"]),
            "heartbeatIntervalSec": rec["heartbeatIntervalSec"],
            "staleTimeoutMs": stale_ms,
            "expiresAt": iso_utc(rec["expires_at"]),
            "data": rec["data"],
        }

    async def get(self, pid: str, now: float) -> dict | None:
        rec = await self.store.get(self.NS, pid)
        if rec is None or rec["expires_at"] < now:
            return None
        return rec

    async def all(self, now: float) -> list[dict]:
        return [rec for _, rec in await self.store.scan(self.NS) if rec["expires_at"] >= now]


def badge_svg(label: str, message: str, color: str) -> str:
    """A flat shields-style badge; widths estimated at 7 px per character."""
    lw, mw = 6 + 7 * len(label), 6 + 7 * len(message)
    label, message = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + mw}" height="20" role="img" '
        f'aria-label="{label}: {message}"><title>{label}: {message}</title>'
        f'<rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{mw}" height="20" fill="{color}"/>'
        f'<g fill="#fff" text-anchor="middle" '
        f'font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2}" y="14">{label}</text>'
        f'<text x="{lw + mw / 2}" y="14">{message}</text></g></svg>'
    )


class StatusbadgeControl(ApiControl):
    """`client.statusbadge`: what the mock's KV holds."""

    api = "statusbadge"

    def servers(self) -> list[dict]:
        return self._call("GET", "/servers")["servers"]

    def server(self, public_id: str) -> dict:
        return self._call("GET", f"/servers/{public_id}")


class StatusbadgeApi(MockApi):
    name = "statusbadge"
    title = "Game-server status heartbeat"
    source = "004_6e8d8deb6a11d104.txt"
    spec = "statusbadge.yaml"
    control_spec = "statusbadge.yaml"
    prefixes = ("/api/heartbeat", "/api/badge/", "/api/status/")
    heartbeat_operation = "statusbadge_heartbeat"
    secret_fields = frozenset({"token"})  # 004: the server token is the credential
    control_client = StatusbadgeControl

    @dataclass
    class Config:
        ttl_seconds: float = 300  # 004: KV TTL 5 minutes
        stale_min_ms: int = 60_000  # 004: minimum 60 seconds
        stale_max_ms: int = 300_000  # 004: maximum 300 seconds, also the default

    def __init__(self, ctx, config) -> None:
        super().__init__(ctx, config)
        self.fake = StatusbadgeFake(ctx.store, config)

    # --- native API ------------------------------------------------------------------------
    async def statusbadge_heartbeat(self, body: dict):
        now = await self.clock.now()
        pid = await self.fake.record(body["token"], body["data"], now)
        return {"success": True, "publicId": pid, "message": "Heartbeat recorded successfully"}, 200

    async def _find(self, publicId: str):
        now = await self.clock.now()
        rec = await self.fake.get(publicId, now)
        return (None if rec is None else self.fake.view(rec, now)), now

    async def statusbadge_status(self, publicId: str):
        view, _ = await self._find(publicId)
        if view is None:
            raise MockError(404, "not_found", f"no server with public id {publicId}")
        return view, 200

    async def statusbadge_badge(self, publicId: str):
        view, _ = await self._find(publicId)
        if view is None:
            svg = badge_svg("server", "not found", "#9f9f9f")
            return svg, 404, {"Content-Type": "image/svg+xml"}
        if view["online"]:
            data = view["data"]
            message = f"{view['status']} {data['players']:g}/{data['maxPlayers']:g}"
            color = "#4c1" if view["status"] == "online" else "#dfb317"
        else:
            message, color = "offline", "#e05d44"
        return badge_svg("server", message, color), 200, {"Content-Type": "image/svg+xml"}

    async def statusbadge_preflight(self, **_):
        return None, 204

    statusbadge_preflight_heartbeat = statusbadge_preflight_badge = statusbadge_preflight_status = (
        statusbadge_preflight
    )

    # --- control routes (/__mock/statusbadge) ----------------------------------------------
    async def statusbadge_list_servers(self):
        now = await self.clock.now()
        servers = [
            {
                **self.fake.view(rec, now),
                "heartbeats": rec["heartbeats"],
                "firstSeen": iso_utc(rec["first_seen"]),
            }
            for rec in await self.fake.all(now)
        ]
        servers.sort(key=lambda s: s["publicId"])
        return {"servers": servers, "count": len(servers)}, 200

    async def statusbadge_get_server(self, publicId: str):
        now = await self.clock.now()
        rec = await self.fake.get(publicId, now)
        if rec is None:
            raise MockError(404, "not_found", f"no live server {publicId}")
        return {
            **self.fake.view(rec, now),
            "heartbeats": rec["heartbeats"],
            "firstSeen": iso_utc(rec["first_seen"]),
        }, 200

    # --- what core asks -------------------------------------------------------------------
    def cors_headers(self) -> dict[str, str]:
        return CORS

    def auth_hint(self) -> str:
        return 'no auth header; the body carries "token": "sk_live_<uuid v4>"'

    def identity(self, operation, request) -> str | None:
        body = request.get("body")
        if (
            operation == self.heartbeat_operation
            and isinstance(body, dict)
            and isinstance(body.get("token"), str)
        ):
            return public_id(body["token"])
        return None

    def cadence(self, identity=None, entries=None) -> CadencePolicy:
        interval = None
        for entry in reversed(entries or []):
            body = entry.get("request", {}).get("body")
            if isinstance(body, dict) and isinstance(body.get("data"), dict):
                interval = body["data"].get("heartbeatIntervalSec")
                break
        stale = (
            stale_timeout_ms(
                interval, floor_ms=self.config.stale_min_ms, cap_ms=self.config.stale_max_ms
            )
            / 1000
        )
        return CadencePolicy(interval=interval or stale, ttl=stale)

    def render_error(self, err: MockError) -> ErrorBody:
        """004 shows three 400 bodies; see the spec's x-mock-assumed for when each applies."""
        headers = dict(err.headers)
        if err.kind == "validation":
            keys = {f.key: f for f in err.fields}
            for name in ("token", "data"):
                f = keys.get(name)
                if f is not None and (f.rule == "required" or f.value == ""):
                    return ErrorBody(
                        400, {"error": "Missing required fields: token and data"}, headers
                    )
            if "token" in keys:
                return ErrorBody(400, {"error": "Invalid token format"}, headers)
            message = "; ".join(f"{f.key}: {f.message}" for f in err.fields) or err.message
            return ErrorBody(400, {"error": "Bad Request", "message": message}, headers)
        if err.kind == "unsupported_media_type":
            return ErrorBody(400, {"error": "Bad Request", "message": err.message}, headers)
        if err.kind == "payload_too_large":
            return ErrorBody(413, {"error": "Payload Too Large", "message": err.message}, headers)
        if err.kind == "not_found":
            return ErrorBody(404, {"error": "Not Found", "message": err.message}, headers)
        if err.kind == "method_not_allowed":
            return ErrorBody(405, {"error": "Method Not Allowed", "message": err.message}, headers)
        if err.status >= 500:
            return ErrorBody(
                err.status,
                {
                    "error": "Internal Server Error"
                    if err.status == 500
                    else "Service Unavailable",
                    "message": err.message,
                },
                headers,
            )
        return ErrorBody(
            err.status,
            {"error": err.kind.replace("_", " ").title(), "message": err.message},
            headers,
        )
