"""State snapshots over real HTTP, on both stores: `GET /__mock/state` and `PUT /__mock/state`
(issue 18): what a snapshot holds, that restoring brings behaviour back, and that a bad document
is a 400 that changes nothing."""

from __future__ import annotations

import base64
import copy

import httpx
import pytest

from tests.conftest import seed_body

SONORAN_KEY = "sonoran-secret-key-0123456789"
LUCIT_TOKEN = "lucit-secret-token-0123456789"
BASIC_PASSWORD = "collect-secret-password-0123"
GAME_KEY = "playwave-game-key-0123456789"
LCUID = "LCUID-LD-550e8400-e29b-41d4-a716-446655440000"
APP_ID = "LCUID-LAP-550e8400-e29b-41d4-a716-446655440000"
SID = "gs_550e8400-e29b-41d4-a716-446655440000"
SONORAN = {"Authorization": f"Bearer {SONORAN_KEY}"}
PLAYWAVE = {"X-Api-Key": GAME_KEY}


def sonoran(http) -> int:
    r = http.post("/v2/general/servers/1/heartbeat", json={"playerCount": 1}, headers=SONORAN)
    return r.status_code


def set_up(http) -> None:
    """State in every API, the way a developer sets it up by hand."""
    http.post("/__mock/clock/set", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
    basic = base64.b64encode(f"agent:{BASIC_PASSWORD}".encode()).decode()
    calls = [
        http.post("/api/heartbeat", json=seed_body("statusbadge")),
        http.patch("/__mock/settings/sonoran", json={"rate_limit_per_minute": 2}),
        http.post(
            "/api/systems/heartbeat",
            json=seed_body("collect"),
            headers={"Authorization": f"Basic {basic}"},
        ),
        http.post(f"/__mock/lucit/devices/{LCUID}/instructions", json={"instruction": "reboot"}),
        http.post(
            "/__mock/playwave/sessions",
            json={
                "provider_user_id": "123456789",
                "game_session_id": SID,
                "game_api_key": GAME_KEY,
            },
        ),
    ]
    assert all(r.status_code < 300 for r in calls), [r.text for r in calls]
    assert [sonoran(http), sonoran(http)] == [200, 200]  # the key's window is full


def test_a_snapshot_holds_every_api_s_records_and_the_clock(http):
    set_up(http)
    doc = http.get("/__mock/state").json()
    assert doc["format"] == 1 and doc["mock"] == "heartbeat-mockserver"
    assert doc["clock"] == {"now": "2030-01-01T00:00:00.000000Z", "frozen": True}
    assert set(doc["apis"]["statusbadge"]["servers"]) == {"srv_pub_a3a9e1ed9732"}
    assert set(doc["apis"]["sonoran"]) == {"heartbeats", "windows"}
    assert set(doc["apis"]["collect"]["systems"]) == {seed_body("collect")["system_id"]}
    assert len(doc["apis"]["lucit"]["devices"]) == 1
    assert set(doc["apis"]["playwave"]["s"]) == {SID}
    assert "requests" not in doc and "faults" not in str(doc["apis"])


def test_a_snapshot_holds_no_credential_but_a_seeded_game_key(http):
    """README: records are keyed by digests; the one credential kept is the game API key a
    PlayWave session was seeded with, which its heartbeats are compared with."""
    set_up(http)
    http.post(
        f"/api/v3/analytics/lightning-devices/{LCUID}/heartbeat",
        json=seed_body("lucit"),
        headers={"Authorization": f"Bearer {LUCIT_TOKEN}", "AppIdV3": APP_ID},
    )
    text = http.get("/__mock/state").text
    for secret in (SONORAN_KEY, LUCIT_TOKEN, BASIC_PASSWORD, seed_body("statusbadge")["token"]):
        assert secret not in text
    assert GAME_KEY in text


def test_restoring_brings_the_state_back_after_a_reset(http):
    set_up(http)
    doc = http.get("/__mock/state").json()
    http.post("/__mock/reset")
    assert http.get("/__mock/statusbadge/servers").json()["count"] == 0
    r = http.put("/__mock/state", json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["restored"]["playwave"] == {"s": 1}
    assert r.json()["clock"]["now"] == "2030-01-01T00:00:00.000000Z" and r.json()["clock"]["frozen"]
    assert http.get("/__mock/state").json() == doc
    # ... and the mock behaves as before: the session answers, the window is still full,
    http.patch("/__mock/settings/sonoran", json={"rate_limit_per_minute": 2})
    beat = http.patch("/v1/game/session/heartbeat", json=seed_body("playwave"), headers=PLAYWAVE)
    assert beat.status_code == 200 and beat.json()["data"]["result"] == "OK"
    assert sonoran(http) == 429
    # the instruction is delivered once, and the badge is online.
    lucit = http.post(
        f"/api/v3/analytics/lightning-devices/{LCUID}/heartbeat",
        json=seed_body("lucit"),
        headers={"Authorization": f"Bearer {LUCIT_TOKEN}", "AppIdV3": APP_ID},
    )
    assert lucit.json()["lightning_device_remote_instruction"]["instruction"] == "reboot"
    assert http.get("/api/status/srv_pub_a3a9e1ed9732").json()["online"] is True


def test_restoring_replaces_the_whole_state(http):
    set_up(http)
    empty = {"format": 1, "clock": {"now": "2031-06-01T12:00:00Z", "frozen": False}, "apis": {}}
    r = http.put("/__mock/state", json=empty)
    assert r.status_code == 200 and all(v == {} for v in r.json()["restored"].values())
    doc = http.get("/__mock/state").json()
    assert all(spaces == {} for spaces in doc["apis"].values())
    assert doc["clock"]["frozen"] is False and doc["clock"]["now"].startswith("2031-06-01T12:00")


def test_restoring_keeps_the_journal_and_fault_rules(http):
    set_up(http)
    doc = http.get("/__mock/state").json()
    http.post("/__mock/faults", json={"api": "statusbadge", "status": 500})
    journal = http.get("/__mock/requests").json()["count"]
    assert http.put("/__mock/state", json=doc).status_code == 200
    assert http.get("/__mock/requests").json()["count"] == journal
    assert len(http.get("/__mock/faults").json()["faults"]) == 1


def _damaged(doc: dict, how: str) -> dict:
    doc = copy.deepcopy(doc)
    session = doc["apis"]["playwave"]["s"][SID]
    if how == "format":
        doc["format"] = 99
    elif how == "no-clock":
        del doc["clock"]
    elif how == "clock-time":
        doc["clock"]["now"] = "not a time"
    elif how == "unknown-api":
        doc["apis"]["nope"] = {}
    elif how == "unknown-namespace":
        doc["apis"]["sonoran"]["elsewhere"] = {"k": {}}
    elif how == "record-field-type":
        session["h"] = "yesterday"
    elif how == "record-missing-field":
        del session["u"]
    elif how == "record-unknown-field":
        session["zz"] = 1
    elif how == "time-out-of-range":
        session["c"] = 1e300
    elif how == "expires-at-text":
        session["expires_at"] = "soon"
    elif how == "record-not-object":
        doc["apis"]["playwave"]["s"][SID] = [session]
    elif how == "faults":
        doc["apis"]["sonoran"]["faults"] = {}
    return doc


HOW = [
    "format",
    "no-clock",
    "clock-time",
    "unknown-api",
    "unknown-namespace",
    "record-field-type",
    "record-missing-field",
    "record-unknown-field",
    "time-out-of-range",
    "expires-at-text",
    "record-not-object",
    "faults",
]


@pytest.mark.parametrize("how", HOW)
def test_a_bad_document_is_a_400_and_changes_nothing(http, how):
    set_up(http)
    doc = http.get("/__mock/state").json()
    http.post("/api/heartbeat", json={**seed_body("statusbadge"), "token": "sk_live_" + SID[3:]})
    before = http.get("/__mock/state").json()
    r = http.put("/__mock/state", json=_damaged(doc, how))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["kind"] == "validation" and r.json()["error"]["message"]
    assert http.get("/__mock/state").json() == before


@pytest.mark.parametrize("body", [b"[]", b"not json", b'{"format": 1}'])
def test_a_document_that_is_no_snapshot_is_a_400(http, body):
    r = http.put("/__mock/state", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["kind"] == "validation"


def test_a_snapshot_moves_between_two_mocks(http, make_server):
    set_up(http)
    doc = http.get("/__mock/state").json()
    other = make_server()
    with httpx.Client(base_url=other.url) as second:
        assert second.put("/__mock/state", json=doc).status_code == 200
        beat = second.patch(
            "/v1/game/session/heartbeat", json=seed_body("playwave"), headers=PLAYWAVE
        )
        assert beat.status_code == 200
        assert (
            second.get("/__mock/state").json()["apis"]["statusbadge"] == doc["apis"]["statusbadge"]
        )


def test_a_snapshot_of_a_mock_with_more_apis_names_the_one_this_mock_lacks(http, make_server):
    set_up(http)
    doc = http.get("/__mock/state").json()
    only = make_server(apis=["statusbadge"])
    with httpx.Client(base_url=only.url) as second:
        r = second.put("/__mock/state", json=doc)
        assert r.status_code == 400 and "is not an enabled API" in r.json()["error"]["message"]
        doc["apis"] = {"statusbadge": doc["apis"]["statusbadge"]}
        assert second.put("/__mock/state", json=doc).status_code == 200
