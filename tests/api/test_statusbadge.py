"""statusbadge (seed 004) over real HTTP: every documented answer, the KV TTL and the badge rule."""

from __future__ import annotations

import hashlib
import uuid

import httpx
import pytest

from mockserver.http.gate import PURGE_EVERY
from tests.conftest import SEED_BODIES, advance, seed_body, store_snapshot

TOKEN = SEED_BODIES["statusbadge"]["token"]
SEED_DATA = seed_body("statusbadge")["data"]  # a private copy of the shared one
CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "Content-Type",
}


def derived(token: str) -> str:
    return "srv_pub_" + hashlib.sha256(token.removeprefix("sk_live_").encode()).hexdigest()[:12]


def body_with(**data):
    return {"token": f"sk_live_{uuid.uuid4()}", "data": {**SEED_DATA, **data}}


def test_seed_curl_example_gets_the_documented_answer(http):
    r = http.post("/api/heartbeat", json=seed_body("statusbadge"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {
        "success": True,
        "publicId": "srv_pub_a3a9e1ed9732",
        "message": "Heartbeat recorded successfully",
    }


def test_public_id_is_derived_by_the_documented_rule(http):
    body = body_with()
    r = http.post("/api/heartbeat", json=body)
    assert r.json()["publicId"] == derived(body["token"])


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"token": TOKEN},
        {"data": SEED_DATA},
        {"token": "", "data": SEED_DATA},
        {"token": None, "data": SEED_DATA},
        {"token": TOKEN, "data": None},
    ],
)
def test_missing_token_or_data_is_the_documented_400(http, payload):
    r = http.post("/api/heartbeat", json=payload)
    assert r.status_code == 400
    assert r.content == b'{"error":"Missing required fields: token and data"}'


@pytest.mark.parametrize(
    "token",
    [
        "sk_live_nope",
        "550e8400-e29b-41d4-a716-446655440000",
        "sk_test_550e8400-e29b-41d4-a716-446655440000",
        "sk_live_550e8400-e29b-11d4-a716-446655440000",
        42,
    ],
)
def test_bad_token_is_invalid_token_format(http, token):
    r = http.post("/api/heartbeat", json={"token": token, "data": SEED_DATA})
    assert r.status_code == 400
    assert r.content == b'{"error":"Invalid token format"}'


@pytest.mark.parametrize(
    ("content", "ctype", "needle"),
    [
        (b"{not json", "application/json", "malformed JSON"),
        (b"[1, 2]", "application/json", "body"),
        (b'{"token": "x", "token": "y"}', "application/json", "duplicate key"),
        (b'{"token": NaN}', "application/json", "NaN"),
        (b"\xa9\x11", "application/json", "UTF-8"),
        (b"token=1", "text/plain", "Content-type"),
    ],
)
def test_other_invalid_requests_are_bad_request_with_a_message(http, content, ctype, needle):
    r = http.post("/api/heartbeat", content=content, headers={"content-type": ctype})
    assert r.status_code == 400
    assert r.json()["error"] == "Bad Request"
    assert needle in r.json()["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("players", "many"), ("tps", None), ("status", 3), ("heartbeatIntervalSec", "30")],
)
def test_wrong_data_field_types_name_the_field(http, field, value):
    r = http.post("/api/heartbeat", json=body_with(**{field: value}))
    assert r.status_code == 400
    assert r.json()["error"] == "Bad Request"
    assert f"data.{field}" in r.json()["message"]


def test_missing_data_field_names_it(http):
    body = body_with()
    del body["data"]["version"]
    r = http.post("/api/heartbeat", json=body)
    assert r.json() == {"error": "Bad Request", "message": "data.version: required"}


def test_rejected_requests_store_nothing(http):
    http.post("/api/heartbeat", json={"token": TOKEN, "data": {"status": "online"}})
    http.post("/api/heartbeat", content=b"{", headers={"content-type": "application/json"})
    assert http.get("/__mock/statusbadge/servers").json()["count"] == 0


def test_heartbeat_is_stored_with_data_timestamp_and_interval(http):
    http.post("/__mock/clock/set", json={"now": "2026-04-08T21:35:00Z", "frozen": True})
    http.post("/api/heartbeat", json=seed_body("statusbadge"))
    servers = http.get("/__mock/statusbadge/servers").json()["servers"]
    assert len(servers) == 1
    s = servers[0]
    assert s["publicId"] == "srv_pub_a3a9e1ed9732"
    assert s["data"] == SEED_DATA
    assert s["lastHeartbeat"] == "2026-04-08T21:35:00Z"
    assert s["heartbeatIntervalSec"] == 30
    assert s["expiresAt"] == "2026-04-08T21:40:00Z"
    assert s["online"] is True


def test_entry_expires_after_the_300_second_ttl(http):
    http.post("/__mock/clock/freeze")
    http.post("/api/heartbeat", json=seed_body("statusbadge"))
    advance(http, 300)
    assert http.get("/api/status/srv_pub_a3a9e1ed9732").status_code == 200
    advance(http, 1)
    r = http.get("/api/status/srv_pub_a3a9e1ed9732")
    assert r.status_code == 404
    assert r.json()["error"] == "Not Found"
    assert http.get("/__mock/statusbadge/servers").json()["count"] == 0


def test_a_new_heartbeat_refreshes_the_ttl(http):
    http.post("/__mock/clock/freeze")
    http.post("/api/heartbeat", json=seed_body("statusbadge"))
    advance(http, 200)
    http.post("/api/heartbeat", json=seed_body("statusbadge"))
    advance(http, 200)
    assert http.get("/api/status/srv_pub_a3a9e1ed9732").json()["online"] is False  # 200 s > 60 s
    assert http.get("/__mock/statusbadge/servers").json()["servers"][0]["heartbeats"] == 2


