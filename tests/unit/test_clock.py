from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.clock import EARLIEST, LAST_INSTANT, Clock, iso_utc, parse_iso
from mockserver.store.memory import MemoryStore


class FakeReal:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def real():
    return FakeReal(1_000_000.0)


@pytest.fixture
def clock(real):
    return Clock(MemoryStore(), real_time=real)


def test_now_is_real_time_by_default(clock, real):
    assert run(clock.now()) == real.t
    real.t += 5
    assert run(clock.now()) == real.t


def test_advance_moves_now_forward_and_real_time_keeps_running(clock, real):
    run(clock.advance(120))
    assert run(clock.now()) == real.t + 120
    real.t += 1
    assert run(clock.now()) == real.t + 120


def test_freeze_stops_time_and_advance_moves_the_frozen_instant(clock, real):
    run(clock.freeze())
    frozen = run(clock.now())
    real.t += 100
    assert run(clock.now()) == frozen
    run(clock.advance(30))
    assert run(clock.now()) == frozen + 30


def test_unfreeze_resumes_from_the_frozen_instant(clock, real):
    run(clock.freeze())
    frozen = run(clock.now())
    real.t += 50
    run(clock.unfreeze())
    assert run(clock.now()) == frozen
    real.t += 2
    assert run(clock.now()) == frozen + 2


def test_set_keeps_frozen_state_unless_told(clock, real):
    target = parse_iso("2026-04-08T21:35:00Z")
    run(clock.set(target))
    assert run(clock.now()) == target
    real.t += 1
    assert run(clock.now()) == target + 1  # still running
    run(clock.set(target, frozen=True))
    real.t += 1
    assert run(clock.now()) == target


def test_describe_reports_offset_and_frozen(clock):
    run(clock.advance(60))
    d = run(clock.describe())
    assert d["frozen"] is False and d["offset_seconds"] == 60
    assert d["now"].endswith("Z")


def test_two_clocks_on_one_store_agree(real):
    store = MemoryStore()
    a, b = Clock(store, real_time=real), Clock(store, real_time=real)
    run(a.advance(42))
    assert run(b.now()) == real.t + 42


def test_iso_formats():
    ts = parse_iso("2026-01-07T00:15:19Z")
    assert iso_utc(ts) == "2026-01-07T00:15:19Z"
    assert iso_utc(ts, micros=True) == "2026-01-07T00:15:19.000000Z"
    assert parse_iso("2026-01-07T00:15:19+00:00") == ts
    assert parse_iso("2026-01-07T00:15:19") == ts
    with pytest.raises(ValueError):
        parse_iso("yesterday")


@given(st.floats(min_value=EARLIEST, max_value=LAST_INSTANT + 1e6, allow_nan=False))
def test_iso_utc_is_the_four_digit_year_zulu_form_of_the_instant(ts):
    """Whole seconds, or six digits of microseconds, of the datetime the instant is (the last
    second a date-time can show past its range), as strftime would write it."""
    dt = datetime.fromtimestamp(min(ts, LAST_INSTANT), tz=UTC)
    assert iso_utc(ts) == dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert iso_utc(ts, micros=True) == dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
