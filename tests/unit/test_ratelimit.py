"""The generic sliding rate window (mockserver.core.ratelimit) on an in-memory store, no HTTP."""

from __future__ import annotations

import asyncio

from mockserver.core.ratelimit import Admission, RateWindow
from mockserver.store.memory import MemoryStore

NS = "test:windows"


def admit_all(window: RateWindow, calls: list[tuple]) -> list[Admission]:
    """Run `admit(key, now, take=...)` for each (key, now[, take]) in order."""

    async def go():
        out = []
        for key, now, *take in calls:
            out.append(await window.admit(key, now, take=take[0] if take else True))
        return out

    return asyncio.run(go())


def window(limit=3, seconds=60.0) -> RateWindow:
    return RateWindow(MemoryStore(), NS, limit, seconds)


def allowed(admissions: list[Admission]) -> list[bool]:
    return [a.allowed for a in admissions]


def test_limit_slots_are_admitted_then_refused():
    got = admit_all(window(limit=3), [("k", 0.0)] * 4)
    assert allowed(got) == [True, True, True, False]


def test_each_key_has_its_own_slots():
    got = admit_all(window(limit=1), [("a", 0.0), ("b", 0.0), ("a", 1.0)])
    assert allowed(got) == [True, True, False]


def test_a_slot_frees_exactly_one_window_after_its_request():
    got = admit_all(window(limit=1), [("k", 0.0), ("k", 59.999), ("k", 60.0)])
    assert allowed(got) == [True, False, True]


def test_retry_after_is_whole_seconds_until_the_oldest_slot_frees_rounded_up():
    got = admit_all(window(limit=2), [("k", 0.5), ("k", 10.0), ("k", 30.0), ("k", 59.75)])
    assert [(a.allowed, a.retry_after) for a in got[2:]] == [(False, 31), (False, 1)]


def test_retry_after_is_at_least_one_second():
    got = admit_all(window(limit=1), [("k", 0.0), ("k", 59.9999)])
    assert got[1].retry_after == 1


def test_refused_requests_take_no_slot_and_do_not_push_the_window_back():
    got = admit_all(window(limit=1), [("k", 0.0), ("k", 30.0), ("k", 59.0), ("k", 60.0)])
    assert allowed(got) == [True, False, False, True]


def test_admitted_without_take_occupies_nothing():
    got = admit_all(window(limit=1), [("k", 0.0, False), ("k", 0.0, False), ("k", 0.0)])
    assert allowed(got) == [True, True, True]


def test_without_take_a_full_window_still_refuses():
    got = admit_all(window(limit=1), [("k", 0.0), ("k", 1.0, False)])
    assert (got[1].allowed, got[1].retry_after) == (False, 59)


def test_clock_set_back_drops_requests_from_the_future():
    """Requests stamped after `now` belong to a clock that was set back: they don't block."""
    got = admit_all(window(limit=1), [("k", 1000.0), ("k", 10.0), ("k", 20.0)])
    assert allowed(got) == [True, True, False]


def test_limit_zero_admits_everything_and_stores_nothing():
    win = window(limit=0)
    got = admit_all(win, [("k", 0.0)] * 50)
    assert all(allowed(got))
    assert asyncio.run(win.store.count(NS)) == 0


def test_window_record_expires_when_its_newest_request_leaves_the_window():
    win = window(limit=5)
    admit_all(win, [("k", 0.0), ("k", 15.0)])
    store = win.store
    assert asyncio.run(store.get(NS, "k"))["expires_at"] == 75.0
    assert asyncio.run(store.purge(75.0)) == 0
    assert asyncio.run(store.purge(75.001)) == 1


def test_a_window_whose_requests_all_left_is_deleted_on_the_next_refusal_check():
    win = window(limit=1)
    admit_all(win, [("k", 0.0), ("k", 100.0, False)])
    assert asyncio.run(win.store.get(NS, "k")) is None
