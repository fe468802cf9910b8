"""The clock's range (issue 23, item 6): no call, and no sum of valid calls, takes the clock where
a timestamp can't be written; a refused move changes nothing."""

from __future__ import annotations

import asyncio
import math

import pytest

from mockserver.core.clock import (
    EARLIEST,
    END,
    LATEST,
    Clock,
    ClockRangeError,
    iso_utc,
    parse_iso,
)
from mockserver.store import open_store
from mockserver.store.memory import MemoryStore
from tests.conftest import advance

TEN_YEARS = 315_360_000  # the control API's bound on one advance


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def clock():
    return Clock(MemoryStore(), real_time=lambda: 1_800_000_000.0)


@pytest.mark.parametrize("epoch", [EARLIEST - 1, END, END + 1, math.inf, -math.inf, math.nan])
def test_set_out_of_range_raises_and_changes_nothing(clock, epoch):
    run(clock.freeze())
    before = run(clock.now())
    with pytest.raises(ClockRangeError):
        run(clock.set(epoch))
    assert run(clock.now()) == before


@pytest.mark.parametrize("frozen", [True, False])
def test_advances_that_would_pass_the_end_raise_and_change_nothing(clock, frozen):
    run(clock.set(END - 10, frozen=frozen))
    before = run(clock.state())
    for _ in range(3):
        with pytest.raises(ClockRangeError):
            run(clock.advance(TEN_YEARS))
        with pytest.raises(ClockRangeError):
            run(clock.advance(11))
    assert run(clock.state()) == before
    run(clock.advance(5))  # still room for this
    assert run(clock.now()) == pytest.approx(END - 5)


@pytest.mark.parametrize("seconds", [math.nan, math.inf, -math.inf])
def test_advance_by_a_non_finite_number_raises(clock, seconds):
    before = run(clock.state())
    with pytest.raises(ClockRangeError):
        run(clock.advance(seconds))
    assert run(clock.state()) == before


def test_a_negative_advance_cannot_go_before_1970(clock):
    run(clock.set(EARLIEST + 1, frozen=True))
    with pytest.raises(ClockRangeError):
        run(clock.advance(-2))
    assert run(clock.now()) == EARLIEST + 1


@pytest.mark.parametrize("epoch", [EARLIEST, END - 1])
def test_every_instant_in_range_and_ten_years_past_it_can_be_written(epoch):
    for ts in (epoch, epoch + TEN_YEARS):
        text = iso_utc(ts, micros=True)
        assert len(text.split("-")[0]) == 4, text
        assert parse_iso(text) == pytest.approx(ts, abs=1e-3)


@pytest.mark.parametrize("text", ["not a time", "9999-12-31T24:00:00Z"])
def test_parse_iso_raises_value_error_only(text):
    with pytest.raises(ValueError):
        parse_iso(text)


class MovingReal:
    """The wall clock a Clock reads, moved by the test (no waiting)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def on_store(store_url, steps) -> None:
    """`steps(clock, real)` on a Clock over the store under test (memory, then a real Redis)."""

    async def go() -> None:
        store = open_store(store_url())
        real = MovingReal(1_800_000_000.0)
        try:
            await steps(Clock(store, real_time=real), real)
        finally:
            await store.close()

    run(go())


def test_a_running_clock_stops_at_the_end_of_its_range(store_url):
    async def steps(clock: Clock, real: MovingReal) -> None:
        await clock.set(END - 1, frozen=False)
        real.t += 3600  # an hour of waiting: an hour more than the range has left
        assert await clock.now() == LATEST
        described = await clock.describe()
        assert described["epoch"] == LATEST and not described["frozen"]
        assert described["now"] == iso_utc(LATEST, micros=True)
        assert described["now"].startswith("9000-12-31T23:59:59.")

    on_store(store_url, steps)


def test_moves_of_a_stopped_clock_start_from_the_end(store_url):
    """Not from where it would be had it kept running: advancing by 0 is still allowed, more
    than is left is refused and changes nothing, and freezing holds the last instant."""

    async def steps(clock: Clock, real: MovingReal) -> None:
        await clock.set(END - 1, frozen=False)
        real.t += 3600
        await clock.advance(0)
        assert await clock.now() == LATEST
        before = await clock.state()
        with pytest.raises(ClockRangeError):
            await clock.advance(1)
        assert await clock.state() == before
        await clock.advance(-60)
        assert await clock.now() == pytest.approx(LATEST - 60)
        await clock.freeze()
        real.t += 3600
        assert await clock.now() == pytest.approx(LATEST - 60)

    on_store(store_url, steps)


def test_a_clock_left_running_into_the_end_freezes_there(store_url):
    async def steps(clock: Clock, real: MovingReal) -> None:
        await clock.set(END - 1, frozen=False)
        real.t += 10
        await clock.freeze()
        assert (await clock.state())["frozen_at"] == LATEST
        await clock.unfreeze()
        real.t += 5
        assert await clock.now() == LATEST

    on_store(store_url, steps)


def test_the_live_mock_clock_stops_at_the_end_of_its_range(http):
    """Over HTTP on each store: the clock set running at the last instant of its range reads no
    later (the request itself took real time), and moves from there are answered as documented:
    more than is left is 400 and changes nothing, none is fine."""
    r = http.post("/__mock/clock/set", json={"now": iso_utc(LATEST, micros=True), "frozen": False})
    assert r.status_code == 200, r.text
    assert http.post("/__mock/clock/advance", json={"seconds": 1}).status_code == 400
    for _ in range(3):
        clock = advance(http, 0)
        assert clock["epoch"] <= LATEST and clock["now"].startswith("9000-12-31T23:59:59.9999")
        assert not clock["frozen"]
    http.post("/__mock/clock/freeze").raise_for_status()
    assert http.get("/__mock/clock").json()["epoch"] <= LATEST


@pytest.mark.parametrize("real", [1765232729.4059296, 1765323234.0153656, 1764844495.1000214])
def test_a_clock_stopped_at_the_end_moves_by_nothing_whatever_the_real_time(real):
    """A running clock at its last instant, at real times where `real + (LATEST - real)` rounds
    up to END: moving it by nothing is fine (it was refused now and then), by more is not."""
    clock = Clock(MemoryStore(), real_time=lambda: real)
    run(clock.set(LATEST, frozen=False))
    run(clock.advance(0))
    assert run(clock.now()) == LATEST
    with pytest.raises(ClockRangeError):
        run(clock.advance(1))
    assert run(clock.now()) == LATEST
