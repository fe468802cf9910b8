"""playwave (seed 002) over real HTTP: every row of the result and error tables, on the mock clock.

Time moves only through `/__mock/clock/advance` on a frozen clock; nothing sleeps.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mockserver.server import BackgroundServer
from tests.conftest import SEED_BODIES, advance, drop_prefix, redis_url, test_settings

HB = "/v1/game/session/heartbeat"
CTL = "/__mock/playwave"
USER = SEED_BODIES["playwave"]["provider_user_id"]
KEY = "game-key-1"
DOC_SESSION = SEED_BODIES["playwave"]["game_session_id"]
TUNED = {
    "next_heartbeat_in": 30,
    "ttl_seconds": 60,
    "charge_grace_seconds": 90,
    "ending_seconds": 30,
    "launcher_timeout_seconds": 30,
}


@pytest.fixture
def pw(http):
    """The shared live server with a frozen clock."""
    http.post("/__mock/clock/freeze").raise_for_status()
    return http


@pytest.fixture(scope="module")
def tuned_server():
    """One server with every timing setting changed, shared by the tests of the settings."""
    with BackgroundServer(test_settings(api_settings={"playwave": TUNED})) as server:
        yield server


@pytest.fixture
def tuned(tuned_server):
    with httpx.Client(base_url=tuned_server.url, timeout=10) as client:
        client.post("/__mock/reset").raise_for_status()
        client.post("/__mock/clock/freeze").raise_for_status()
        yield client


def create(http, **fields) -> str:
    r = http.post(f"{CTL}/sessions", json={"provider_user_id": USER, **fields})
    assert r.status_code == 201, r.text
    return r.json()["game_session_id"]


def beat(http, sid, user=USER, key=KEY) -> httpx.Response:
    headers = {} if key is None else {"X-Api-Key": key}
    return http.patch(HB, json={"game_session_id": sid, "provider_user_id": user}, headers=headers)


def result(http, sid, **kw) -> str:
    r = beat(http, sid, **kw)
    assert r.status_code == 200, r.text
    return r.json()["data"]["result"]


def error_code(r: httpx.Response) -> tuple[int, str]:
    body = r.json()
    assert body["success"] is False
    assert re.fullmatch(r"req_[0-9a-f]{12}", body["request_id"])
    return r.status_code, body["error"]["code"]


def view(http, sid) -> dict:
    r = http.get(f"{CTL}/sessions/{sid}")
    assert r.status_code == 200, r.text
    return r.json()


# --- the documented 200 -------------------------------------------------------------------


def test_documented_example_gets_the_documented_answer(pw):
    create(pw, game_session_id=DOC_SESSION, play_duration_sec=1800)
    r = beat(pw, DOC_SESSION)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert re.fullmatch(r"req_[0-9a-f]{12}", body.pop("request_id"))
    assert body == {
        "success": True,
        "data": {"result": "OK", "next_heartbeat_in": 120, "play_duration_sec": 1800},
    }


def test_play_duration_is_server_side_time_since_the_session_started(pw):
    sid = create(pw)
    advance(pw, 120)
    assert beat(pw, sid).json()["data"]["play_duration_sec"] == 120
    advance(pw, 119.6)
    assert beat(pw, sid).json()["data"]["play_duration_sec"] == 239


def test_next_heartbeat_in_follows_the_setting(tuned):
    sid = create(tuned)
    assert beat(tuned, sid).json()["data"]["next_heartbeat_in"] == 30


def test_session_still_answers_at_exactly_the_ttl(pw):
    sid = create(pw)
    advance(pw, 240)
    assert result(pw, sid) == "OK"


def test_session_without_heartbeat_for_longer_than_the_ttl_is_not_found(pw):
    sid = create(pw)
    advance(pw, 240.5)
    r = beat(pw, sid)
    assert error_code(r) == (404, "SESSION_NOT_FOUND")
    assert r.json()["error"]["message"] == "Session not found (expired/deleted)"


def test_each_heartbeat_refreshes_the_ttl(pw):
    sid = create(pw)
    for _ in range(3):
        advance(pw, 200)
        assert result(pw, sid) == "OK"
    advance(pw, 241)
    assert beat(pw, sid).status_code == 404


def test_ttl_follows_the_setting(tuned):
    sid = create(tuned)
    advance(tuned, 60)
    assert result(tuned, sid) == "OK"
    advance(tuned, 61)
    assert beat(tuned, sid).status_code == 404


def test_never_seen_session_is_not_found(pw):
    assert error_code(beat(pw, "gs_00000000-0000-4000-8000-000000000000")) == (
        404,
        "SESSION_NOT_FOUND",
    )


def test_expired_session_is_gone_from_the_control_api(pw):
    sid = create(pw)
    advance(pw, 241)
    assert pw.get(f"{CTL}/sessions/{sid}").status_code == 404
    assert pw.get(f"{CTL}/sessions").json()["count"] == 0


# --- SESSION_REPLACED ------------------------------------------------------------------------


def test_new_session_on_the_same_pc_replaces_the_old_one(pw):
    old = create(pw, pc_id="pc-7")
    new = create(pw, pc_id="pc-7")
    assert result(pw, old) == "SESSION_REPLACED"
    assert result(pw, new) == "OK"


def test_sessions_on_different_pcs_do_not_replace_each_other(pw):
    first = create(pw, pc_id="pc-7")
    create(pw, pc_id="pc-8")
    create(pw)  # a PC of its own
    assert result(pw, first) == "OK"


def test_replaced_session_answers_replaced_until_its_ttl_lapses(pw):
    old = create(pw, pc_id="pc-7")
    advance(pw, 100)
    create(pw, pc_id="pc-7")
    assert result(pw, old) == "SESSION_REPLACED"  # does not refresh the TTL
    advance(pw, 140)
    assert result(pw, old) == "SESSION_REPLACED"
    advance(pw, 1)
    assert error_code(beat(pw, old)) == (404, "SESSION_NOT_FOUND")


def test_replaced_session_play_time_stops_at_the_replacement(pw):
    old = create(pw, pc_id="pc-7")
    advance(pw, 100)
    create(pw, pc_id="pc-7")
    advance(pw, 50)
    assert beat(pw, old).json()["data"]["play_duration_sec"] == 100


def test_every_earlier_session_on_the_pc_stays_replaced(pw):
    first = create(pw, pc_id="pc-7")
    advance(pw, 10)
    second = create(pw, pc_id="pc-7")
    advance(pw, 10)
    create(pw, pc_id="pc-7")
    assert [result(pw, s) for s in (first, second)] == ["SESSION_REPLACED", "SESSION_REPLACED"]
    assert view(pw, first)["replaced_at"] != view(pw, second)["replaced_at"]


def test_replacing_an_expired_session_leaves_it_not_found(pw):
    old = create(pw, pc_id="pc-7")
    advance(pw, 241)
    create(pw, pc_id="pc-7")
    assert beat(pw, old).status_code == 404


def test_session_that_ended_before_it_was_replaced_stays_ended(pw):
    old = create(pw, pc_id="pc-7")
    pw.post(f"{CTL}/sessions/{old}/exhaust")
    advance(pw, 121)
    create(pw, pc_id="pc-7")
    assert error_code(beat(pw, old)) == (410, "SESSION_ENDED")


def test_replacement_during_the_grace_answers_replaced(pw):
    old = create(pw, pc_id="pc-7")
    pw.post(f"{CTL}/sessions/{old}/exhaust")
    advance(pw, 60)
    create(pw, pc_id="pc-7")
    advance(pw, 100)
    assert result(pw, old) == "SESSION_REPLACED"


# --- CHARGE_EXHAUSTED, then 410 SESSION_ENDED after the grace -------------------------------


def test_exhausted_session_answers_charge_exhausted(pw):
    sid = create(pw)
    assert pw.post(f"{CTL}/sessions/{sid}/exhaust").json()["status"] == "charge_exhausted"
    assert result(pw, sid) == "CHARGE_EXHAUSTED"


def test_exhausted_session_still_answers_at_exactly_the_end_of_the_grace(pw):
    sid = create(pw)
    pw.post(f"{CTL}/sessions/{sid}/exhaust")
    advance(pw, 120)
    assert result(pw, sid) == "CHARGE_EXHAUSTED"


def test_exhausted_session_is_terminated_after_the_grace(pw):
    sid = create(pw)
    pw.post(f"{CTL}/sessions/{sid}/exhaust")
    advance(pw, 60)
    assert result(pw, sid) == "CHARGE_EXHAUSTED"
    advance(pw, 60.5)
    assert error_code(beat(pw, sid)) == (410, "SESSION_ENDED")
    assert view(pw, sid)["ended_reason"] == "charge"


def test_grace_follows_the_setting(tuned):
    sid = create(tuned)
    tuned.post(f"{CTL}/sessions/{sid}/exhaust")
    advance(tuned, 50)
    assert result(tuned, sid) == "CHARGE_EXHAUSTED"
    advance(tuned, 40)
    assert result(tuned, sid) == "CHARGE_EXHAUSTED"
    advance(tuned, 1)
    assert error_code(beat(tuned, sid)) == (410, "SESSION_ENDED")


def test_balance_runs_down_with_play_time(pw):
    sid = create(pw, balance_sec=300)
    advance(pw, 240)
    assert result(pw, sid) == "OK"
    assert view(pw, sid)["balance_sec"] == 60
    advance(pw, 60)
    assert result(pw, sid) == "CHARGE_EXHAUSTED"
    advance(pw, 121)
    assert beat(pw, sid).status_code == 410


def test_ended_session_answers_ended_for_the_retention_then_not_found(pw):
    sid = create(pw)
    pw.post(f"{CTL}/sessions/{sid}/exhaust")
    advance(pw, 360)  # ended at 120 s, kept for 240 s
    assert error_code(beat(pw, sid)) == (410, "SESSION_ENDED")
    advance(pw, 0.5)
    assert error_code(beat(pw, sid)) == (404, "SESSION_NOT_FOUND")


def test_session_that_expired_during_the_grace_is_not_found(tuned):
    sid = create(tuned)
    tuned.post(f"{CTL}/sessions/{sid}/exhaust")
    advance(tuned, 91)  # the 60 s TTL lapsed before the 90 s grace ended
    assert error_code(beat(tuned, sid)) == (404, "SESSION_NOT_FOUND")


def test_ending_session_answers_session_ending(pw):
    sid = create(pw)
    assert pw.post(f"{CTL}/sessions/{sid}/end").json()["status"] == "ending"
    r = beat(pw, sid)
    assert error_code(r) == (410, "SESSION_ENDING")
    assert r.json()["error"]["message"] == "Termination in progress"


def test_ending_lasts_ending_seconds_then_ended(pw):
    sid = create(pw)
    pw.post(f"{CTL}/sessions/{sid}/end")
    advance(pw, 5)
    assert error_code(beat(pw, sid)) == (410, "SESSION_ENDING")
    advance(pw, 0.5)
    r = beat(pw, sid)
    assert error_code(r) == (410, "SESSION_ENDED")
    assert r.json()["error"]["message"] == "Session already ended"


def test_ending_time_follows_the_setting(tuned):
    sid = create(tuned)
    tuned.post(f"{CTL}/sessions/{sid}/end")
    advance(tuned, 29)
    assert error_code(beat(tuned, sid)) == (410, "SESSION_ENDING")
    advance(tuned, 2)
    assert error_code(beat(tuned, sid)) == (410, "SESSION_ENDED")


def test_ending_does_not_refresh_the_ttl_or_count_heartbeats(pw):
    sid = create(pw)
    pw.post(f"{CTL}/sessions/{sid}/end")
    beat(pw, sid)
    assert view(pw, sid)["heartbeats"] == 0


# --- launcher timeout: 410 SESSION_ENDED ----------------------------------------------------


def test_launcher_silent_for_exactly_four_minutes_is_still_alive(pw):
    sid = create(pw, pc_id="pc-7")
    pw.post(f"{CTL}/launchers/pc-7/stop")
    advance(pw, 120)
    assert result(pw, sid) == "OK"
    advance(pw, 120)
    assert result(pw, sid) == "OK"


def test_launcher_silent_for_over_four_minutes_ends_the_session(pw):
    sid = create(pw, pc_id="pc-7")
    pw.post(f"{CTL}/launchers/pc-7/stop")
    advance(pw, 120)
    assert result(pw, sid) == "OK"
    advance(pw, 121)
    r = beat(pw, sid)
    assert error_code(r) == (410, "SESSION_ENDED")
    assert "launcher" in r.json()["error"]["message"]
    assert view(pw, sid)["ended_reason"] == "launcher"


def test_launcher_termination_sticks_after_the_launcher_restarts(pw):
    sid = create(pw, pc_id="pc-7")
    pw.post(f"{CTL}/launchers/pc-7/stop")
    advance(pw, 200)
    beat(pw, sid)
    advance(pw, 41)
    assert beat(pw, sid).status_code == 410
    pw.post(f"{CTL}/launchers/pc-7/start")
    assert error_code(beat(pw, sid)) == (410, "SESSION_ENDED")


def test_launcher_restarted_before_the_next_game_heartbeat_keeps_the_session(pw):
    sid = create(pw, pc_id="pc-7")
    pw.post(f"{CTL}/launchers/pc-7/stop")
    advance(pw, 200)
    assert result(pw, sid) == "OK"
    advance(pw, 100)  # silent 300 s, but no game heartbeat saw it
    assert view(pw, sid)["launcher"]["dead"] is True
    pw.post(f"{CTL}/launchers/pc-7/start")
    assert result(pw, sid) == "OK"


def test_launcher_heartbeat_keeps_a_stopped_launcher_alive(pw):
    sid = create(pw, pc_id="pc-7")
    pw.post(f"{CTL}/launchers/pc-7/stop")
    advance(pw, 200)
    assert pw.post(f"{CTL}/launchers/pc-7/heartbeat").json()["alive"] is False
    assert result(pw, sid) == "OK"
    advance(pw, 200)
    assert result(pw, sid) == "OK"


def test_launcher_of_a_pc_of_its_own_can_be_stopped(pw):
    sid = create(pw)
    pw.post(f"{CTL}/launchers/{view(pw, sid)['pc_id']}/stop")
    advance(pw, 200)
    assert result(pw, sid) == "OK"
    advance(pw, 41)
    assert error_code(beat(pw, sid)) == (410, "SESSION_ENDED")


def test_launcher_timeout_follows_the_setting(tuned):
    sid = create(tuned, pc_id="pc-7")
    tuned.post(f"{CTL}/launchers/pc-7/stop")
    advance(tuned, 30)
    assert result(tuned, sid) == "OK"
    advance(tuned, 1)
    assert error_code(beat(tuned, sid)) == (410, "SESSION_ENDED")


def test_missing_api_key_is_401_and_changes_nothing(pw):
    sid = create(pw)
    before = view(pw, sid)
    r = beat(pw, sid, key=None)
    assert error_code(r) == (401, "UNAUTHORIZED")
    assert view(pw, sid) == before


def test_empty_api_key_is_401(pw):
    sid = create(pw)
    assert error_code(beat(pw, sid, key="")) == (401, "UNAUTHORIZED")


def test_pinned_api_keys_reject_other_keys(make_server):
    server = make_server(api_settings={"playwave": {"api_keys": ["pinned-key"]}})
    with httpx.Client(base_url=server.url) as client:
        sid = create(client)
        assert error_code(beat(client, sid, key="other")) == (401, "UNAUTHORIZED")
        assert beat(client, sid, key="pinned-key").status_code == 200


def test_api_keys_from_the_environment_pin_exactly_those_keys(make_server):
    """`MOCKSERVER_PLAYWAVE__API_KEYS=key-1,key-2` arrives as text: a key that is only part of
    one of them is not pinned."""
    server = make_server(api_settings={"playwave": {"api_keys": "key-1,key-2"}})
    with httpx.Client(base_url=server.url) as client:
        sid = create(client)
        assert error_code(beat(client, sid, key="ey-1")) == (401, "UNAUTHORIZED")
        assert error_code(beat(client, sid, key="key-1,key-2")) == (401, "UNAUTHORIZED")
        assert [result(client, sid, key=k) for k in ("key-1", "key-2")] == ["OK", "OK"]


def test_session_seeded_for_one_game_key_is_not_found_with_another(pw):
    sid = create(pw, game_api_key="game-A")
    before = view(pw, sid)
    assert error_code(beat(pw, sid, key="game-B")) == (404, "SESSION_NOT_FOUND")
    assert view(pw, sid) == before
    assert result(pw, sid, key="game-A") == "OK"


def test_session_seeded_without_a_game_key_accepts_any_key(pw):
    sid = create(pw)
    assert result(pw, sid, key="game-A") == "OK"
    assert result(pw, sid, key="game-B") == "OK"


def test_game_key_is_redacted_in_the_session_view(pw):
    sid = create(pw, game_api_key="game-key-secret")
    assert view(pw, sid)["game_api_key"] == "game-k***"


def test_other_provider_user_id_is_not_found_and_changes_nothing(pw):
    sid = create(pw)
    before = view(pw, sid)
    assert error_code(beat(pw, sid, user="987654321")) == (404, "SESSION_NOT_FOUND")
    assert view(pw, sid) == before


# --- bad requests: the error envelope, no state change --------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_wrong_method_is_405_with_allow(pw, method):
    r = pw.request(method, HB, headers={"X-Api-Key": KEY})
    assert error_code(r) == (405, "METHOD_NOT_ALLOWED")
    assert r.headers["allow"] == "PATCH"


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, ["game_session_id", "provider_user_id"]),
        ({"provider_user_id": USER}, ["game_session_id"]),
        ({"game_session_id": "SID"}, ["provider_user_id"]),
        ({"game_session_id": "SID", "provider_user_id": 123456789}, ["provider_user_id"]),
        ({"game_session_id": "SID", "provider_user_id": ""}, ["provider_user_id"]),
        ({"game_session_id": "", "provider_user_id": USER}, ["game_session_id"]),
        (
            {"game_session_id": None, "provider_user_id": None},
            ["game_session_id", "provider_user_id"],
        ),
        (["SID", USER], ["body"]),
    ],
)
def test_invalid_body_is_400_naming_every_field_and_changes_nothing(pw, payload, fields):
    sid = create(pw)
    before = view(pw, sid)
    if isinstance(payload, dict):
        payload = {k: (sid if v == "SID" else v) for k, v in payload.items()}
    else:
        payload = [sid if v == "SID" else v for v in payload]
    r = pw.patch(HB, json=payload, headers={"X-Api-Key": KEY})
    assert error_code(r) == (400, "VALIDATION_ERROR")
    assert sorted(d["field"] for d in r.json()["error"]["details"]) == fields
    assert view(pw, sid) == before


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"game_session_id": "a", "game_session_id": "b", "provider_user_id": "1"}',
        b'{"x": NaN}',
        b"\xa9\x11",
        b"",
    ],
)
def test_malformed_json_is_400(pw, content):
    r = pw.patch(
        HB, content=content, headers={"X-Api-Key": KEY, "Content-Type": "application/json"}
    )
    assert error_code(r) == (400, "VALIDATION_ERROR")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_body_that_is_not_application_json_is_415_and_changes_nothing(pw, content_type):
    sid = create(pw)
    before = view(pw, sid)
    headers = {"X-Api-Key": KEY} | ({"Content-Type": content_type} if content_type else {})
    content = b'{"game_session_id": "%s", "provider_user_id": "%s"}' % (sid.encode(), USER.encode())
    r = pw.patch(HB, content=content, headers=headers)
    assert error_code(r) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert view(pw, sid) == before


def test_oversized_body_is_413_in_the_error_envelope(pw):
    r = pw.patch(
        HB,
        json={"game_session_id": "x" * 1_100_000, "provider_user_id": USER},
        headers={"X-Api-Key": KEY},
    )
    assert error_code(r) == (413, "PAYLOAD_TOO_LARGE")


def test_unknown_path_under_the_prefix_is_404_in_the_error_envelope(pw):
    assert error_code(pw.patch("/v1/game/session/other", json={}, headers={"X-Api-Key": KEY})) == (
        404,
        "NOT_FOUND",
    )


def test_extra_body_fields_are_ignored(pw):
    sid = create(pw)
    r = pw.patch(
        HB,
        json={"game_session_id": sid, "provider_user_id": USER, "extra": 1},
        headers={"X-Api-Key": KEY},
    )
    assert r.status_code == 200


# --- control routes ----------------------------------------------------------------------------


def test_created_session_id_is_gs_and_a_uuid(pw):
    r = pw.post(f"{CTL}/sessions", json={"provider_user_id": USER, "pc_id": "pc-7"})
    assert r.status_code == 201
    session = r.json()
    assert re.fullmatch(
        r"gs_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        session["game_session_id"],
    )
    assert (
        session["status"] == "active"
        and session["result"] == "OK"
        and session["http_status"] == 200
    )
    assert (
        session["pc_id"] == "pc-7"
        and session["launcher"]["current_session"] == session["game_session_id"]
    )


def test_session_view_shows_heartbeats_and_expiry(pw):
    pw.post("/__mock/clock/set", json={"now": "2026-04-08T21:00:00Z", "frozen": True})
    sid = create(pw, pc_id="pc-7")
    assert view(pw, sid)["last_heartbeat_at"] is None
    advance(pw, 100)
    beat(pw, sid)
    v = view(pw, sid)
    assert v["started_at"] == "2026-04-08T21:00:00Z"
    assert v["last_heartbeat_at"] == "2026-04-08T21:01:40Z"
    assert v["expires_at"] == "2026-04-08T21:05:40Z"
    assert v["heartbeats"] == 1
    assert v["play_duration_sec"] == 100


def test_replaced_session_view_says_replaced(pw):
    old = create(pw, pc_id="pc-7")
    new = create(pw, pc_id="pc-7")
    v = view(pw, old)
    assert (v["status"], v["result"], v["launcher"]["current_session"]) == (
        "replaced",
        "SESSION_REPLACED",
        new,
    )
    assert v["replaced_at"] is not None


def test_creating_an_existing_session_id_is_409_and_changes_nothing(pw):
    create(pw, game_session_id=DOC_SESSION, pc_id="pc-7")
    r = pw.post(
        f"{CTL}/sessions", json={"provider_user_id": "other", "game_session_id": DOC_SESSION}
    )
    assert r.status_code == 409
    assert view(pw, DOC_SESSION)["provider_user_id"] == USER


ROUNDS = 20
CREATORS = 8


def create_at_once(clients: list[httpx.Client], sid: str) -> list[httpx.Response]:
    """Every client seeds `sid` for its own user and PC from its own thread, all at once."""
    barrier = threading.Barrier(len(clients))

    def seed(n: int) -> httpx.Response:
        barrier.wait(timeout=10)
        body = {"provider_user_id": f"user-{n}", "game_session_id": sid, "pc_id": f"pc-{n}"}
        return clients[n].post(f"{CTL}/sessions", json=body)

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(seed, range(len(clients))))


def assert_one_session_per_id(urls: list[str]) -> None:
    """ROUNDS rounds of CREATORS concurrent seeds of one id (every other round over the expired
    record of an earlier session with that id): one 201, the rest the control API's 409, the
    stored session (seen through every server) is the one the 201 described, and only the
    winner's PC was taken over (a 409 changes nothing)."""
    clients = [httpx.Client(base_url=urls[n % len(urls)], timeout=10) for n in range(CREATORS)]
    on_pc: dict[str, str | None] = {f"pc-{n}": None for n in range(CREATORS)}
    try:
        for client in clients:
            client.get("/__mock/health").raise_for_status()  # connected before the race
        clients[0].post("/__mock/clock/freeze").raise_for_status()
        for round_ in range(ROUNDS):
            sid = f"gs_race-{round_}"
            if round_ % 2:
                create(clients[1], game_session_id=sid)
                advance(clients[0], 241)  # its TTL lapsed: a heartbeat would get 404
            answers = create_at_once(clients, sid)
            statuses = sorted(r.status_code for r in answers)
            assert statuses == [201] + [409] * (CREATORS - 1), (round_, statuses)
            (winner,) = [r.json() for r in answers if r.status_code == 201]
            for r in answers:
                if r.status_code == 409:
                    assert r.json()["error"]["kind"] == "conflict"
                    assert sid in r.json()["error"]["message"]
            on_pc[winner["pc_id"]] = sid
            for client in clients[:2]:
                stored = view(client, sid)
                assert (stored["provider_user_id"], stored["pc_id"]) == (
                    winner["provider_user_id"],
                    winner["pc_id"],
                )
                assert result(client, sid, user=winner["provider_user_id"]) == "OK"
            launchers = [clients[0].get(f"{CTL}/launchers/{pc}").json() for pc in on_pc]
            assert {v["pc_id"]: v["current_session"] for v in launchers} == on_pc, round_
    finally:
        for client in clients:
            client.close()


