"""The request's clock (mockserver/core/clock.py, "One read per request"): a held record answers
`now()` without a store read while nothing can have moved the clock, and never after."""

from __future__ import annotations

import asyncio

from mockserver.core.clock import RECORD, Clock
from mockserver.store.memory import MemoryStore


class CountingStore(MemoryStore):
    """The memory store standing in for a shared one (Redis: a read is a round trip), counting
    the clock's reads."""

    local = False

    def __init__(self) -> None:
        super().__init__()
        self.clock_reads = 0

    async def get(self, ns, key):
        if (ns, key) == RECORD:
            self.clock_reads += 1
        return await super().get(ns, key)


def held_clock(real: list[float]) -> tuple[Clock, CountingStore]:
    store = CountingStore()
    return Clock(store, real_time=lambda: real[0]), store


async def _read_and_hold(clock: Clock, store: CountingStore):
    mark = clock.mark()
    (record,), _ = await store.read_batch([RECORD], [])
    return clock.hold(record, mark)


def test_a_held_clock_reads_no_store_and_keeps_running_with_real_time():
    async def main():
        real = [1000.0]
        clock, store = held_clock(real)
        await clock.advance(50)
        token = await _read_and_hold(clock, store)
        store.clock_reads = 0
        first = await clock.now()
        real[0] += 2.5  # real time goes on while the request is served
        second = await clock.now()
        clock.release(token)
        return first, second, store.clock_reads

    assert asyncio.run(main()) == (1050.0, 1052.5, 0)


def test_a_move_made_here_after_the_read_is_seen_at_once():
    async def main():
        clock, store = held_clock([1000.0])
        token = await _read_and_hold(clock, store)
        await clock.advance(3600)  # a scenario step, a concurrent control call
        now = await clock.now()
        clock.release(token)
        return now

    assert asyncio.run(main()) == 4600.0


def test_a_move_made_while_the_record_was_being_read_is_seen():
    """The mark is taken before the read: a move that ends during it drops the hold."""

    async def main():
        clock, store = held_clock([1000.0])
        mark = clock.mark()
        (record,), _ = await store.read_batch([RECORD], [])
        await clock.freeze()  # lands after the read began
        await clock.set(5000.0)
        token = clock.hold(record, mark)
        now = await clock.now()
        clock.release(token)
        return now

    assert asyncio.run(main()) == 5000.0


def test_a_reset_or_restore_after_the_read_is_seen_at_once():
    async def main():
        clock, store = held_clock([1000.0])
        await clock.advance(86400)
        token = await _read_and_hold(clock, store)
        await store.clear()  # POST /__mock/reset: the clock is back to real time
        after_reset = await clock.now()
        clock.release(token)
        token = await _read_and_hold(clock, store)
        ns, key, record = clock.record_at(7000.0, frozen=True)
        await store.replace({ns: {key: record}})  # PUT /__mock/state
        after_restore = await clock.now()
        clock.release(token)
        return after_reset, after_restore

    assert asyncio.run(main()) == (1000.0, 7000.0)


def test_a_hold_is_the_holding_contexts_own_and_ends_with_release():
    async def main():
        clock, store = held_clock([1000.0])
        await clock.freeze()
        record = await store.get(*RECORD)
        started = asyncio.Event()
        go = asyncio.Event()

        async def other_request() -> float:
            started.set()
            await go.wait()
            return await clock.now()

        other = asyncio.create_task(other_request())  # begun before the hold
        await started.wait()
        stale = {**record, "frozen_at": 1.0}  # what a stale hold would answer
        token = clock.hold(stale, clock.mark())
        held = await clock.now()
        go.set()
        theirs = await other
        clock.release(token)
        return held, theirs, await clock.now()

    assert asyncio.run(main()) == (1.0, 1000.0, 1000.0)


def test_on_a_local_store_nothing_is_held_the_engine_reads_where_it_uses_it():
    """A memory read costs what holding would: the engine reads the clock itself, as before."""
    assert Clock(MemoryStore()).mark() is None
