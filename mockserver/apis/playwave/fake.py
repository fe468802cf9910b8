"""PlayWave's session store on the mock clock: sessions, PCs and their launchers (seed 002).

`PlaywaveFake` reads and writes records through the store, one key per atomic `update` (a new
session: one atomic `insert`, so a seeded id is unique across workers), and leaves every
decision to `rules`. It answers with outcomes (a state, a record, None for "no such session"),
never HTTP errors: the handlers turn those into `errors`. Expiry is decided when a record is
read; a heartbeat that finds a session gone deletes its record, and `expires_at` lets the store
purge the rest.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mockserver.apis.playwave.rules import (
    GONE,
    SessionState,
    evaluate,
    launcher_dead,
    live_pc,
    ms,
    new_session,
    pc_of,
    pc_written,
    play_duration,
    record_lapse,
    replaced_at,
)
from mockserver.core.clock import iso_utc
from mockserver.core.redaction import mask

if TYPE_CHECKING:
    from mockserver.apis.playwave import PlaywaveApi

__all__ = ["PlaywaveFake", "Beat", "SESSIONS", "PCS"]

SESSIONS = "playwave:s"
PCS = "playwave:pc"


@dataclass(frozen=True)
class Beat:
    """A heartbeat's outcome: the state after it and the play time to report."""

    state: SessionState
    play_duration_sec: int = 0


def _iso(ts: float | None) -> str | None:
    return None if ts is None else iso_utc(ts)