def test_concurrent_seeds_of_one_id_create_exactly_one_session(http, live_server):
    assert_one_session_per_id([live_server.url])


def test_concurrent_seeds_of_one_id_through_two_servers_on_one_redis(redis_server):
    url = redis_url(redis_server)
    servers = [BackgroundServer(test_settings(store=url)).start() for _ in range(2)]
    try:
        assert_one_session_per_id([server.url for server in servers])
    finally:
        for server in servers:
            server.stop()
        drop_prefix(redis_server, url)


def seed_while_heartbeating(clients: list[httpx.Client], sid: str, pc_id: str) -> list:
    """clients[0] seeds `sid` on `pc_id` while the others heartbeat it five times each."""
    barrier = threading.Barrier(len(clients))

    def seed() -> list:
        barrier.wait(timeout=10)
        return [create(clients[0], pc_id=pc_id, game_session_id=sid)]

    def heartbeats(client: httpx.Client) -> list:
        barrier.wait(timeout=10)
        return [beat(client, sid) for _ in range(5)]

    with ThreadPoolExecutor(len(clients)) as pool:
        futures = [pool.submit(seed)] + [pool.submit(heartbeats, c) for c in clients[1:]]
        futures[0].result()
        return [r for f in futures[1:] for r in f.result()]


def test_a_heartbeat_racing_its_sessions_creation_never_sees_it_replaced(http, live_server):
    """The session is written before its PC: a heartbeat in between finds the PC still naming
    the older session, which must not count as a replacement (real clock: instants differ)."""
    clients = [httpx.Client(base_url=live_server.url, timeout=10) for _ in range(4)]
    answers = set()
    try:
        for round_ in range(ROUNDS):
            create(http, pc_id=f"pc-{round_}")  # the PC's older session
            for r in seed_while_heartbeating(clients, f"gs_racing-{round_}", f"pc-{round_}"):
                answers.add(r.json()["data"]["result"] if r.status_code == 200 else error_code(r))
    finally:
        for client in clients:
            client.close()
    assert answers <= {"OK", (404, "SESSION_NOT_FOUND")}


