"""System liveness heartbeat (seed 001, "System heartbeat"): thin handlers over `CollectFake`.

Documented (001): a system POSTs `{"system_id": ...}` to /systems/heartbeat every 10 minutes
with HTTP Basic credentials; every answer is the `{code, message, data}` envelope (see
`errors`). The rules (liveness, retention, who may report) are in `rules`, the state in `fake`;
every choice the document leaves open is marked x-mock-assumed in specs/collect.yaml.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mockserver.apis.collect import records, rules
from mockserver.apis.collect.errors import (
    EXTERNAL_DETAILS,
    EXTERNAL_MESSAGE,
    MESSAGES,
    ExternalApiError,
    InsufficientPermissions,
    render_error,
)
from mockserver.apis.collect.fake import CollectFake
from mockserver.client import ApiControl, segment
from mockserver.core.api import CadencePolicy, ErrorBody, MockApi
from mockserver.core.config import ANY, list_setting
from mockserver.core.errors import MockError
from mockserver.http.security import security_map

__all__ = ["CollectApi", "CollectControl"]

MAX_SECONDS = 10 * 365 * 86400.0  # ten years: past that a timestamp leaves datetime's range
MAX_ARMED = 100  # armed external errors at once (bounded memory; each may carry 1 MiB)


def _parsed(body):
    """Without a Content-Type header connexion validates the bytes as JSON (the only media type
    these operations consume) but hands them to the handler unparsed."""
    if isinstance(body, bytes | str):
        return json.loads(body)
    return body


def _seconds(name: str, value, *, positive: bool = False) -> float:
    low = "> 0" if positive else ">= 0"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MAX_SECONDS
        or (positive and value == 0)
    ):
        raise ValueError(f"{name} must be a number of seconds {low} and <= {MAX_SECONDS:.0f}")
    return value


class CollectControl(ApiControl):
    """`client.collect`: systems and their liveness; arm the documented external_api_error."""

    api = "collect"

    def systems(self) -> list[dict]:
        return self._call("GET", "/systems")["systems"]

    def system(self, system_id: str) -> dict:
        return self._call("GET", f"/systems/{segment(system_id)}")

    def arm_external_error(self, **rule) -> dict:
        return self._call("POST", "/external-errors", json=rule)

    def external_errors(self) -> dict:
        return self._call("GET", "/external-errors")

    def clear_external_errors(self) -> None:
        self._call("DELETE", "/external-errors")


class CollectApi(MockApi):
    name = "collect"
    title = "System liveness heartbeat"
    source = "001_dc8cb1dc925d0633.txt"
    spec = "collect.yaml"
    control_spec = "collect.yaml"
    control_client = CollectControl
    prefixes = ("/api/systems",)
    heartbeat_operation = "collect_heartbeat"
    record_schemas = records.SCHEMAS  # what a restored snapshot may hold

    # Shown by their prefix in GET /__mock/settings: what clients send as credentials.
    secret_settings = frozenset({"users"})

    @dataclass
    class Config:
        interval_seconds: float = 600  # 001: "every 10 minutes"
        grace_seconds: float = 60  # assumed: one minute of lateness before a system is dead
        dead_retention_seconds: float = 86400  # assumed: a dead system is listed for a day
        users: dict[str, str] | None = ANY  # pinned Basic credentials {user: password}
        forbidden_users: list[str] | None = None  # authenticated, but 403; None: nobody
        systems: list[str] | None = ANY  # pinned system ids; ANY registers on first heartbeat

        def __post_init__(self) -> None:
            try:
                self._check()
            except ValueError as exc:
                raise ValueError(f"collect setting {exc}") from None

        def _check(self) -> None:
            self.interval_seconds = _seconds(
                "interval_seconds", self.interval_seconds, positive=True
            )
            self.grace_seconds = _seconds("grace_seconds", self.grace_seconds)
            self.dead_retention_seconds = _seconds(
                "dead_retention_seconds", self.dead_retention_seconds
            )
            users = self.users
            if users is not ANY and not (
                isinstance(users, dict)
                and users
                and all(isinstance(k, str) and k and isinstance(v, str) for k, v in users.items())
            ):
                raise ValueError(
                    'users must map user names to passwords, e.g. {agent = "s3cret"}; '
                    "leave it out to accept any user"
                )
            if self.forbidden_users == []:
                self.forbidden_users = None  # an empty list forbids nobody, as leaving it out
            self.forbidden_users = list_setting("forbidden_users", self.forbidden_users, str)
            self.systems = list_setting("systems", self.systems, str)

    def __init__(self, ctx, config) -> None:
        super().__init__(ctx, config)
        self.fake = CollectFake(ctx.store, config)

    # --- native API ------------------------------------------------------------------------
    async def collect_heartbeat(self, body, user: str | None = None):
        system_id = _parsed(body)["system_id"]
        if not rules.system_allowed(system_id, self.config.systems):
            raise InsufficientPermissions(f"system {system_id!r} is not registered")
        external = await self.fake.take_external_error(system_id)
        if external is not None:
            raise ExternalApiError(external["message"], external["details"])
        now = await self.clock.now()
        await self.fake.record(system_id, user, now)
        data = {"system_id": system_id, "acknowledged": True, "last_heartbeat": rules.iso_utc(now)}
        return {"code": 200, "message": MESSAGES[200], "data": data}, 200

    def _basic(self, username: str, password: str) -> dict | None:
        cfg = self.config
        decision = rules.access(username, password, cfg.users, cfg.forbidden_users)
        if decision is rules.Access.FORBIDDEN:
            raise InsufficientPermissions(f"user {username!r} may not send heartbeats")
        return {"sub": username} if decision is rules.Access.GRANTED else None

    # --- control routes (/__mock/collect) --------------------------------------------------
    async def collect_list_systems(self):
        now = await self.clock.now()
        systems = await self._systems(now)
        return {
            "systems": systems,
            "count": len(systems),
            "alive": sum(1 for s in systems if s["alive"]),
            "interval_seconds": self.config.interval_seconds,
            "grace_seconds": self.config.grace_seconds,
            "dead_retention_seconds": self.config.dead_retention_seconds,
            "now": rules.iso_utc(now),
        }, 200

    async def _systems(self, now: float) -> list[dict]:
        records, pinned = await self.fake.all(now), self.config.systems or ()
        life = self.fake.life
        return [
            rules.system_view(sid, records.get(sid), now, life, sid in pinned)
            for sid in sorted(set(records) | set(pinned))
        ]

    async def collect_get_system(self, system_id: str):
        now = await self.clock.now()
        rec = await self.fake.get(system_id, now)
        pinned = system_id in (self.config.systems or ())
        if rec is None and not pinned:
            raise MockError(404, "not_found", f"no system {system_id!r} has sent a heartbeat")
        return rules.system_view(system_id, rec, now, self.fake.life, pinned), 200

    async def collect_arm_external_error(self, body=None):
        body = _parsed(body) or {}
        rule = {
            "system_id": body.get("system_id"),
            "times": body.get("times", 1),
            "remaining": body.get("times", 1),
            "message": body.get("message", EXTERNAL_MESSAGE),
            "details": body.get("details", EXTERNAL_DETAILS),
        }
        armed = await self.fake.arm_external_error(rule, MAX_ARMED)
        if armed is None:
            raise MockError(
                409, "conflict", f"{MAX_ARMED} external errors are armed already; disarm first"
            )
        return armed, 201

    async def collect_external_errors(self):
        return {"external_errors": await self.fake.external_errors()}, 200

    async def collect_clear_external_errors(self):
        await self.fake.clear_external_errors()
        return None, 204

    # --- what core asks -------------------------------------------------------------------
    def security_map(self) -> dict:
        return security_map(basic=self._basic)

    def auth_hint(self) -> str:
        if self.config.users is not ANY:
            return f"HTTP Basic, pinned users: {', '.join(sorted(self.config.users))}"
        return "HTTP Basic, any user:password (e.g. curl --user username:password)"

    def identity(self, operation, request) -> str | None:
        body = request.get("body")
        if operation == self.heartbeat_operation and isinstance(body, dict):
            system_id = body.get("system_id")
            return system_id if isinstance(system_id, str) else None
        return None

    def cadence(self, identity=None, entries=None) -> CadencePolicy:
        return CadencePolicy(
            interval=self.config.interval_seconds,
            ttl=self.fake.life.alive_window,
            ttl_effect="the system was dead",  # assumed liveness (spec): interval plus grace
        )

    def render_error(self, err: MockError) -> ErrorBody:
        return render_error(err)
