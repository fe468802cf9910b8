"""collect's state in the store: which systems reported and when, and the armed external API
errors (seed 001). Every method returns records or outcomes, never an HTTP error; liveness and
retention are decided by `rules` on the mock clock when read, never by a timer.
"""

from __future__ import annotations

from mockserver.apis.collect import rules

__all__ = ["CollectFake", "SYSTEMS", "EXTERNAL"]

SYSTEMS = "collect:systems"
EXTERNAL = "collect:external_errors"


class CollectFake:
    def __init__(self, store, config) -> None:
        self.store = store
        self.config = config

    @property
    def life(self) -> rules.Liveness:
        cfg = self.config
        return rules.Liveness(cfg.interval_seconds + cfg.grace_seconds, cfg.dead_retention_seconds)

    async def record(self, system_id: str, user: str | None, now: float) -> dict:
        life = self.life

        def write(old: dict | None):
            rec = rules.beat(old, system_id, user, now, life)
            return rec, rec

        return await self.store.update(SYSTEMS, system_id, write)

    async def get(self, system_id: str, now: float) -> dict | None:
        rec = await self.store.get(SYSTEMS, system_id)
        return rec if rules.kept(rec, now, self.life) else None

    async def all(self, now: float) -> dict[str, dict]:
        """Every system still kept, by id."""
        life = self.life
        return {
            sid: rec for sid, rec in await self.store.scan(SYSTEMS) if rules.kept(rec, now, life)
        }

    # --- armed external API errors ----------------------------------------------------------
    async def arm_external_error(self, rule: dict, cap: int) -> dict | None:
        """The armed rule, or None when `cap` rules are armed already."""
        return await self.store.update(EXTERNAL, "armed", lambda old: rules.arm(old, rule, cap))

    async def external_errors(self) -> list[dict]:
        state = await self.store.get(EXTERNAL, "armed")
        return state["rules"] if state else []

    async def clear_external_errors(self) -> None:
        await self.store.delete(EXTERNAL, "armed")

    async def take_external_error(self, system_id: str) -> dict | None:
        """The oldest armed rule for this system, with one use consumed (atomically)."""
        return await self.store.update(EXTERNAL, "armed", lambda old: rules.take(old, system_id))