def test_a_gone_session_id_can_be_seeded_again(pw):
    create(pw, game_session_id=DOC_SESSION)
    advance(pw, 241)
    create(pw, game_session_id=DOC_SESSION)
    assert result(pw, DOC_SESSION) == "OK"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"provider_user_id": ""},
        {"provider_user_id": USER, "balance_sec": -1},
        {"provider_user_id": USER, "bogus": 1},
    ],
)
def test_invalid_create_is_400_and_creates_nothing(pw, payload):
    r = pw.post(f"{CTL}/sessions", json=payload)
    assert r.status_code == 400
    assert r.json()["error"]["kind"] == "validation"
    assert pw.get(f"{CTL}/sessions").json()["count"] == 0


def test_list_filters_by_pc(pw):
    a = create(pw, pc_id="pc-7")
    create(pw, pc_id="pc-8")
    sessions = pw.get(f"{CTL}/sessions", params={"pc_id": "pc-7"}).json()["sessions"]
    assert [s["game_session_id"] for s in sessions] == [a]
    assert pw.get(f"{CTL}/sessions").json()["count"] == 2


@pytest.mark.parametrize("action", ["exhaust", "end"])
def test_control_actions_on_an_unknown_session_are_404(pw, action):
    assert pw.post(f"{CTL}/sessions/gs_nope/{action}").status_code == 404
    assert pw.get(f"{CTL}/sessions").json()["count"] == 0


