"""Lucit's devices and instruction queues in the store, on the mock clock (seed 003).

One record per device holds its queue, so a heartbeat's "find the due instruction and mark it
sent" is one atomic `store.update`: two concurrent heartbeats (or two workers on a Redis store)
never both deliver it. Every decision is `rules`'; this module only reads and writes, and
answers outcomes (None for "no such device or instruction"), never HTTP errors.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from mockserver.apis.lucit import rules

__all__ = ["LucitFake", "Queued"]

DEVICES = "lucit:devices"


@dataclass(frozen=True)
class Queued:
    """What queueing gave: the instruction, or None when the device's queue is full."""

    instruction: dict | None


class LucitFake:
    def __init__(self, store, limits: rules.Limits) -> None:
        self.store = store
        self.limits = limits

    async def heartbeat(self, lcuid: str, body: dict, now: float) -> dict | None:
        """Record a heartbeat; the instruction it delivers, or None."""
        return await self.store.update(
            DEVICES,
            rules.device_key(lcuid),
            lambda old: rules.deliver(old, lcuid, body, now, self.limits),
        )

    async def queue(
        self, lcuid: str, instruction: str, parameters: list, run_at: float | None, now: float
    ) -> Queued:
        key = rules.device_key(lcuid)
        queued = rules.new_instruction(
            instruction, parameters, run_at, now, rules.instruction_id(key, secrets.token_hex(6))
        )
        accepted = await self.store.update(
            DEVICES, key, lambda old: rules.enqueue(old, lcuid, queued, now, self.limits)
        )
        return Queued(queued if accepted else None)

    async def acknowledge(self, instruction_lcuid: str, now: float) -> tuple[str, dict] | None:
        """(device lcuid, the acknowledged instruction), or None when there is no such live
        instruction."""
        key = rules.key_of_instruction(instruction_lcuid)
        if key is None:
            return None

        def ack(old: dict | None):
            rec, found = rules.acknowledge(old, instruction_lcuid, now, self.limits)
            return rec, None if found is None else (rec["lcuid"], found)

        return await self.store.update(DEVICES, key, ack)

    async def device(self, lcuid: str, now: float) -> dict | None:
        rec = await self.store.get(DEVICES, rules.device_key(lcuid))
        return rules.current(rec, lcuid, now, self.limits)

    async def devices(self, now: float) -> list[dict]:
        live = [
            rules.current(rec, rec["lcuid"], now, self.limits)
            for _, rec in await self.store.scan(DEVICES)
        ]
        return sorted((rec for rec in live if rec is not None), key=lambda r: r["lcuid"])
