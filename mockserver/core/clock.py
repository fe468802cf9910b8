"""The mock's only source of "now".

Every timestamp, TTL, rate-limit window and cadence in the mock reads `Clock.now()`. The clock
is real time plus an offset, or frozen at an instant. Its state lives in the store, so several
workers (or hosts sharing a Redis store) move together when a test advances the clock.

The clock stays in EARLIEST <= now < END (1970 to the end of year 9000, UTC): every
timestamp the mock writes is then a four-digit-year ISO-8601 instant, and a day, a TTL or ten
years of `advance` past any instant the clock can show is still a valid datetime. A move that
would leave the range raises `ClockRangeError` and changes nothing, so no sum of valid calls can
take the clock where `iso_utc` fails (issue 23). Nor can waiting: a running clock that reaches
the end stops at its last instant, LATEST, and later moves start from there.

One read per request (issue 16). The gate reads the clock's record with the request's other
reads (`RECORD`, `now_of`) and, once the request's faults have had their say, `hold`s it for the
engine: the handler's `now()` then computes the time from that record (real time plus its
offset, or the frozen instant) instead of reading it again, as long as nothing can have moved
the clock since it was read: this process moved it (any `Clock` method, counted in `moves`), or
cleared or replaced records wholesale (a reset, a snapshot restore: `Store.rewrites`); on a
shared store only (`mark`), since a local one costs no round trip to read again. A move by
another worker or host in that instant is one made while the request was already under way, so
the request keeps the time it began with, as the journal entry's `at` does; a request that
waited (a fault's delay) holds nothing and reads the clock again, as before. The hold lives in
a context variable, so it is the request's own: a concurrent request, or anything run after
`release`, reads the store.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar, Token
from datetime import UTC, datetime

from mockserver.store import Store

__all__ = [
    "Clock",
    "ClockRangeError",
    "RECORD",
    "EARLIEST",
    "END",
    "LATEST",
    "iso_utc",
    "parse_iso",
    "monotonic",
]

_NS = "_clock"
_KEY = "state"
RECORD = (_NS, _KEY)  # where the clock's record is kept: (namespace, key)

EARLIEST = 0.0  # 1970-01-01T00:00:00Z
END = datetime(9001, 1, 1, tzinfo=UTC).timestamp()  # the first instant past the range
LATEST = math.nextafter(END, -math.inf)  # the last one in it, where a running clock stops


class ClockRangeError(ValueError):
    """A clock move that would leave EARLIEST <= now < END (or isn't a finite number)."""


def _in_range(epoch: float, what: str) -> float:
    if not math.isfinite(epoch) or not EARLIEST <= epoch < END:
        raise ClockRangeError(
            f"{what} must be from {iso_utc(EARLIEST)} to {iso_utc(END - 1)} on the mock clock"
        )
    return epoch


def monotonic() -> float:
    """Seconds on a clock that only moves forward, for measuring how long something took (the
    request log's duration): never a time of day, and deaf to the mock clock."""
    return time.perf_counter()


# 9999-12-31T23:59:59Z: the last whole second an ISO-8601 date-time can show.
LAST_INSTANT = 253402300799.0


def iso_utc(ts: float, *, micros: bool = False) -> str:
    """ISO-8601 UTC with a `Z`, whole seconds unless `micros` (Lucit shows 6 digits). An instant
    past the last one a date-time can show (a retention or TTL counted from a clock near the
    end) is shown as that last second, never as an error."""
    # isoformat, not strftime: a third of the cost, and every journal entry shows one.
    dt = datetime.fromtimestamp(ts if ts < LAST_INSTANT else LAST_INSTANT, tz=UTC)
    return dt.isoformat(timespec="microseconds" if micros else "seconds")[:-6] + "Z"


def parse_iso(text: str) -> float:
    """Parse an ISO-8601 timestamp (a trailing `Z` allowed; naive means UTC) to epoch seconds."""
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _or_real_time(state: dict | None) -> dict:
    """The clock's record, or that of a clock never moved: real time, running."""
    return state or {"offset": 0.0, "frozen_at": None}


class Clock:
    """Real time plus `offset_seconds`, or frozen at `frozen_at` (epoch seconds)."""

    def __init__(self, store: Store, *, real_time=time.time) -> None:
        self._store = store
        self._real_time = real_time
        self.moves = 0  # clock moves made through this object (the module docstring)
        self._held: ContextVar[tuple[int, int, dict | None] | None] = ContextVar(
            "mockserver.clock.held", default=None
        )

    async def state(self) -> dict:
        return _or_real_time(await self._store.get(_NS, _KEY))

    async def now(self) -> float:
        held = self._held.get()
        if held is not None and held[0] == self.moves and held[1] == self._store.rewrites:
            return self.now_of(held[2])
        return self.now_of(await self._store.get(_NS, _KEY))

    def now_of(self, state: dict | None) -> float:
        """The mock time by the clock's record `state` (None: a clock never moved)."""
        if state is None:
            return self._real_time()
        if state["frozen_at"] is not None:
            return state["frozen_at"]
        return min(self._real_time() + state["offset"], LATEST)

    def mark(self) -> tuple[int, int] | None:
        """Taken before the clock's record is read: what `hold` compares to know it is fresh.
        None on a local store (memory), where reading the record again costs no round trip and
        no more than holding it: there the engine reads it where it uses it, as ever."""
        if self._store.local:
            return None
        return self.moves, self._store.rewrites

    def hold(self, state: dict | None, mark: tuple[int, int]) -> Token:
        """`now()` in this context computes the time from `state` (read after `mark` was taken)
        until `release`, unless the clock moved here since (the module docstring)."""
        return self._held.set((mark[0], mark[1], state))

    def release(self, token: Token) -> None:
        self._held.reset(token)

    async def describe(self) -> dict:
        state = await self.state()
        now = await self.now()
        running = state["frozen_at"] is None and now < LATEST
        return {
            "now": iso_utc(now, micros=True),
            "epoch": now,
            "frozen": state["frozen_at"] is not None,
            "offset_seconds": state["offset"] if running else round(now - self._real_time(), 6),
        }

    def record_at(self, epoch: float, *, frozen: bool) -> tuple[str, str, dict]:
        """The clock's store record that makes `epoch` the mock time from now on, frozen there or
        running from it, as (namespace, key, record): for a caller that writes it together with
        other records in one atomic step (a snapshot restore, mockserver.snapshot)."""
        if frozen:
            return _NS, _KEY, {"offset": 0.0, "frozen_at": epoch}
        return _NS, _KEY, {"offset": epoch - self._real_time(), "frozen_at": None}

    async def advance(self, seconds: float) -> None:
        """Move by `seconds`; ClockRangeError (nothing moves) if that leaves the range."""
        if not math.isfinite(seconds):
            raise ClockRangeError("seconds must be a finite number")
        real = self._real_time()

        def move(state: dict | None):
            state = _or_real_time(state)
            if state["frozen_at"] is not None:
                state["frozen_at"] = _in_range(state["frozen_at"] + seconds, "the new time")
            else:
                # From where the clock stands (a stopped one at LATEST), not from real + offset,
                # which can round up to END there.
                now = min(real + state["offset"], LATEST)
                state["offset"] = _in_range(now + seconds, "the new time") - real
            return state, None

        try:
            await self._store.update(_NS, _KEY, move)
        finally:  # done, or perhaps done: a record read before may be stale
            self.moves += 1

    async def freeze(self) -> None:
        real = self._real_time()

        def freeze(state: dict | None):
            state = _or_real_time(state)
            if state["frozen_at"] is None:
                state["frozen_at"] = min(real + state["offset"], LATEST)
            return state, None

        try:
            await self._store.update(_NS, _KEY, freeze)
        finally:  # done, or perhaps done: a record read before may be stale
            self.moves += 1

    async def unfreeze(self) -> None:
        real = self._real_time()

        def unfreeze(state: dict | None):
            state = _or_real_time(state)
            if state["frozen_at"] is not None:
                # Time resumes from the frozen instant, so nothing jumps when a test lets go.
                state["offset"] = state["frozen_at"] - real
                state["frozen_at"] = None
            return state, None

        try:
            await self._store.update(_NS, _KEY, unfreeze)
        finally:  # done, or perhaps done: a record read before may be stale
            self.moves += 1

    async def set(self, epoch: float, *, frozen: bool | None = None) -> None:
        """Show `epoch` from now on; ClockRangeError (nothing moves) if it is out of range."""
        _in_range(epoch, "the time")
        real = self._real_time()

        def set_(state: dict | None):
            state = _or_real_time(state)
            keep_frozen = state["frozen_at"] is not None if frozen is None else frozen
            if keep_frozen:
                state["frozen_at"] = epoch
            else:
                state["frozen_at"] = None
                state["offset"] = epoch - real
            return state, None

        try:
            await self._store.update(_NS, _KEY, set_)
        finally:  # done, or perhaps done: a record read before may be stale
            self.moves += 1
