"""The clock's range (issue 23, item 6): no call, and no sum of valid calls, takes the clock where
a timestamp can't be written; a refused move changes nothing."""

from __future__ import annotations

import asyncio
import math

import pytest

from mockserver.core.clock import EARLIEST, END, Clock, ClockRangeError, iso_utc, parse_iso
from mockserver.store.memory import MemoryStore

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
