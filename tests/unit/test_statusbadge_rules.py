"""statusbadge's KV rules (mockserver.apis.statusbadge.rules) without a store or HTTP."""

from __future__ import annotations

import hashlib

import pytest

from mockserver.apis.statusbadge import StatusbadgeApi, rules
from mockserver.app import build_app
from mockserver.settings import Settings, SettingsError

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"  # 004's example
DATA = {"status": "online", "players": 15, "maxPlayers": 100, "tps": 19.8, "version": "5.0.0"}
PID = "srv_pub_a3a9e1ed9732"
LIMITS = {"floor_ms": 60_000, "cap_ms": 300_000}


def stored(now=0.0, **data) -> dict:
    return rules.heartbeat(None, PID, {**DATA, **data}, now, 300)


# --- the public id ----------------------------------------------------------------------------
def test_public_id_of_the_documented_example_token():
    assert rules.public_id(TOKEN) == PID


def test_public_id_hashes_the_uuid_text_without_the_prefix():
    uuid_text = TOKEN.removeprefix("sk_live_")
    assert (
        rules.public_id(TOKEN) == "srv_pub_" + hashlib.sha256(uuid_text.encode()).hexdigest()[:12]
    )
    assert rules.public_id(uuid_text) == rules.public_id(TOKEN)


# --- the stale formula ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("interval", "stale_ms"),
    [(None, 300_000), (10, 60_000), (30, 60_000), (30.5, 61_000), (60, 120_000), (151, 300_000)],
)
def test_stale_timeout_is_twice_the_interval_clamped_to_60_and_300_seconds(interval, stale_ms):
    assert rules.stale_timeout_ms(interval) == stale_ms


def test_stale_timeout_bounds_are_settings():
    assert rules.stale_timeout_ms(30, floor_ms=90_000, cap_ms=100_000) == 90_000
    assert rules.stale_timeout_ms(None, floor_ms=1_000, cap_ms=2_000) == 2_000


def test_online_through_the_last_instant_of_the_stale_timeout():
    rec = stored(heartbeatIntervalSec=30)
    assert rules.verdict(rec, 60, **LIMITS) == rules.Verdict(True, "online", 60_000)
    assert rules.verdict(rec, 60.001, **LIMITS) == rules.Verdict(False, "offline", 60_000)


def test_the_reported_status_is_shown_while_online():
    assert rules.verdict(stored(status="maintenance"), 1, **LIMITS).status == "maintenance"


# --- the KV TTL -------------------------------------------------------------------------------
def test_entry_lives_through_the_last_instant_of_its_ttl():
    rec = stored(now=100.0)
    assert rec["expires_at"] == 400
    assert rules.live(rec, 400)
    assert not rules.live(rec, 400.001)
    assert not rules.live(None, 0)


def test_a_heartbeat_on_a_live_entry_keeps_its_history_and_refreshes_the_ttl():
    first = stored(now=0.0)
    second = rules.heartbeat(first, PID, DATA, 200.0, 300)
    assert (second["first_seen"], second["heartbeats"], second["expires_at"]) == (0.0, 2, 500)


def test_a_heartbeat_after_the_entry_expired_starts_it_over():
    again = rules.heartbeat(stored(now=0.0), PID, DATA, 300.001, 300)
    assert (again["first_seen"], again["heartbeats"]) == (300.001, 1)


def test_the_interval_is_stored_from_the_data():
    assert stored(heartbeatIntervalSec=45)["heartbeatIntervalSec"] == 45
    assert stored()["heartbeatIntervalSec"] is None


# --- the badge --------------------------------------------------------------------------------
def test_badge_shows_status_and_players_while_online_then_offline_then_not_found():
    rec = stored(heartbeatIntervalSec=30)
    assert rules.badge(rec, rules.verdict(rec, 1, **LIMITS)) == ("online 15/100", "#4c1", 200)
    assert rules.badge(rec, rules.verdict(rec, 61, **LIMITS)) == ("offline", "#e05d44", 200)
    assert rules.badge(None, None) == ("not found", "#9f9f9f", 404)


def test_badge_colours_any_other_reported_status_as_a_warning():
    rec = stored(status="maintenance", players=1.5)
    assert rules.badge(rec, rules.verdict(rec, 1, **LIMITS)) == (
        "maintenance 1.5/100",
        "#dfb317",
        200,
    )


# --- settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ttl_seconds": 0}, "ttl_seconds must be a positive number"),
        ({"stale_min_ms": -1}, "stale_min_ms must be a positive number"),
        ({"stale_max_ms": "soon"}, "'stale_max_ms': expected an integer, got 'soon'"),
        ({"stale_min_ms": 400_000}, "stale_min_ms (400000) is above stale_max_ms (300000)"),
    ],
)
def test_settings_that_make_no_sense_are_refused_with_a_clear_message(settings, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_app(Settings(apis=["statusbadge"], api_settings={"statusbadge": settings}))


def test_default_settings_are_the_documented_values():
    assert StatusbadgeApi.Config() == StatusbadgeApi.Config(300, 60_000, 300_000)