def test_launcher_view(pw):
    assert pw.get(f"{CTL}/launchers/pc-7").json() == {
        "pc_id": "pc-7",
        "alive": True,
        "silent_since": None,
        "dead": False,
        "current_session": None,
    }
    pw.post("/__mock/clock/set", json={"now": "2026-04-08T21:00:00Z", "frozen": True})
    stopped = pw.post(f"{CTL}/launchers/pc-7/stop").json()
    assert (stopped["alive"], stopped["silent_since"]) == (False, "2026-04-08T21:00:00Z")
    advance(pw, 241)
    assert pw.get(f"{CTL}/launchers/pc-7").json()["dead"] is True
    assert pw.post(f"{CTL}/launchers/pc-7/start").json()["alive"] is True


# --- journal, cadence identity -----------------------------------------------------------------


def test_journal_names_the_session_and_redacts_the_key(pw):
    sid = create(pw)
    beat(pw, sid, key="game-key-secret")
    entry = pw.get("/__mock/requests", params={"api": "playwave"}).json()["requests"][-1]
    assert entry["operation"] == "playwave_heartbeat"
    assert entry["identity"] == sid
    assert entry["request"]["headers"]["x-api-key"] == "game-k***"
    assert entry["valid"] is True


def test_journal_marks_a_bad_body_invalid(pw):
    pw.patch(HB, json={}, headers={"X-Api-Key": KEY})
    entry = pw.get("/__mock/requests", params={"api": "playwave"}).json()["requests"][-1]
    assert entry["valid"] is False
    assert {v["key"] for v in entry["violations"]} == {"game_session_id", "provider_user_id"}


