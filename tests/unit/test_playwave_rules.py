"""PlayWave without HTTP: the state machine (rules), the Fake on a store, the settings and
the handlers called directly."""

from __future__ import annotations

import asyncio
import json

import pytest

from mockserver.apis.playwave import PlaywaveApi
from mockserver.apis.playwave.errors import SessionEnding
from mockserver.apis.playwave.fake import PCS, SESSIONS, PlaywaveFake
from mockserver.apis.playwave.rules import (
    GONE,
    evaluate,
    live_pc,
    pc_written,
    play_duration,
    record_lapse,
)
from mockserver.app import build_app
from mockserver.store.memory import MemoryStore
from tests.conftest import test_settings

CFG = PlaywaveApi.Config()
SID = "gs_550e8400-e29b-41d4-a716-446655440000"


def rec(**fields) -> dict:
    return {"u": "1", "c": 0.0, "h": 0.0, "i": 0, **fields}


def test_no_record_is_gone():
    assert evaluate(None, None, SID, 0, CFG) is GONE


def test_fresh_session_is_ok_until_strictly_after_the_ttl():
    assert evaluate(rec(), None, SID, 240, CFG).result == "OK"
    assert evaluate(rec(), None, SID, 240.001, CFG) is GONE


def test_end_before_exhaustion_grace_decides():
    state = evaluate(rec(n=10.0, e=0.0), None, SID, 130, CFG)
    assert (state.result, state.reason) == ("SESSION_ENDED", "end")


def test_grace_over_before_replacement_stays_ended():
    pc = {"s": "gs_other", "a": 200.0}
    state = evaluate(rec(h=100.0, e=0.0, r=200.0), pc, SID, 210, CFG)
    assert (state.status, state.reason, state.ended_at) == (410, "charge", 120.0)


def test_replacement_time_falls_back_to_the_pc_takeover():
    pc = {"s": "gs_other", "a": 50.0}
    state = evaluate(rec(), pc, SID, 100, CFG)
    assert (state.result, state.play_end) == ("SESSION_REPLACED", 50.0)
    assert play_duration(rec(), state, 100) == 50


def test_a_pc_taken_over_before_the_session_started_has_not_replaced_it():
    """create writes the session, then the PC: in between, the PC still names its older
    session, and the new one must not look replaced by it."""
    pc = {"s": "gs_older", "a": 50.0}
    assert evaluate(rec(c=100.0, h=100.0), pc, SID, 110, CFG).result == "OK"
    assert evaluate(rec(c=100.0, h=100.0), {**pc, "a": 100.0}, SID, 110, CFG).result == (
        "SESSION_REPLACED"
    )


def test_a_replacement_mark_holds_whatever_the_pc_says():
    state = evaluate(rec(r=30.0), None, SID, 100, CFG)
    assert (state.result, state.play_end) == ("SESSION_REPLACED", 30.0)


def test_pc_pointing_at_the_session_itself_is_not_a_replacement():
    assert evaluate(rec(), {"s": SID, "a": 0.0}, SID, 10, CFG).result == "OK"


def test_dead_launcher_is_a_pending_termination_not_a_stored_one():
    state = evaluate(rec(h=200.0), {"q": 0.0}, SID, 241, CFG)
    assert (state.result, state.pending_launcher, state.ended_at) == ("SESSION_ENDED", True, None)
    assert not state.refreshes


def test_a_far_balance_does_not_keep_an_abandoned_record():
    assert record_lapse(rec(e=100_000.0), CFG) == 240


def test_record_lasts_through_the_ended_retention():
    assert record_lapse(rec(n=100.0), CFG) == 100 + 5 + 240


def test_session_records_are_compact():
    """A benchmark holds 100 000 live sessions: a typical record stays a short JSON object."""
    store = MemoryStore()
    fake = PlaywaveFake(store, CFG)

    async def go():
        sid, _ = await fake.create({"provider_user_id": "123456789"}, 1_775_000_000.123456)
        await fake.heartbeat(sid, "123456789", "key", 1_775_000_120.654321)
        return await store.get(SESSIONS, sid), await store.count(PCS)

    record, pcs = asyncio.run(go())
    assert len(json.dumps(record, separators=(",", ":"))) <= 100
    assert pcs == 0  # a session on a PC of its own needs no PC record


def test_a_seed_of_a_known_id_is_refused_and_changes_nothing():
    store = MemoryStore()
    fake = PlaywaveFake(store, CFG)

    async def go():
        first = await fake.create({"provider_user_id": "1", "game_session_id": SID}, 0.0)
        again = await fake.create(
            {"provider_user_id": "2", "game_session_id": SID, "pc_id": "pc-9"}, 1.0
        )
        return first, again, await store.get(SESSIONS, SID), await store.count(PCS)

    first, again, record, pcs = asyncio.run(go())
    assert (first, again) == ((SID, True), (SID, False))
    assert record["u"] == "1" and pcs == 0


def test_the_heartbeat_handler_needs_no_request_context():
    """Handlers get what they need as arguments (the body, and `user`: the X-Api-Key the
    security check accepted), so a request path that bypasses connexion can call them."""
    api = build_app(test_settings(apis=["playwave"])).ctx.apis["playwave"]

    async def go():
        await api.playwave_create_session({"provider_user_id": "1", "game_session_id": SID})
        body = {"game_session_id": SID, "provider_user_id": "1"}
        answer, status = await api.playwave_heartbeat(body, user="game-key")
        await api.playwave_end_session(SID)
        with pytest.raises(SessionEnding):
            await api.playwave_heartbeat(body, user="game-key")
        return answer, status

    answer, status = asyncio.run(go())
    assert status == 200 and answer["data"]["result"] == "OK"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"api_keys": []}, "empty"),
        ({"api_keys": ["ok", " spaced"]}, "surrounding spaces"),
        ({"api_keys": [""]}, "non-empty"),
        ({"api_keys": [1.5]}, "api_keys': expected a list of strings"),
        ({"next_heartbeat_in": 0}, "next_heartbeat_in"),
        ({"next_heartbeat_in": 1.5}, "next_heartbeat_in"),
        ({"ttl_seconds": -1}, "ttl_seconds"),
        ({"ending_seconds": "5"}, "ending_seconds"),
        ({"launcher_timeout_seconds": float("nan")}, "launcher_timeout_seconds"),
        ({"charge_grace_seconds": True}, "charge_grace_seconds"),
    ],
)
def test_bad_settings_are_refused_with_their_name(settings, message):
    with pytest.raises(ValueError, match=message):
        PlaywaveApi.make_config(settings)


def test_api_keys_default_to_any_and_accept_a_comma_separated_list():
    assert PlaywaveApi.make_config({}).api_keys is None
    assert PlaywaveApi.make_config({"api_keys": "key-1, key-2"}).api_keys == ["key-1", "key-2"]


def test_a_pc_record_is_forgotten_after_its_retention():
    pc = pc_written({"s": "gs_1", "a": 0.0, "q": 10.0}, 100.0, CFG)
    assert pc["expires_at"] == 100.0 + CFG.pc_retention_seconds
    assert live_pc(pc, 100.0 + CFG.pc_retention_seconds) is pc
    assert live_pc(pc, 100.0 + CFG.pc_retention_seconds + 0.001) is None
    assert live_pc(None, 0.0) is None
    assert live_pc({"s": "gs_1"}, 1e12) == {"s": "gs_1"}  # written before retention existed