@pytest.mark.parametrize(
    ("interval", "stale_ms"),
    [
        (30, 60_000),
        (10, 60_000),
        (60, 120_000),
        (100, 200_000),
        (150, 300_000),
        (1000, 300_000),
        (None, 300_000),
    ],
)
def test_stale_timeout_follows_the_documented_formula(http, interval, stale_ms):
    http.post("/__mock/clock/freeze")
    body = body_with(heartbeatIntervalSec=interval)
    if interval is None:
        del body["data"]["heartbeatIntervalSec"]
    pid = http.post("/api/heartbeat", json=body).json()["publicId"]
    status = http.get(f"/api/status/{pid}").json()
    assert status["staleTimeoutMs"] == stale_ms
    advance(http, stale_ms / 1000)
    assert http.get(f"/api/status/{pid}").json()["online"] is True
    advance(http, 1)
    if stale_ms < 300_000:
        after = http.get(f"/api/status/{pid}").json()
        assert after["online"] is False
        assert after["status"] == "offline"
    else:  # stale and expired at the same moment: the KV entry is gone
        assert http.get(f"/api/status/{pid}").status_code == 404


def test_badge_is_an_svg_that_turns_offline_then_not_found(http):
    http.post("/__mock/clock/freeze")
    pid = http.post("/api/heartbeat", json=seed_body("statusbadge")).json()["publicId"]
    r = http.get(f"/api/badge/{pid}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/svg+xml"
    assert "online 15/100" in r.text and r.text.startswith("<svg")
    advance(http, 61)
    assert "offline" in http.get(f"/api/badge/{pid}").text
    advance(http, 240)
    r = http.get(f"/api/badge/{pid}")
    assert r.status_code == 404 and "not found" in r.text


def test_badge_shows_the_reported_status_while_fresh(http):
    pid = http.post("/api/heartbeat", json=body_with(status="maintenance")).json()["publicId"]
    assert "maintenance 15/100" in http.get(f"/api/badge/{pid}").text


def test_malformed_public_id_is_bad_request(http):
    r = http.get("/api/status/srv_pub_XYZ")
    assert r.status_code == 400
    assert r.json()["error"] == "Bad Request"


@pytest.mark.parametrize(
    "path",
    ["/api/heartbeat", "/api/badge/srv_pub_a3a9e1ed9732", "/api/status/srv_pub_a3a9e1ed9732"],
)
def test_cors_preflight_answers_with_the_documented_headers(http, path):
    r = http.options(
        path, headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    )
    assert r.status_code == 204
    for name, value in CORS.items():
        assert r.headers[name] == value


def test_cors_headers_are_on_success_and_error_answers(http):
    for r in (
        http.post("/api/heartbeat", json=seed_body("statusbadge")),
        http.post("/api/heartbeat", json={}),
    ):
        for name, value in CORS.items():
            assert r.headers[name] == value


def test_wrong_method_is_405_with_allow(http):
    r = http.get("/api/heartbeat")
    assert r.status_code == 405
    assert "POST" in r.headers["allow"]
    assert r.json()["error"] == "Method Not Allowed"


def test_no_rate_limit(http):
    statuses = {
        http.post("/api/heartbeat", json=seed_body("statusbadge")).status_code for _ in range(30)
    }
    assert statuses == {200}


# --- bounded memory (issue 23) ----------------------------------------------------------------
def stored_records(server) -> int:
    return sum(len(records) for records in store_snapshot(server, "statusbadge").values())


def test_soak_dead_servers_leave_the_store(make_server):
    """A few hundred servers heard from once: after the TTL (and the purge's lateness) one
    request later the store holds only the server that just reported."""
    server = make_server()  # its own gate: the purge runs on its first request
    with httpx.Client(base_url=server.url) as client:
        client.post("/__mock/clock/freeze").raise_for_status()
        for _ in range(300):
            assert client.post("/api/heartbeat", json=body_with()).status_code == 200
        assert stored_records(server) == 300
        advance(client, 300 + PURGE_EVERY + 1)
        assert client.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 200
        assert stored_records(server) == 1


def test_the_purge_still_runs_after_the_clock_was_set_back(make_server):
    """The purge runs once a mock minute; a clock set back (reset, clock/set) must not stop it
    until the mock clock catches up with the old schedule."""
    server = make_server()
    with httpx.Client(base_url=server.url) as client:
        client.post("/__mock/clock/set", json={"now": "2031-01-01T00:00:00Z", "frozen": True})
        assert (
            client.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 200
        )  # schedules
        client.post("/__mock/clock/set", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
        for _ in range(20):
            assert client.post("/api/heartbeat", json=body_with()).status_code == 200
        advance(client, 300 + PURGE_EVERY + 1)
        assert client.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 200
        assert stored_records(server) == 1


def test_an_entry_whose_ttl_ends_past_9999_shows_the_last_instant_it_can(make_server):
    """The clock stays before 9001, but a long TTL setting may still end past 9999."""
    server = make_server(api_settings={"statusbadge": {"ttl_seconds": 40 * 365 * 86400 * 1000}})
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.post("/__mock/clock/set", json={"now": "9000-12-31T23:58:00Z", "frozen": True})
        pid = http.post("/api/heartbeat", json=seed_body("statusbadge")).json()["publicId"]
        status = http.get(f"/api/status/{pid}")
        assert status.status_code == 200
        assert status.json()["expiresAt"] == "9999-12-31T23:59:59Z"
        assert http.get("/__mock/statusbadge/servers").json()["servers"][0]["online"] is True