def _pc_records(server) -> int:
    from tests.conftest import store_snapshot

    return len(store_snapshot(server, "playwave").get("playwave:pc", {}))


def test_soak_pc_records_leave_the_store_after_their_retention(make_server):
    """issue 23 item 9: a PC's record (its current session, its launcher) is bounded too: a few
    hundred PCs, then the clock past pc_retention_seconds and the purge's lateness, then one
    request: none of them is stored any more."""
    server = make_server()  # its own gate: the purge runs on its first request
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.post("/__mock/clock/freeze").raise_for_status()
        for n in range(150):
            create(client, pc_id=f"soak-pc-{n}")
        for n in range(0, 150, 3):
            client.post(f"{CTL}/launchers/soak-pc-{n}/stop").raise_for_status()
        assert _pc_records(server) == 150
        advance(client, 3600 + 60 + 1)
        assert beat(client, "gs_never").status_code == 404
        assert _pc_records(server) == 0


def test_a_launcher_forgotten_after_its_retention_counts_as_alive(pw):
    """Assumed (spec): a PC record is kept pc_retention_seconds (3600 s) after its last change;
    decided when read, before any purge."""
    pw.post(f"{CTL}/launchers/pc-forgotten/stop").raise_for_status()
    advance(pw, 3600)
    assert pw.get(f"{CTL}/launchers/pc-forgotten").json()["alive"] is False
    advance(pw, 1)
    launcher = pw.get(f"{CTL}/launchers/pc-forgotten").json()
    assert launcher["alive"] is True and launcher["silent_since"] is None
    sid = create(pw, pc_id="pc-forgotten")  # a remembered stopped launcher would end it
    for _ in range(3):  # 360 s: well past launcher_timeout_seconds (240 s)
        advance(pw, 120)
        assert result(pw, sid) == "OK"
    assert view(pw, sid)["launcher"]["alive"] is True
