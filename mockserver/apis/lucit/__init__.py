"""Lucit lightning-device heartbeat and its remote-instruction queue (seed 003).

Documented rules (003): a player POSTs `{lightning_version, device_info}` to
`/api/v3/analytics/lightning-devices/{lcuid}/heartbeat` with a Bearer token and its app's
`AppIdV3`; the answer carries a remote instruction (`instruction`, `parameters`, `run_at`,
`status` 0 pending / 1 sent / 2 acknowledged, `lcuid` LCUID-LDRI-..., `created_at`, `updated_at`).

Assumed (see the spec's x-mock-assumed): which instruction a heartbeat delivers (the oldest
pending one that is due, marked sent at once, never delivered twice; null when none is due),
Laravel's error shapes, AppIdV3's pattern and its 401, whole-second timestamps, a 60 s cadence.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field

from mockserver.client import ApiControl
from mockserver.core.api import CadencePolicy, ErrorBody, MockApi
from mockserver.core.clock import iso_utc, parse_iso
from mockserver.core.errors import FieldError, MockError
from mockserver.http.security import security_map

__all__ = ["LucitApi", "LucitFake", "laravel_validation", "PENDING", "SENT", "ACKNOWLEDGED"]

PENDING, SENT, ACKNOWLEDGED = 0, 1, 2  # 003: 0 = Pending, 1 = Sent, 2 = Acknowledged


def lucit_time(ts: float | None) -> str | None:
    """003's format, `2026-01-07T00:15:19.000000Z`, at whole seconds as the example shows."""
    return None if ts is None else iso_utc(math.floor(ts), micros=True)


# The range a timestamp can be shown in 003's format (four-digit years, not before the epoch).
LATEST = 253402300799  # 9999-12-31T23:59:59Z


def run_at_epoch(text: str) -> float:
    """A queued instruction's run_at (the control spec's RFC 3339 `date-time`) in epoch
    seconds, kept to what 003's format can show: earlier than 1970 as 1970 (due anyway), later
    than 9999 as the end of 9999 (never due)."""
    try:
        epoch = parse_iso(text)
    except ValueError:
        raise MockError(
            400,
            "validation",
            "run_at must be an ISO-8601 timestamp",
            fields=[FieldError("run_at", "format", "not an ISO-8601 timestamp", text)],
        ) from None
    return min(max(epoch, 0), LATEST)


# --- Laravel's validation answer ------------------------------------------------------------
# The heartbeat's rules as a Laravel FormRequest would declare them, in order.
_RULE_ORDER = ("lightning_version", "device_info", "device_info.*")
_EXPECTED = {"lightning_version": "string", "device_info": "array", "device_info.*": "string"}
_MUST_BE = {"string": "must be a string", "array": "must be an array"}
_ITEM = re.compile(r"^device_info\.(\d+)$")


def _displayable(key: str) -> str:
    """Laravel's attribute name in messages: underscores become spaces (`device info.0`)."""
    return key.replace("_", " ")


def _rule_of(key: str) -> str:
    return "device_info.*" if _ITEM.match(key) else key


def _laravel_message(f: FieldError) -> tuple[str, str]:
    key = f.key
    if f.location != "body":
        return key, f"The {_displayable(key)} field is invalid."
    if key == "body":  # no usable input: missing, not JSON, not an object
        return "lightning_version", "The lightning version field is required."
    # Laravel's `required` fails on null, "" and blank strings (TrimStrings makes them null).
    blank = f.rule in ("minLength", "pattern") or f.message.startswith("None is not")
    if f.rule == "required" or (key == "lightning_version" and blank):
        return key, f"The {_displayable(key)} field is required."
    expected = _EXPECTED.get(_rule_of(key))
    if f.rule == "type" and expected:
        return key, f"The {_displayable(key)} field {_MUST_BE[expected]}."
    return key, f"The {_displayable(key)} field is invalid."


