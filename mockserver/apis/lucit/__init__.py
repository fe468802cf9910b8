"""Lucit lightning-device heartbeat and its remote-instruction queue (seed 003): thin handlers
over `LucitFake`, whose rules are in `rules`.

Documented (003): a player POSTs `{lightning_version, device_info}` to
`/api/v3/analytics/lightning-devices/{lcuid}/heartbeat` with a Bearer token and its app's
`AppIdV3`; the answer carries a remote instruction (`instruction`, `parameters`, `run_at`,
`status` 0 pending / 1 sent / 2 acknowledged, `lcuid` LCUID-LDRI-..., `created_at`, `updated_at`).
Instructions come from Lucit's back office, which 003 does not describe, so the control routes
under `/__mock/lucit` queue and acknowledge them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mockserver.apis.lucit import records
from mockserver.apis.lucit.errors import (
    DeviceNotFound,
    InstructionNotFound,
    QueueFull,
    render_error,
)
from mockserver.apis.lucit.fake import LucitFake
from mockserver.apis.lucit.rules import ACKNOWLEDGED, PENDING, SENT
from mockserver.client import ApiControl, segment
from mockserver.core.api import CadencePolicy, ErrorBody, MockApi
from mockserver.core.clock import iso_utc, parse_iso
from mockserver.core.config import ANY, list_setting
from mockserver.core.errors import MockError
from mockserver.http.security import security_map

__all__ = ["LucitApi", "LucitControl", "PENDING", "SENT", "ACKNOWLEDGED"]


def lucit_time(ts: float | None) -> str | None:
    """003's format, `2026-01-07T00:15:19.000000Z`, at whole seconds as the example shows."""
    return None if ts is None else iso_utc(math.floor(ts), micros=True)


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


def _positive(name: str, value, kind: type = float):
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if kind is int and value != int(value):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return kind(value)


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
        return self._call("POST", f"/devices/{segment(lcuid)}/instructions", json=body)

    def ack(self, instruction_lcuid: str) -> dict:
        return self._call("POST", f"/instructions/{segment(instruction_lcuid)}/ack")

    def device(self, lcuid: str) -> dict:
        return self._call("GET", f"/devices/{segment(lcuid)}")

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
    record_schemas = records.SCHEMAS  # what a restored snapshot may hold
    secret_headers = frozenset({"appidv3"})  # 003: the app id travels with the Bearer token

    # Shown by their prefix in GET /__mock/settings: what clients send as credentials.
    secret_settings = frozenset({"tokens", "app_ids"})

    @dataclass
    class Config:
        tokens: list[str] | None = ANY  # pinned Bearer tokens; ANY: any well-formed token
        app_ids: list[str] | None = ANY  # pinned AppIdV3s; ANY: any of the documented shape
        heartbeat_interval_seconds: float = 60  # assumed: 003 states no interval
        # Bounded memory (assumed; the rules' docstring and the spec say when each is counted):
        device_retention_seconds: float = 3600  # a silent device is forgotten after this
        instruction_retention_seconds: float = 3600  # a Sent or Acknowledged one, after this
        max_instructions_per_device: int = 100  # at the cap, the oldest finished one goes

        def __post_init__(self) -> None:
            self.tokens = list_setting("tokens", self.tokens, str)
            self.app_ids = list_setting("app_ids", self.app_ids, str)
            for name in (
                "heartbeat_interval_seconds",
                "device_retention_seconds",
                "instruction_retention_seconds",
            ):
                setattr(self, name, _positive(name, getattr(self, name)))
            self.max_instructions_per_device = _positive(
                "max_instructions_per_device", self.max_instructions_per_device, int
            )

    def __init__(self, ctx, config: LucitApi.Config) -> None:
        super().__init__(ctx, config)
        self.fake = LucitFake(ctx.store, config)

    # --- native API ------------------------------------------------------------------------
    async def lucit_heartbeat(self, lcuid: str, body: dict):
        delivered = await self.fake.heartbeat(lcuid, body, await self.clock.now())
        instruction = None if delivered is None else instruction_view(delivered)
        return {"success": True, "lightning_device_remote_instruction": instruction}, 200

    # --- control routes (/__mock/lucit) ----------------------------------------------------
    async def lucit_list_devices(self):
        devices = [device_view(rec) for rec in await self.fake.devices(await self.clock.now())]
        return {"devices": devices, "count": len(devices)}, 200

    async def lucit_get_device(self, lcuid: str):
        rec = await self.fake.device(lcuid, await self.clock.now())
        if rec is None:
            raise DeviceNotFound(lcuid)
        return device_view(rec), 200

    async def lucit_queue_instruction(self, lcuid: str, body: dict):
        # The spec's `format: date-time` (RFC 3339) admits only what parse_iso reads.
        run_at = None if body.get("run_at") is None else parse_iso(body["run_at"])
        queued = await self.fake.queue(
            lcuid, body["instruction"], body.get("parameters", []), run_at, await self.clock.now()
        )
        if queued.instruction is None:
            raise QueueFull(lcuid, self.config.max_instructions_per_device)
        return {**instruction_view(queued.instruction), "device_lcuid": lcuid}, 201

    async def lucit_ack_instruction(self, lcuid: str):
        found = await self.fake.acknowledge(lcuid, await self.clock.now())
        if found is None:
            raise InstructionNotFound(lcuid)
        device, instruction = found
        return {**instruction_view(instruction), "device_lcuid": device}, 200

    # --- what core asks -------------------------------------------------------------------
    def security_map(self) -> dict:
        def bearer(token: str, request=None) -> dict | None:
            """Any well-formed token unless `tokens` pins them; `app_ids` pins AppIdV3 here too,
            so an unknown app is refused before validation, as Laravel's middleware would."""
            config = self.config  # the settings in force now (runtime settings)
            if config.tokens is not ANY and token not in config.tokens:
                return None
            if config.app_ids is not ANY:
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
        return render_error(err)
