"""The PlayWave session state machine as a pure function of a session record, its PC record and
"now" (seed 002, "PATCH /session/heartbeat"). No store, no clock: `PlaywaveFake` reads the records,
asks `evaluate`, and writes what a heartbeat changes.

Documented (002): heartbeat every 120 s; the session is deleted when its 4-minute TTL expires;
CHARGE_EXHAUSTED, then auto-termination after a 2-minute grace; SESSION_REPLACED when another
game session starts on the same PC; a launcher silent for over 4 minutes gets the game session
terminated at the next game heartbeat (410 SESSION_ENDED); 410 SESSION_ENDING while termination
is in progress. Assumed (spec x-mock-assumed): every period includes its last instant and the next
state begins strictly after it (as a Redis key expires only once now > its expiry); whichever of
end, launcher death, replacement, end of the grace and TTL expiry happens first decides the
session's fate; an ended session answers SESSION_ENDED for `ended_retention_seconds`, then 404.

Records are compact because a benchmark holds 100 000 live sessions. A session record:
`u` provider_user_id, `c` start, `h` last heartbeat (creation counts), `i` heartbeats, and only
when set: `p` pc_id, `k` game API key, `e` G-coin exhausted at, `n` end requested at,
`t` terminated for a dead launcher at, `r` replaced at; plus `expires_at` for the store's late
clean-up. A PC record: `s` its current (newest) session, `a` when that session took the PC over,
`q` the launcher silent since (absent: alive). "Replaced" is derived when reading (the PC points
at another session that took it over since this one started), so creating a session writes one
key at a time and never races a heartbeat.

`cfg` is `PlaywaveApi.Config` (the API's settings, documented defaults), passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockserver.apis.playwave import PlaywaveApi

    Config = PlaywaveApi.Config

__all__ = [
    "SessionState",
    "evaluate",
    "launcher_dead",
    "live_pc",
    "ms",
    "new_session",
    "pc_of",
    "pc_written",
    "play_duration",
    "record_lapse",
    "replaced_at",
    "OK",
    "CHARGE_EXHAUSTED",
    "SESSION_REPLACED",
    "SESSION_ENDING",
    "SESSION_ENDED",
    "SESSION_NOT_FOUND",
]

OK = "OK"
CHARGE_EXHAUSTED = "CHARGE_EXHAUSTED"
SESSION_REPLACED = "SESSION_REPLACED"
SESSION_ENDING = "SESSION_ENDING"
SESSION_ENDED = "SESSION_ENDED"
SESSION_NOT_FOUND = "SESSION_NOT_FOUND"


@dataclass(frozen=True)
class SessionState:
    """What a heartbeat gets now. `status` 200/404/410; `reason` why it ended (end, charge,
    launcher) or was replaced/expired; `ended_at` when it ended (None while a dead launcher's
    termination waits for the next game heartbeat); `gone_after` the instant after which it
    answers 404; `play_end` when play time stopped counting (None: still counting)."""

    result: str
    status: int
    reason: str | None = None
    ended_at: float | None = None
    gone_after: float | None = None
    play_end: float | None = None
    pending_launcher: bool = False

    @property
    def refreshes(self) -> bool:
        """A heartbeat in this state refreshes the TTL (the session is alive)."""
        return self.result in (OK, CHARGE_EXHAUSTED) and not self.pending_launcher


GONE = SessionState(SESSION_NOT_FOUND, 404, "expired")


def pc_of(rec: dict, sid: str) -> str:
    """A session seeded without a PC gets one of its own, derived from its id (not stored)."""
    return rec.get("p") or "pc_" + sid.removeprefix("gs_")


def launcher_dead(pc: dict | None, now: float, cfg: Config) -> bool:
    """002: "If the launcher hasn't sent a heartbeat for over 4 minutes" (strictly more)."""
    return bool(pc) and "q" in pc and now - pc["q"] > cfg.launcher_timeout_seconds


def replaced_at(rec: dict, sid: str, pc: dict | None) -> float | None:
    """When another session took this one's PC over, or None. A PC taken over before this
    session started was not taken from it: its own takeover is still being written (`create`
    writes the session first, so that a refused create leaves the PC alone)."""
    if "r" in rec:
        return rec["r"]
    current = pc.get("s") if pc else None
    if current is None or current == sid:
        return None
    taken = pc.get("a", rec["c"])
    return None if taken < rec["c"] else taken


def ms(t: float) -> float:
    """Instants are stored to the millisecond: it keeps the records short."""
    return round(t, 3)


def new_session(spec: dict, now: float, cfg: Config) -> dict:
    """The record of a session seeded by the control API (what 002's verify would create):
    `play_duration_sec` starts it that long ago, `balance_sec` of play exhausts it."""
    now = ms(now)
    rec: dict = {
        "u": spec["provider_user_id"],
        "c": ms(now - spec.get("play_duration_sec", 0)),
        "h": now,
        "i": 0,
    }
    for key, short in (("pc_id", "p"), ("game_api_key", "k")):
        if spec.get(key) is not None:
            rec[short] = spec[key]
    if spec.get("balance_sec") is not None:
        rec["e"] = ms(now + spec["balance_sec"])
    rec["expires_at"] = record_lapse(rec, cfg)
    return rec


def evaluate(rec: dict | None, pc: dict | None, sid: str, now: float, cfg: Config) -> SessionState:
    if rec is None:
        return GONE
    ttl_end = rec["h"] + cfg.ttl_seconds
    grace_end = rec["e"] + cfg.charge_grace_seconds if "e" in rec else None
    # (instant, tie-break, cause): the first one that has happened decides.
    events = []
    if "n" in rec:
        events.append((rec["n"], 0, "end"))
    if "t" in rec:
        events.append((rec["t"], 1, "launcher"))
    replaced = replaced_at(rec, sid, pc)
    if replaced is not None:
        events.append((replaced, 2, "replaced"))
    if grace_end is not None and now > grace_end:
        events.append((grace_end, 3, "charge"))
    if now > ttl_end:
        events.append((ttl_end, 4, "expired"))
    if not events:
        if launcher_dead(pc, now, cfg):
            return SessionState(
                SESSION_ENDED, 410, "launcher", None, ttl_end, now, pending_launcher=True
            )
        result = CHARGE_EXHAUSTED if "e" in rec and now >= rec["e"] else OK
        return SessionState(result, 200, None, None, ttl_end, None)
    at, _, cause = min(events)
    retention = cfg.ended_retention_seconds
    if cause == "expired":
        return GONE
    if cause == "replaced":
        if now > ttl_end:
            return GONE
        return SessionState(SESSION_REPLACED, 200, "replaced", None, ttl_end, at)
    if cause == "end":
        done = at + cfg.ending_seconds
        gone = done + retention
        if now > gone:
            return GONE
        result = SESSION_ENDING if now <= done else SESSION_ENDED
        return SessionState(result, 410, "end", done, gone, at)
    if now > at + retention:
        return GONE
    return SessionState(SESSION_ENDED, 410, cause, at, at + retention, at)


def play_duration(rec: dict, state: SessionState, now: float) -> int:
    """Whole seconds since the session started, stopping when it stopped (assumed)."""
    end = now if state.play_end is None else min(now, state.play_end)
    return max(0, math.floor(end - rec["c"] + 1e-6))


def live_pc(pc: dict | None, now: float) -> dict | None:
    """A PC record as it stands at `now`: one past its retention is forgotten (assumed, spec:
    the launchers' control routes), so a launcher silent that long counts as alive again."""
    if pc is None or pc.get("expires_at", math.inf) < now:
        return None
    return pc


def pc_written(pc: dict, now: float, cfg: Config) -> dict:
    """A PC record as it is written at `now`: kept `pc_retention_seconds` after its last change."""
    return {**pc, "expires_at": now + cfg.pc_retention_seconds}


def record_lapse(rec: dict, cfg: Config) -> float:
    """The latest instant the record can still matter: the store may purge it after this."""
    ttl_end = rec["h"] + cfg.ttl_seconds
    lapse = ttl_end
    if "n" in rec:
        lapse = max(lapse, rec["n"] + cfg.ending_seconds + cfg.ended_retention_seconds)
    if "t" in rec:
        lapse = max(lapse, rec["t"] + cfg.ended_retention_seconds)
    if "e" in rec and rec["e"] + cfg.charge_grace_seconds <= ttl_end:
        lapse = max(lapse, rec["e"] + cfg.charge_grace_seconds + cfg.ended_retention_seconds)
    return lapse
