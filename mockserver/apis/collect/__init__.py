"""System liveness heartbeat (seed 001, "System heartbeat").

Documented rules (001): a system POSTs `{"system_id": ...}` to /systems/heartbeat every 10
minutes with HTTP Basic credentials; the answer is the `{code, message, data}` envelope: 200
`heartbeat acknowledged` with system_id, acknowledged and last_heartbeat; 400 `validation
failed` with data.type `validation_error` (or `external_api_error`) and errors
[{key, message, value}]; 401 `invalid token`; 403 `insufficient permissions`; 500 `internal
server error`. Everything else (the grace period, who may report, pinned systems, how an
external API error arises) is a choice marked x-mock-assumed in specs/collect.yaml.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http import HTTPStatus

from mockserver.client import ApiControl
from mockserver.core.api import CadencePolicy, ErrorBody, MockApi
from mockserver.core.clock import iso_utc
from mockserver.core.errors import FieldError, MockError
from mockserver.http.security import security_map

__all__ = ["CollectApi", "CollectFake"]

# The envelope messages the document shows, by status.
MESSAGES = {
    200: "heartbeat acknowledged",
    400: "validation failed",
    401: "invalid token",
    403: "insufficient permissions",
    500: "internal server error",
}
EXTERNAL_MESSAGE = "external api error"
EXTERNAL_DETAILS = "the external API the heartbeat is forwarded to failed"

# FieldError.rule -> the short code shown as `message` in data.errors ("required" is documented).
RULE_CODES = {
    "required": "required",
    "minLength": "required",  # an empty system_id counts as missing
    "type": "invalid_type",
    "json": "invalid_json",
    "encoding": "invalid_encoding",
    "media_type": "unsupported_media_type",
    "max_size": "too_large",
}
# Rules whose FieldError message says more than the code; it goes to data.details.
DETAIL_RULES = {"json", "encoding", "media_type", "max_size", "invalid"}
_RECEIVED_MEDIA_TYPE = re.compile(r"Invalid Content-type \(([^)]*)\)")


def _string_list(name: str, value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"collect setting {name!r} must be a list of strings")
    return list(value)


def _parsed(body):
    """Without a Content-Type header connexion validates the bytes as JSON (the only media type
    these operations consume) but hands them to the handler unparsed."""
    if isinstance(body, bytes | str):
        return json.loads(body)
    return body


class CollectFake:
    """Which systems reported, when, and whether they are alive: decided on the mock clock
    when read, never by a timer (a moved clock flips `alive` exactly as waiting would)."""

    SYSTEMS = "collect:systems"
    EXTERNAL = "collect:external_errors"

    def __init__(self, store, config: CollectApi.Config) -> None:
        self.store = store
        self.config = config

    @property
    def window(self) -> float:
        """How old the last heartbeat may be for the system to count as alive."""
        return self.config.interval_seconds + self.config.grace_seconds

    async def record(self, system_id: str, user: str | None, now: float) -> dict:
        def write(old: dict | None):
            rec = {
                "system_id": system_id,
                "first_heartbeat": old["first_heartbeat"] if old else now,
                "last_heartbeat": now,
                "heartbeats": (old["heartbeats"] if old else 0) + 1,
                "last_user": user,
            }
            return rec, rec

        return await self.store.update(self.SYSTEMS, system_id, write)

    def view(self, system_id: str, rec: dict | None, now: float) -> dict:
        pinned = self.config.systems is not None and system_id in self.config.systems
        if rec is None:  # a pinned system that never reported
            return {
                "system_id": system_id,
                "pinned": pinned,
                "alive": False,
                "heartbeats": 0,
                "last_heartbeat": None,
                "first_heartbeat": None,
                "age_seconds": None,
                "alive_until": None,
                "last_user": None,
            }
        age = now - rec["last_heartbeat"]
        return {
            "system_id": system_id,
            "pinned": pinned,
            "alive": age <= self.window,
            "heartbeats": rec["heartbeats"],
            "last_heartbeat": iso_utc(rec["last_heartbeat"]),
            "first_heartbeat": iso_utc(rec["first_heartbeat"]),
            "age_seconds": round(age, 3),
            "alive_until": iso_utc(rec["last_heartbeat"] + self.window),
            "last_user": rec["last_user"],
        }

    async def get(self, system_id: str, now: float) -> dict | None:
        rec = await self.store.get(self.SYSTEMS, system_id)
        if rec is None and system_id not in (self.config.systems or ()):
            return None
        return self.view(system_id, rec, now)

    async def all(self, now: float) -> list[dict]:
        records = dict(await self.store.scan(self.SYSTEMS))
        ids = sorted(set(records) | set(self.config.systems or ()))
        return [self.view(sid, records.get(sid), now) for sid in ids]

    # --- armed external API errors ----------------------------------------------------------
    async def arm_external_error(self, rule: dict) -> dict:
        def add(old: dict | None):
            state = old or {"seq": 0, "rules": []}
            state["seq"] += 1
            armed = {**rule, "id": f"external-{state['seq']}", "applied": 0}
            state["rules"].append(armed)
            return state, armed

        return await self.store.update(self.EXTERNAL, "armed", add)

    async def external_errors(self) -> list[dict]:
        state = await self.store.get(self.EXTERNAL, "armed")
        return state["rules"] if state else []

    async def clear_external_errors(self) -> None:
        await self.store.delete(self.EXTERNAL, "armed")

    async def take_external_error(self, system_id: str) -> dict | None:
        """The oldest armed rule for this system, with one use consumed (atomically)."""

        def take(old: dict | None):
            if not old:
                return old, None
            for rule in old["rules"]:
                if rule["system_id"] in (None, system_id):
                    rule["applied"] += 1
                    rule["remaining"] -= 1
                    if rule["remaining"] <= 0:
                        old["rules"].remove(rule)
                    return old, dict(rule)
            return old, None

        return await self.store.update(self.EXTERNAL, "armed", take)


class CollectControl(ApiControl):
    """`client.collect`: systems and their liveness; arm the documented external_api_error."""

    api = "collect"

    def systems(self) -> list[dict]:
        return self._call("GET", "/systems")["systems"]

    def system(self, system_id: str) -> dict:
        return self._call("GET", f"/systems/{system_id}")

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

    @dataclass
    class Config:
        interval_seconds: float = 600  # 001: "every 10 minutes"
        grace_seconds: float = 60  # assumed: one minute of lateness before a system is dead
        users: dict[str, str] | None = None  # pinned Basic credentials; None accepts any
        forbidden_users: list[str] = field(default_factory=list)  # authenticated, but 403
        systems: list[str] | None = None  # pinned system ids; None registers on first heartbeat

        def __post_init__(self) -> None:
            if self.interval_seconds <= 0 or self.grace_seconds < 0:
                raise ValueError("collect: interval_seconds must be > 0 and grace_seconds >= 0")
            if self.users is not None and not (
                isinstance(self.users, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in self.users.items())
            ):
                raise ValueError("collect setting 'users' must map user names to passwords")
            self.forbidden_users = _string_list("forbidden_users", self.forbidden_users)
            if self.systems is not None:
                self.systems = _string_list("systems", self.systems)

    def __init__(self, ctx, config) -> None:
        super().__init__(ctx, config)
        self.fake = CollectFake(ctx.store, config)

    # --- native API ------------------------------------------------------------------------
    async def collect_heartbeat(self, body, user: str | None = None, **_):
        system_id = _parsed(body)["system_id"]
        pinned = self.config.systems
        if pinned is not None and system_id not in pinned:
            raise MockError(403, "forbidden", f"system {system_id!r} is not registered")
        external = await self.fake.take_external_error(system_id)
        if external is not None:
            raise MockError(
                400,
                "external_api_error",
                external["message"],
                data={"details": external["details"]},
            )
        now = await self.clock.now()
        await self.fake.record(system_id, user, now)
        data = {"system_id": system_id, "acknowledged": True, "last_heartbeat": iso_utc(now)}
        return {"code": 200, "message": MESSAGES[200], "data": data}, 200

    def _basic(self, username: str, password: str) -> dict | None:
        """Any well-formed user:password unless `users` pins them; a user listed in
        `forbidden_users` authenticates but lacks the heartbeat permission (403)."""
        if not username:
            return None
        if self.config.users is not None and self.config.users.get(username) != password:
            return None
        if username in self.config.forbidden_users:
            raise MockError(403, "forbidden", f"user {username!r} may not send heartbeats")
        return {"sub": username}

    # --- control routes (/__mock/collect) --------------------------------------------------
    async def collect_list_systems(self):
        now = await self.clock.now()
        systems = await self.fake.all(now)
        return {
            "systems": systems,
            "count": len(systems),
            "alive": sum(1 for s in systems if s["alive"]),
            "interval_seconds": self.config.interval_seconds,
            "grace_seconds": self.config.grace_seconds,
            "now": iso_utc(now),
        }, 200

    async def collect_get_system(self, system_id: str):
        system = await self.fake.get(system_id, await self.clock.now())
        if system is None:
            raise MockError(404, "not_found", f"no system {system_id!r} has sent a heartbeat")
        return system, 200

    async def collect_arm_external_error(self, body=None):
        body = _parsed(body) or {}
        rule = {
            "system_id": body.get("system_id"),
            "times": body.get("times", 1),
            "remaining": body.get("times", 1),
            "message": body.get("message", EXTERNAL_MESSAGE),
            "details": body.get("details", EXTERNAL_DETAILS),
        }
        return await self.fake.arm_external_error(rule), 201

    async def collect_external_errors(self):
        return {"external_errors": await self.fake.external_errors()}, 200

    async def collect_clear_external_errors(self):
        await self.fake.clear_external_errors()
        return None, 204

    # --- what core asks -------------------------------------------------------------------
    def security_map(self) -> dict:
        return security_map(basic=self._basic)

    def auth_hint(self) -> str:
        if self.config.users:
            return f"HTTP Basic, pinned users: {', '.join(sorted(self.config.users))}"
        return "HTTP Basic, any user:password (e.g. curl --user username:password)"

    def identity(self, operation, request) -> str | None:
        body = request.get("body")
        if operation == self.heartbeat_operation and isinstance(body, dict):
            system_id = body.get("system_id")
            return system_id if isinstance(system_id, str) else None
        return None

    def cadence(self, identity=None, entries=None) -> CadencePolicy:
        return CadencePolicy(interval=self.config.interval_seconds, ttl=self.fake.window)

    def render_error(self, err: MockError) -> ErrorBody:
        """001's envelope for every answer; which 400 type applies is in the spec's 400."""
        headers = dict(err.headers)
        if err.kind == "external_api_error" or (err.kind == "validation" and not err.fields):
            # A 400 naming no failing field (an armed external error, or an injected fault).
            details = err.data.get("details", err.message or EXTERNAL_DETAILS)
            message = err.message if err.kind == "external_api_error" else EXTERNAL_MESSAGE
            data = {"type": "external_api_error", "errors": [], "details": details}
            return ErrorBody(400, {"code": 400, "message": message, "data": data}, headers)
        if err.kind in ("validation", "unsupported_media_type", "payload_too_large"):
            return ErrorBody(400, self._validation_body(err), headers)
        status = {"auth": 401, "forbidden": 403, "internal": 500}.get(err.kind, err.status)
        if status in MESSAGES:
            message = MESSAGES[status]
        else:
            try:
                message = HTTPStatus(status).phrase.lower()
            except ValueError:
                message = err.message or "error"
        return ErrorBody(status, {"code": status, "message": message, "data": {}}, headers)

    def _validation_body(self, err: MockError) -> dict:
        fields = err.fields
        if err.kind == "payload_too_large":
            fields = [FieldError("body", "max_size", err.message)]
        errors, details = [], []
        for f in fields:
            code = RULE_CODES.get(f.rule, f.rule)
            value = f.value
            if f.rule == "type" and f.message.startswith("None is not of type"):
                code = "required"  # null system_id: as absent
            if f.rule == "media_type":
                m = _RECEIVED_MEDIA_TYPE.search(f.message)
                value = m.group(1) if m else ""
            errors.append({"key": f.key, "message": code, "value": value})
            if f.rule in DETAIL_RULES:
                details.append(f.message)
        data: dict = {"type": "validation_error", "errors": errors}
        if details:
            data["details"] = "; ".join(details)
        return {"code": 400, "message": MESSAGES[400], "data": data}
