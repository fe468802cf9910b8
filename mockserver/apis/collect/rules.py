"""collect's rules (seed 001, "System heartbeat") as pure functions of records and "now".

No store, no clock: `CollectFake` reads the records, asks these functions, and writes what they
return. Documented (001): a system reports every 10 minutes with HTTP Basic credentials; 401
for invalid or missing credentials, 403 for insufficient permissions. Assumed (spec
x-mock-assumed): a system is alive while its last heartbeat is no older than the interval plus
a grace (both instants included); a dead system is kept `dead_retention_seconds` after it died,
then forgotten; any user:password authenticates unless `users` pins them; users in
`forbidden_users` authenticate but may not send heartbeats; when `systems` pins the system ids,
any other id is refused.

A system record: `system_id`, `first_heartbeat`, `last_heartbeat` (epoch seconds, mock clock),
`heartbeats`, `last_user`, and `expires_at` for the store's late clean-up. The armed external
errors are one record: `seq` and `rules` (oldest first), each rule with `system_id` (None: any),
`times`, `remaining`, `applied`, `message`, `details`, `id`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mockserver.core.clock import LAST_INSTANT, iso_utc
from mockserver.core.config import ANY

__all__ = [
    "LAST_INSTANT",
    "iso_utc",
    "Access",
    "Liveness",
    "access",
    "system_allowed",
    "kept",
    "beat",
    "system_view",
    "arm",
    "take",
]


class Access(enum.Enum):
    GRANTED = "granted"
    UNAUTHENTICATED = "unauthenticated"  # 001: 401 invalid token
    FORBIDDEN = "forbidden"  # 001: 403 insufficient permissions


def access(
    username: str, password: str, users: dict[str, str] | None, forbidden_users: list[str] | None
) -> Access:
    """Any well-formed user:password unless `users` pins them; a user listed in
    `forbidden_users` authenticates but lacks the heartbeat permission."""
    if not username:
        return Access.UNAUTHENTICATED
    if users is not ANY and users.get(username) != password:
        return Access.UNAUTHENTICATED
    if forbidden_users is not None and username in forbidden_users:
        return Access.FORBIDDEN
    return Access.GRANTED


def system_allowed(system_id: str, systems: list[str] | None) -> bool:
    """Any system id registers on its first heartbeat unless `systems` pins them."""
    return systems is ANY or system_id in systems


@dataclass(frozen=True)
class Liveness:
    """The periods of a system's life: alive for `alive_window` seconds after its last
    heartbeat, then dead, then forgotten `dead_retention` seconds after it died."""

    alive_window: float
    dead_retention: float

    def alive_until(self, rec: dict) -> float:
        return rec["last_heartbeat"] + self.alive_window

    def alive(self, rec: dict, now: float) -> bool:
        return now - rec["last_heartbeat"] <= self.alive_window

    def lapse(self, rec: dict) -> float:
        """The last instant the record is kept."""
        return self.alive_until(rec) + self.dead_retention

    def kept(self, rec: dict, now: float) -> bool:
        return now - rec["last_heartbeat"] <= self.alive_window + self.dead_retention


def kept(rec: dict | None, now: float, life: Liveness) -> bool:
    """Decided when read, so a forgotten system reads as absent before the purge removes it."""
    return rec is not None and life.kept(rec, now)


def beat(old: dict | None, system_id: str, user: str | None, now: float, life: Liveness) -> dict:
    """The record after an acknowledged heartbeat; a forgotten old record counts as none."""
    previous = old if kept(old, now, life) else None
    rec = {
        "system_id": system_id,
        "first_heartbeat": previous["first_heartbeat"] if previous else now,
        "last_heartbeat": now,
        "heartbeats": (previous["heartbeats"] if previous else 0) + 1,
        "last_user": user,
    }
    rec["expires_at"] = life.lapse(rec)
    return rec


def system_view(system_id: str, rec: dict | None, now: float, life: Liveness, pinned: bool) -> dict:
    """What the control API shows of a system; `rec` None is a pinned system never heard
    from (or forgotten)."""
    if rec is None:
        return {
            "system_id": system_id,
            "pinned": pinned,
            "alive": False,
            "heartbeats": 0,
            "last_heartbeat": None,
            "first_heartbeat": None,
            "age_seconds": None,
            "alive_until": None,
            "expires_at": None,
            "last_user": None,
        }
    return {
        "system_id": system_id,
        "pinned": pinned,
        "alive": life.alive(rec, now),
        "heartbeats": rec["heartbeats"],
        "last_heartbeat": iso_utc(rec["last_heartbeat"]),
        "first_heartbeat": iso_utc(rec["first_heartbeat"]),
        "age_seconds": round(now - rec["last_heartbeat"], 3),
        "alive_until": iso_utc(life.alive_until(rec)),
        "expires_at": iso_utc(life.lapse(rec)),
        "last_user": rec["last_user"],
    }


# --- armed external API errors ------------------------------------------------------------


def arm(state: dict | None, rule: dict, cap: int) -> tuple[dict | None, dict | None]:
    """(new state, the armed rule), or (state unchanged, None) when `cap` rules are armed."""
    state = state or {"seq": 0, "rules": []}
    if len(state["rules"]) >= cap:
        return state, None
    seq = state["seq"] + 1
    armed = {**rule, "id": f"external-{seq}", "applied": 0}
    return {"seq": seq, "rules": [*state["rules"], armed]}, armed


def take(state: dict | None, system_id: str) -> tuple[dict | None, dict | None]:
    """(new state, the rule that fires with one use consumed): the oldest armed rule for this
    system or for any system; a rule with no uses left is disarmed."""
    if not state:
        return state, None
    for i, rule in enumerate(state["rules"]):
        if rule["system_id"] in (None, system_id):
            fired = {**rule, "applied": rule["applied"] + 1, "remaining": rule["remaining"] - 1}
            rest = state["rules"][:i] + state["rules"][i + 1 :]
            if fired["remaining"] > 0:
                rest.insert(i, fired)
            return {**state, "rules": rest}, fired
    return state, None