class PlaywaveFake:
    def __init__(self, store, config: PlaywaveApi.Config) -> None:
        self.store = store
        self.config = config

    # --- sessions ---------------------------------------------------------------------------
    async def create(self, spec: dict, now: float) -> tuple[str, bool]:
        """The verify endpoint's effect: a new session, which takes its PC over. Returns its id
        and whether it was created: False when a session with the seeded id is still known (a
        gone one may be seeded again)."""
        now = ms(now)
        sid = spec.get("game_session_id") or f"gs_{uuid.uuid4()}"
        rec = new_session(spec, now, self.config)

        def gone(old: dict) -> bool:
            return evaluate(old, None, sid, now, self.config) is GONE

        # The session first, in one atomic create-if-absent: of concurrent seeds of one id only
        # one gets here, and a refused one has touched nothing. Until the PC names it, the
        # session is not replaced by the PC's older session (rules.replaced_at).
        if not await self.store.insert(SESSIONS, sid, rec, gone):
            return sid, False
        if "p" not in rec:  # a PC of its own needs no record until its launcher is stopped
            return sid, True

        # The PC's previous session is replaced from this instant (derived when it is read);
        # recording the instant in its own record keeps its play time and fate exact.
        def take_over(pc: dict | None):
            pc = live_pc(pc, now) or {}
            return pc_written({**pc, "s": sid, "a": now}, now, self.config), pc.get("s")

        previous = await self.store.update(PCS, pc_of(rec, sid), take_over)
        if previous is not None and previous != sid:

            def mark(prev: dict | None):
                if prev is not None and "r" not in prev:
                    prev = {**prev, "r": now}
                return prev, None

            await self.store.update(SESSIONS, previous, mark)
        return sid, True

    async def heartbeat(self, sid: str, user: str, api_key: str, now: float) -> Beat:
        now = ms(now)
        rec = await self.store.get(SESSIONS, sid)
        if not self._visible(rec, user, api_key):
            return Beat(GONE)
        pc = await self._pc(pc_of(rec, sid), now)
        state = evaluate(rec, pc, sid, now, self.config)
        if not (state.refreshes or state.pending_launcher or state is GONE):
            return Beat(state, play_duration(rec, state, now))  # replaced or ended: nothing changes

        def beat(old: dict | None):
            if not self._visible(old, user, api_key):
                return old, Beat(GONE)
            st = evaluate(old, pc, sid, now, self.config)
            if st is GONE:
                return None, Beat(GONE)  # deleted, as the Redis TTL would have
            if st.pending_launcher:  # 002: the server terminates the session on this heartbeat
                new = {**old, "t": now}
            elif st.refreshes:
                new = {**old, "h": now, "i": old["i"] + 1}
            else:
                return old, Beat(st, play_duration(old, st, now))
            new["expires_at"] = record_lapse(new, self.config)
            st = evaluate(new, pc, sid, now, self.config)
            return new, Beat(st, play_duration(new, st, now))

        return await self.store.update(SESSIONS, sid, beat)

    @staticmethod
    def _visible(rec: dict | None, user: str, api_key: str) -> bool:
        """Assumed: a session belongs to one game key (when seeded with one) and one user."""
        return rec is not None and rec["u"] == user and rec.get("k", api_key) == api_key

    async def view(self, sid: str, now: float) -> dict | None:
        """The session as the control API shows it, or None once a heartbeat would get 404."""
        rec = await self.store.get(SESSIONS, sid)
        if rec is None:
            return None
        pc = await self._pc(pc_of(rec, sid), now)
        state = evaluate(rec, pc, sid, ms(now), self.config)
        return None if state is GONE else self.session_view(sid, rec, pc, state, now)

    async def mark(self, sid: str, field: str, now: float) -> bool:
        """Set `e` (exhausted) or `n` (end requested) to now unless already earlier."""
        now = ms(now)

        def set_(old: dict | None):
            if old is None:
                return None, False
            if evaluate(old, None, sid, now, self.config) is GONE:
                return old, False
            if old.get(field, now) >= now:
                old = {**old, field: now}
                old["expires_at"] = record_lapse(old, self.config)
            return old, True

        return await self.store.update(SESSIONS, sid, set_)

    async def all(self, now: float, pc_id: str | None = None) -> list[dict]:
        now = ms(now)
        rows = [
            (sid, rec)
            for sid, rec in await self.store.scan(SESSIONS)
            if pc_id is None or pc_of(rec, sid) == pc_id
        ]
        pc_ids = sorted({pc_of(rec, sid) for sid, rec in rows})
        found = await self.store.get_many(PCS, pc_ids)
        pcs = {pc_id: live_pc(pc, now) for pc_id, pc in zip(pc_ids, found, strict=True)}
        views = []
        for sid, rec in rows:
            pc = pcs[pc_of(rec, sid)]
            state = evaluate(rec, pc, sid, now, self.config)
            if state is not GONE:
                views.append(self.session_view(sid, rec, pc, state, now))
        views.sort(key=lambda v: (v["started_at"], v["game_session_id"]))
        return views

    def session_view(
        self, sid: str, rec: dict, pc: dict | None, state: SessionState, now: float
    ) -> dict:
        cfg, now = self.config, ms(now)
        exhausted = rec.get("e")
        status = {
            "OK": "active",
            "CHARGE_EXHAUSTED": "charge_exhausted",
            "SESSION_REPLACED": "replaced",
            "SESSION_ENDING": "ending",
        }.get(state.result, "ended")
        return {
            "game_session_id": sid,
            "provider_user_id": rec["u"],
            "pc_id": pc_of(rec, sid),
            "game_api_key": mask(rec["k"]) if "k" in rec else None,
            "status": status,
            "result": state.result,
            "http_status": state.status,
            "started_at": iso_utc(rec["c"]),
            "last_heartbeat_at": _iso(rec["h"]) if rec["i"] else None,
            "heartbeats": rec["i"],
            "expires_at": iso_utc(state.gone_after),
            "play_duration_sec": play_duration(rec, state, now),
            "exhausted_at": _iso(exhausted),
            "grace_ends_at": _iso(
                None if exhausted is None else exhausted + cfg.charge_grace_seconds
            ),
            "balance_sec": None
            if exhausted is None
            else max(0, math.floor(exhausted - now + 1e-6)),
            "end_requested_at": _iso(rec.get("n")),
            "ended_at": _iso(state.ended_at) if state.status == 410 else None,
            "ended_reason": state.reason if state.status == 410 else None,
            "replaced_at": _iso(replaced_at(rec, sid, pc)),
            "launcher": self.launcher_view(pc_of(rec, sid), pc, now),
        }

    # --- launchers --------------------------------------------------------------------------
    async def launcher(self, pc_id: str, action: str | None, now: float) -> dict:
        """`stop` silences the launcher, `start` revives it, `heartbeat` is one beat from a
        stopped launcher (it stays silent from now); None only reads."""
        now = ms(now)
        if action is None:
            return self.launcher_view(pc_id, await self._pc(pc_id, now), now)

        def change(pc: dict | None):
            pc = {k: v for k, v in (live_pc(pc, now) or {}).items() if k != "expires_at"}
            if action == "stop":
                pc.setdefault("q", now)
            elif action == "start":
                pc.pop("q", None)
            elif "q" in pc:
                pc["q"] = now
            if not pc:
                return None, None
            return pc_written(pc, now, self.config), pc

        return self.launcher_view(pc_id, await self.store.update(PCS, pc_id, change), now)

    async def _pc(self, pc_id: str, now: float) -> dict | None:
        return live_pc(await self.store.get(PCS, pc_id), now)

    def launcher_view(self, pc_id: str, pc: dict | None, now: float) -> dict:
        silent = (pc or {}).get("q")
        return {
            "pc_id": pc_id,
            "alive": silent is None,
            "silent_since": _iso(silent),
            "dead": launcher_dead(pc, now, self.config),
            "current_session": (pc or {}).get("s"),
        }
