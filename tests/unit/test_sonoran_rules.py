"""Sonoran's rules, fake and error format (mockserver.apis.sonoran) without HTTP."""

from __future__ import annotations

import asyncio

import pytest

from mockserver.apis.sonoran import SonoranApi, rules
from mockserver.apis.sonoran.errors import RateLimited, ServerNotFound, render_error
from mockserver.apis.sonoran.fake import (
    HEARTBEATS,
    WINDOWS,
    Accepted,
    NotConfigured,
    OverLimit,
    SonoranFake,
)
from mockserver.core.config import ANY
from mockserver.core.errors import FieldError, MockError
from mockserver.store.memory import MemoryStore

DAY = 86400.0


def beat(old=None, *, now=0.0, count=5, server=1, retention=DAY):
    return rules.beat(
        old,
        masked_key="Bearer abcdef***",
        kid="0123456789ab",
        server_id=server,
        player_count=count,
        now=now,
        retention=retention,
    )


# --- rules ---------------------------------------------------------------------------------


def test_key_id_is_a_stable_short_digest_that_tells_keys_apart():
    assert rules.key_id("YOUR_API_KEY") == rules.key_id("YOUR_API_KEY")
    assert len(rules.key_id("YOUR_API_KEY")) == 12
    assert rules.key_id("YOUR_API_KEY") != rules.key_id("YOUR_API_KEZ")
    assert "YOUR" not in rules.key_id("YOUR_API_KEY")


@pytest.mark.parametrize("token", ["k", "YOUR_API_KEY", "a.b-c~d+e/f==", "x" * 500])
def test_any_well_formed_bearer_token_is_a_key_unless_pinned(token):
    assert rules.accepts_key(token, ANY)
    assert not rules.accepts_key(token, ["pinned-key"])
    assert rules.accepts_key(token, [token])


@pytest.mark.parametrize("token", ["", "=abc", "two words", "key;drop", '"quoted"', "ké"])
def test_malformed_bearer_tokens_are_never_keys(token):
    assert not rules.accepts_key(token, ANY)
    assert not rules.accepts_key(token, [token])


def test_every_server_is_configured_unless_the_list_is_pinned():
    assert rules.configured(2147483647, ANY)
    assert rules.configured(2, [1, 2])
    assert not rules.configured(3, [1, 2])


def test_first_heartbeat_starts_the_record_and_its_retention():
    rec = beat(now=100.0, count=7)
    assert (rec["firstSeen"], rec["receivedAt"], rec["heartbeats"]) == (100.0, 100.0, 1)
    assert (rec["serverId"], rec["playerCount"], rec["keyId"]) == (1, 7, "0123456789ab")
    assert rec["expires_at"] == 100.0 + DAY


def test_a_heartbeat_within_the_retention_counts_on_and_moves_the_expiry():
    first = beat(now=100.0, count=7)
    rec = beat(first, now=100.0 + DAY, count=9)
    assert (rec["firstSeen"], rec["heartbeats"], rec["playerCount"]) == (100.0, 2, 9)
    assert rec["expires_at"] == 100.0 + 2 * DAY


def test_a_heartbeat_after_the_retention_starts_over():
    first = beat(now=100.0)
    rec = beat(first, now=100.001 + DAY)
    assert (rec["firstSeen"], rec["heartbeats"]) == (100.001 + DAY, 1)


def test_record_is_kept_through_the_last_instant_of_its_retention():
    rec = beat(now=0.0)
    assert rules.kept(rec, DAY, DAY)
    assert not rules.kept(rec, DAY + 0.001, DAY)
    assert not rules.kept(None, 0.0, DAY)


def test_kept_follows_the_retention_setting_not_the_stored_expiry():
    """A retention changed at run time applies to records already stored."""
    rec = beat(now=0.0, retention=DAY)
    assert not rules.kept(rec, 61.0, 60.0)


def test_answer_echoes_the_record_in_whole_utc_seconds():
    assert rules.answer(beat(now=1775684100.75, count=42, server=3)) == {
        "serverId": 3,
        "playerCount": 42,
        "receivedAtUtc": "2026-04-08T21:35:00Z",
    }


# --- the fake: outcomes, never HTTP errors --------------------------------------------------


def fake(**settings) -> SonoranFake:
    return SonoranFake(MemoryStore(), SonoranApi.Config(**settings))


def run(coro):
    return asyncio.run(coro)