def laravel_validation(fields: list[FieldError]) -> dict:
    """`{"message", "errors"}` as Laravel's ValidationException renders it. A body that is
    missing, not JSON or not an object reads in Laravel as no input, so `lightning_version`
    is "required"; a blank `lightning_version` is "required" too (Laravel trims it to null)."""
    errors: dict[str, list[str]] = {}
    for f in fields:
        key, text = _laravel_message(f)
        messages = errors.setdefault(key, [])
        if text not in messages:
            messages.append(text)

    def order(key: str) -> tuple:
        rule = _rule_of(key)
        index = _RULE_ORDER.index(rule) if rule in _RULE_ORDER else len(_RULE_ORDER)
        m = _ITEM.match(key)
        return (index, int(m.group(1)) if m else 0, key)

    errors = {k: errors[k] for k in sorted(errors, key=order)}
    flat = [m for messages in errors.values() for m in messages]
    message = flat[0]
    if len(flat) > 1:
        more = len(flat) - 1
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return {"message": message, "errors": errors}


# --- the instruction queue ------------------------------------------------------------------
class LucitFake:
    """Devices and their instruction queues. One record per device holds its queue, so a
    heartbeat's "find the due instruction and mark it sent" is one atomic `store.update`: two
    concurrent heartbeats (or two workers on a Redis store) can never both deliver it."""

    DEVICES = "lucit:devices"
    INSTRUCTIONS = "lucit:instructions"  # instruction lcuid -> its device, for acknowledgements

    def __init__(self, store) -> None:
        self.store = store

    @staticmethod
    def _new_device(lcuid: str) -> dict:
        return {
            "lcuid": lcuid,
            "last_heartbeat": None,
            "lightning_version": None,
            "device_info": None,
            "heartbeats": 0,
            "instructions": [],
        }

    async def heartbeat(self, device: str, body: dict, now: float) -> dict | None:
        """Record the heartbeat and deliver the oldest pending instruction that is due."""
        stamp = math.floor(now)

        def beat(old: dict | None):
            rec = old or self._new_device(device)
            rec["last_heartbeat"] = now
            rec["lightning_version"] = body["lightning_version"]
            rec["device_info"] = body.get("device_info")
            rec["heartbeats"] += 1
            for instruction in rec["instructions"]:  # kept in queue order
                due = instruction["run_at"] is None or instruction["run_at"] <= now
                if instruction["status"] == PENDING and due:
                    instruction["status"] = SENT
                    instruction["updated_at"] = stamp
                    return rec, dict(instruction)
            return rec, None

        return await self.store.update(self.DEVICES, device, beat)

    async def queue(
        self, device: str, instruction: str, parameters: list, run_at: float | None, now: float
    ) -> dict:
        stamp = math.floor(now)
        queued = {
            "instruction": instruction,
            "parameters": parameters,
            "run_at": None if run_at is None else math.floor(run_at),
            "status": PENDING,
            "lcuid": f"LCUID-LDRI-{uuid.uuid4()}",
            "created_at": stamp,
            "updated_at": stamp,
        }

        def add(old: dict | None):
            rec = old or self._new_device(device)
            rec["instructions"].append(queued)
            return rec, None

        await self.store.update(self.DEVICES, device, add)
        await self.store.put(self.INSTRUCTIONS, queued["lcuid"], {"device": device})
        return queued

    async def acknowledge(self, instruction_lcuid: str, now: float) -> tuple[str, dict] | None:
        ref = await self.store.get(self.INSTRUCTIONS, instruction_lcuid)
        if ref is None:
            return None
        device = ref["device"]

        def ack(old: dict | None):
            if old is None:
                return None, None
            for instruction in old["instructions"]:
                if instruction["lcuid"] == instruction_lcuid:
                    if instruction["status"] != ACKNOWLEDGED:
                        instruction["status"] = ACKNOWLEDGED
                        instruction["updated_at"] = math.floor(now)
                    return old, dict(instruction)
            return old, None

        found = await self.store.update(self.DEVICES, device, ack)
        return None if found is None else (device, found)

    async def device(self, lcuid: str) -> dict | None:
        return await self.store.get(self.DEVICES, lcuid)

    async def devices(self) -> list[dict]:
        return sorted(
            (rec for _, rec in await self.store.scan(self.DEVICES)), key=lambda r: r["lcuid"]
        )


