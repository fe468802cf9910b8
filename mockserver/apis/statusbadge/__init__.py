"""Game-server status heartbeat stored in KV, and its badge (seed 004, "Heartbeat API"): thin
handlers over `StatusbadgeFake`, whose rules are in `rules`.

Documented (004): `POST /api/heartbeat` with `{token, data}` stores the server's status under a
public id derived from the token, for 300 s; "the badge endpoint" reads it and shows the server
offline once it has been silent for its stale timeout; no rate limit; CORS `*` /
`GET, POST, OPTIONS` / `Content-Type` (the gate answers preflights and adds the headers).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from mockserver.apis.statusbadge import records, rules
from mockserver.apis.statusbadge.errors import ServerNotFound, render_error
from mockserver.apis.statusbadge.fake import StatusbadgeFake
from mockserver.client import ApiControl, segment
from mockserver.core.api import CadencePolicy, ErrorBody, MockApi
from mockserver.core.clock import iso_utc
from mockserver.core.errors import MockError

__all__ = ["StatusbadgeApi", "StatusbadgeControl"]

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}
SVG = {"Content-Type": "image/svg+xml"}


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


def _positive(name: str, value):
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value


class StatusbadgeControl(ApiControl):
    """`client.statusbadge`: what the mock's KV holds."""

    api = "statusbadge"

    def servers(self) -> list[dict]:
        return self._call("GET", "/servers")["servers"]

    def server(self, public_id: str) -> dict:
        return self._call("GET", f"/servers/{segment(public_id)}")


class StatusbadgeApi(MockApi):
    name = "statusbadge"
    title = "Game-server status heartbeat"
    source = "004_6e8d8deb6a11d104.txt"
    spec = "statusbadge.yaml"
    control_spec = "statusbadge.yaml"
    control_client = StatusbadgeControl
    prefixes = ("/api/heartbeat", "/api/badge/", "/api/status/")
    heartbeat_operation = "statusbadge_heartbeat"
    record_schemas = records.SCHEMAS  # what a restored snapshot may hold
    secret_fields = frozenset({"token"})  # 004: the server token is the credential

    @dataclass
    class Config:
        ttl_seconds: float = 300  # 004: KV TTL 5 minutes
        stale_min_ms: int = 60_000  # 004: minimum 60 seconds
        stale_max_ms: int = 300_000  # 004: maximum 300 seconds, also the default

        def __post_init__(self) -> None:
            for name in ("ttl_seconds", "stale_min_ms", "stale_max_ms"):
                _positive(name, getattr(self, name))
            if self.stale_min_ms > self.stale_max_ms:
                raise ValueError(
                    f"stale_min_ms ({self.stale_min_ms}) is above stale_max_ms "
                    f"({self.stale_max_ms})"
                )

    def __init__(self, ctx, config: StatusbadgeApi.Config) -> None:
        super().__init__(ctx, config)
        self.fake = StatusbadgeFake(ctx.store, config)

    def _verdict(self, rec: dict, now: float) -> rules.Verdict:
        cfg = self.config
        return rules.verdict(rec, now, floor_ms=cfg.stale_min_ms, cap_ms=cfg.stale_max_ms)

    def _view(self, rec: dict, now: float) -> dict:
        seen = self._verdict(rec, now)
        return {
            "publicId": rec["publicId"],
            "online": seen.online,
            "status": seen.status,
            "lastHeartbeat": iso_utc(rec["timestamp"]),
            "heartbeatIntervalSec": rec["heartbeatIntervalSec"],
            "staleTimeoutMs": seen.stale_ms,
            "expiresAt": iso_utc(rec["expires_at"]),  # shown as 9999-12-31T23:59:59Z at most
            "data": rec["data"],
        }

    def _server_view(self, rec: dict, now: float) -> dict:
        """The control routes' view: the status plus the entry's history."""
        return {
            **self._view(rec, now),
            "heartbeats": rec["heartbeats"],
            "firstSeen": iso_utc(rec["first_seen"]),
        }

    # --- native API ------------------------------------------------------------------------
    async def statusbadge_heartbeat(self, body: dict):
        pid = await self.fake.record(body["token"], body["data"], await self.clock.now())
        return {"success": True, "publicId": pid, "message": "Heartbeat recorded successfully"}, 200

    async def statusbadge_status(self, publicId: str):
        now = await self.clock.now()
        rec = await self.fake.get(publicId, now)
        if rec is None:
            raise ServerNotFound(publicId)
        return self._view(rec, now), 200

    async def statusbadge_badge(self, publicId: str):
        now = await self.clock.now()
        rec = await self.fake.get(publicId, now)
        message, colour, status = rules.badge(rec, rec and self._verdict(rec, now))
        return badge_svg("server", message, colour), status, SVG

    # --- control routes (/__mock/statusbadge) ----------------------------------------------
    async def statusbadge_list_servers(self):
        now = await self.clock.now()
        servers = [self._server_view(rec, now) for rec in await self.fake.all(now)]
        return {"servers": servers, "count": len(servers)}, 200

    async def statusbadge_get_server(self, publicId: str):
        now = await self.clock.now()
        rec = await self.fake.get(publicId, now)
        if rec is None:
            raise ServerNotFound(publicId, f"no live server {publicId}")
        return self._server_view(rec, now), 200

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
            return rules.public_id(body["token"])
        return None

    def cadence(self, identity=None, entries=None) -> CadencePolicy:
        interval = None
        for entry in reversed(entries or []):
            body = entry.get("request", {}).get("body")
            if isinstance(body, dict) and isinstance(body.get("data"), dict):
                interval = body["data"].get("heartbeatIntervalSec")
                break
        cfg = self.config
        stale = rules.stale_timeout_ms(interval, floor_ms=cfg.stale_min_ms, cap_ms=cfg.stale_max_ms)
        return CadencePolicy(
            interval=interval or stale / 1000,
            ttl=cfg.ttl_seconds,  # 004: the KV entry lives 5 minutes
            stale=stale / 1000,  # 004: offline after the stale timeout
            ttl_effect="the server's record was gone",
            stale_effect="the server showed offline",
        )

    def render_error(self, err: MockError) -> ErrorBody:
        return render_error(err)