def test_accepted_heartbeat_is_recorded_per_key_and_server():
    f = fake()
    out = run(f.heartbeat("key-a", 1, 5, 10.0))
    assert isinstance(out, Accepted) and out.record["heartbeats"] == 1
    run(f.heartbeat("key-a", 1, 6, 11.0))
    run(f.heartbeat("key-a", 2, 1, 12.0))
    run(f.heartbeat("key-b", 1, 1, 13.0))
    listed = run(f.servers(13.0))
    assert len(listed) == 3
    assert [r["apiKey"] for r in listed].count("key-a") == 0  # masked


def test_over_the_limit_is_an_outcome_with_retry_after():
    f = fake(rate_limit_per_minute=2)
    run(f.heartbeat("k", 1, 1, 0.0))
    run(f.heartbeat("k", 1, 1, 15.0))
    assert run(f.heartbeat("k", 1, 1, 20.0)) == OverLimit(limit=2, retry_after=40)


def test_unknown_server_is_an_outcome_and_takes_no_slot():
    f = fake(rate_limit_per_minute=1, server_ids=[1])
    assert run(f.heartbeat("k", 9, 1, 0.0)) == NotConfigured(9)
    assert isinstance(run(f.heartbeat("k", 1, 1, 0.0)), Accepted)


def test_a_key_over_its_limit_is_refused_before_the_server_is_checked():
    f = fake(rate_limit_per_minute=1, server_ids=[1])
    run(f.heartbeat("k", 1, 1, 0.0))
    assert isinstance(run(f.heartbeat("k", 9, 1, 1.0)), OverLimit)


def test_forgotten_heartbeats_are_not_listed_even_before_the_purge():
    f = fake(heartbeat_retention_seconds=100)
    run(f.heartbeat("k", 1, 1, 0.0))
    assert len(run(f.servers(100.0))) == 1
    assert run(f.servers(100.5)) == []
    assert run(f.store.count(HEARTBEATS)) == 1  # still stored: the purge is only clean-up


def test_the_purge_drops_forgotten_heartbeats_and_idle_rate_windows():
    f = fake(heartbeat_retention_seconds=100)
    for i in range(20):
        run(f.heartbeat(f"key-{i}", i + 1, 1, 0.0))
    assert (run(f.store.count(HEARTBEATS)), run(f.store.count(WINDOWS))) == (20, 20)
    run(f.store.purge(100.5))
    assert (run(f.store.count(HEARTBEATS)), run(f.store.count(WINDOWS))) == (0, 0)


# --- the error format -----------------------------------------------------------------------


def test_rate_limited_renders_code_message_retry_after_header_and_field():
    out = render_error(RateLimited(10, 42))
    assert out.status == 429
    assert out.headers == {"Retry-After": "42"}
    assert out.body == {
        "error": "RATE_LIMITED",
        "message": "rate limit of 10 requests per minute exceeded for this API key; "
        "retry in 42 seconds",
        "retryAfter": 42,
    }


def test_server_not_found_renders_its_own_code():
    out = render_error(ServerNotFound(7))
    assert (out.status, out.body) == (
        404,
        {"error": "SERVER_NOT_FOUND", "message": "server 7 is not configured for this community"},
    )


def test_validation_lists_every_field_and_names_them_in_the_message():
    err = MockError(
        400,
        "validation",
        "x",
        fields=[FieldError("playerCount", "minimum", "-1 is less than the minimum of 0", "-1")],
    )
    out = render_error(err)
    assert out.body["error"] == "INVALID_REQUEST"
    assert out.body["message"] == "playerCount: -1 is less than the minimum of 0"
    assert out.body["errors"][0]["key"] == "playerCount"


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({}, 60),
        ({"Retry-After": "5"}, 5),
        ({"Retry-After": "soon"}, 60),
        ({"Retry-After": "0"}, 60),
    ],
)
def test_a_generic_429_gets_retry_after_in_header_and_body(headers, retry_after):
    out = render_error(MockError(429, "rate_limited", "fault injected", headers=headers))
    assert out.headers["Retry-After"] == headers.get("Retry-After", str(retry_after))
    assert out.body["retryAfter"] == retry_after


def test_a_429_with_a_huge_retry_after_header_still_renders():
    out = render_error(MockError(429, "rate_limited", headers={"Retry-After": "9" * 5000}))
    assert out.body["retryAfter"] == 60


def test_unknown_kinds_become_upper_case_codes():
    assert render_error(MockError(418, "teapot")).body == {"error": "TEAPOT", "message": "teapot"}


def test_timestamps_past_the_end_of_time_show_the_last_second():
    assert rules.iso_utc(rules.LAST_INSTANT + DAY) == "9999-12-31T23:59:59Z"
    assert rules.iso_utc(0.0) == "1970-01-01T00:00:00Z"