def instruction_view(instruction: dict) -> dict:
    """An instruction as 003's answer shows it."""
    return {
        "instruction": instruction["instruction"],
        "parameters": instruction["parameters"],
        "run_at": lucit_time(instruction["run_at"]),
        "status": instruction["status"],
        "lcuid": instruction["lcuid"],
        "created_at": lucit_time(instruction["created_at"]),
        "updated_at": lucit_time(instruction["updated_at"]),
    }


def device_view(rec: dict) -> dict:
    return {
        "lcuid": rec["lcuid"],
        "last_heartbeat": lucit_time(rec["last_heartbeat"]),
        "lightning_version": rec["lightning_version"],
        "device_info": rec["device_info"],
        "heartbeats": rec["heartbeats"],
        "instructions": [
            {**instruction_view(i), "device_lcuid": rec["lcuid"]} for i in rec["instructions"]
        ],
    }


def _names(value) -> list[str]:
    """A list setting from TOML/JSON (a list) or an environment variable (comma separated)."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


# --- the API --------------------------------------------------------------------------------
class LucitControl(ApiControl):
    """`client.lucit`: queue, inspect and acknowledge remote instructions."""

    api = "lucit"

    def queue(
        self,
        lcuid: str,
        instruction: str,
        *,
        parameters: list | None = None,
        run_at: str | None = None,
    ) -> dict:
        body: dict = {"instruction": instruction}
        if parameters is not None:
            body["parameters"] = parameters
        if run_at is not None:
            body["run_at"] = run_at
        return self._call("POST", f"/devices/{lcuid}/instructions", json=body)

    def ack(self, instruction_lcuid: str) -> dict:
        return self._call("POST", f"/instructions/{instruction_lcuid}/ack")

    def device(self, lcuid: str) -> dict:
        return self._call("GET", f"/devices/{lcuid}")

    def devices(self) -> dict:
        return self._call("GET", "/devices")


class LucitApi(MockApi):
    name = "lucit"
    title = "Lucit lightning-device heartbeat"
    source = "003_6aa88d2c6513c784.txt"
    spec = "lucit.yaml"
    control_spec = "lucit.yaml"
    control_client = LucitControl
    prefixes = ("/api/v3/analytics/lightning-devices/",)
    heartbeat_operation = "lucit_heartbeat"
    secret_headers = frozenset({"appidv3"})  # 003: the app id travels with the Bearer token

    @dataclass
    class Config:
        tokens: list[str] = field(default_factory=list)  # empty: any well-formed Bearer
        app_ids: list[str] = field(default_factory=list)  # empty: any AppIdV3 of the right shape
        heartbeat_interval_seconds: float = 60  # assumed: 003 states no interval

        def __post_init__(self) -> None:
            self.tokens = _names(self.tokens)
            self.app_ids = _names(self.app_ids)

    def __init__(self, ctx, config) -> None:
        super().__init__(ctx, config)
        self.fake = LucitFake(ctx.store)

    # --- native API ------------------------------------------------------------------------
    async def lucit_heartbeat(self, lcuid: str, body: dict, **_):
        now = await self.clock.now()
        delivered = await self.fake.heartbeat(lcuid, body, now)
        instruction = None if delivered is None else instruction_view(delivered)
        return {"success": True, "lightning_device_remote_instruction": instruction}, 200

    # --- control routes (/__mock/lucit) ----------------------------------------------------
    async def lucit_list_devices(self):
        devices = [device_view(rec) for rec in await self.fake.devices()]
        return {"devices": devices, "count": len(devices)}, 200

    async def lucit_get_device(self, lcuid: str):
        rec = await self.fake.device(lcuid)
        if rec is None:
            raise MockError(
                404, "not_found", f"no device {lcuid!r} (no heartbeat or instruction yet)"
            )
        return device_view(rec), 200

    async def lucit_queue_instruction(self, lcuid: str, body: dict):
        run_at = None if body.get("run_at") is None else run_at_epoch(body["run_at"])
        now = await self.clock.now()
        queued = await self.fake.queue(
            lcuid, body["instruction"], body.get("parameters", []), run_at, now
        )
        return {**instruction_view(queued), "device_lcuid": lcuid}, 201

    async def lucit_ack_instruction(self, lcuid: str):
        found = await self.fake.acknowledge(lcuid, await self.clock.now())
        if found is None:
            raise MockError(404, "not_found", f"no instruction {lcuid!r}")
        device, instruction = found
        return {**instruction_view(instruction), "device_lcuid": device}, 200

    # --- what core asks -------------------------------------------------------------------
    def security_map(self) -> dict:
        config = self.config

        def bearer(token: str, request=None) -> dict | None:
            """Any well-formed token unless `tokens` pins them; `app_ids` pins AppIdV3 here too,
            so an unknown app is refused before validation, as Laravel's middleware would."""
            if config.tokens and token not in config.tokens:
                return None
            if config.app_ids:
                app_id = request.headers.get("appidv3") if request is not None else None
                if app_id not in config.app_ids:
                    return None
            return {"sub": token}

        return security_map(bearer=bearer)

    def auth_hint(self) -> str:
        return "Authorization: Bearer <any token>, AppIdV3: LCUID-LAP-<uuid>"

    def identity(self, operation, request) -> str | None:
        if operation == self.heartbeat_operation:
            return request.get("path_params", {}).get("lcuid")
        return None

    def cadence(self, identity=None, entries=None) -> CadencePolicy:
        return CadencePolicy(interval=self.config.heartbeat_interval_seconds)

    def render_error(self, err: MockError) -> ErrorBody:
        """Laravel's JSON error answers (003 shows none; see the spec's x-mock-assumed)."""
        headers = dict(err.headers)
        path = str(err.data.get("path", "")).lstrip("/")
        if err.kind == "auth" or any(
            f.location == "header" and f.key.lower() == "appidv3" for f in err.fields
        ):
            return ErrorBody(401, {"message": "Unauthenticated."}, headers)
        if err.kind == "unsupported_media_type":  # Laravel reads no JSON input from such a body
            return ErrorBody(
                422, laravel_validation([FieldError("body", "media_type", err.message)]), headers
            )
        if err.kind == "validation":
            return ErrorBody(
                422,
                laravel_validation(err.fields or [FieldError("body", "invalid", err.message)]),
                headers,
            )
        if err.kind == "not_found":
            message = f"The route {path} could not be found." if path else "Not Found"
            return ErrorBody(404, {"message": message}, headers)
        if err.kind == "method_not_allowed":
            allowed = headers.get("Allow") or headers.get("allow") or "POST"
            method = err.data.get("method")
            if method and path:
                message = (
                    f"The {method} method is not supported for route {path}. "
                    f"Supported methods: {allowed}."
                )
            else:
                message = "Method Not Allowed"
            return ErrorBody(405, {"message": message}, headers)
        if err.kind == "payload_too_large":
            return ErrorBody(413, {"message": "The POST data is too large."}, headers)
        if err.kind == "rate_limited":
            return ErrorBody(err.status, {"message": "Too Many Attempts."}, headers)
        if err.kind == "forbidden":
            return ErrorBody(403, {"message": "This action is unauthorized."}, headers)
        if err.status == 503:
            return ErrorBody(503, {"message": "Service Unavailable"}, headers)
        if err.status >= 500:
            return ErrorBody(err.status, {"message": "Server Error"}, headers)
        return ErrorBody(err.status, {"message": err.message or "Error"}, headers)
