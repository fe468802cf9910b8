"""The cadence and conformance report, driven by the mock clock (statusbadge as the client)."""

from __future__ import annotations

import httpx

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
PID = "srv_pub_a3a9e1ed9732"


def beat(http, interval=None):
    data = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}
    if interval is not None:
        data["heartbeatIntervalSec"] = interval
    return http.post("/api/heartbeat", json={"token": TOKEN, "data": data})


def advance(http, s):
    http.post("/__mock/clock/advance", json={"seconds": s})


def client(report, api="statusbadge"):
    return report["apis"][api]["clients"][0]


def test_counts_requests_and_lists_invalid_ones_with_reasons(http):
    beat(http)
    http.post("/api/heartbeat", json={"token": TOKEN})
    r = http.get("/__mock/report").json()["apis"]["statusbadge"]
    assert (r["requests"], r["valid"], r["invalid"]) == (2, 1, 1)
    assert r["invalid_requests"][0]["violations"][0]["key"] == "data"
    assert r["statuses"] == {"200": 1, "400": 1}


def test_on_cadence_client_has_no_findings(http):
    http.post("/__mock/clock/freeze")
    for _ in range(4):
        beat(http, 30)
        advance(http, 30)
    c = client(http.get("/__mock/report").json())
    assert c["identity"] == PID and c["heartbeats"] == 4
    assert c["interval"] == {"min": 30, "median": 30, "max": 30}
    assert c["documented"]["interval"] == 30 and c["documented"]["stale"] == 60
    assert c["documented"]["ttl"] == 300  # issue 17: 004's KV TTL, not its stale timeout
    assert c["findings"] == []


def test_gaps_longer_than_the_timeout_are_reported_in_words(http):
    http.post("/__mock/clock/freeze")
    beat(http, 30)
    for gap in (30, 90, 30, 100):
        advance(http, gap)
        beat(http, 30)
    c = client(http.get("/__mock/report").json())
    assert (
        "interval 100 s exceeds the 60 s stale timeout: the server showed offline 2 times"
        in c["findings"]
    )
    assert c["interval"]["max"] == 100


def test_late_but_not_expired_intervals_are_reported(http):
    http.post("/__mock/clock/freeze")
    beat(http, 100)  # stale timeout 200 s
    advance(http, 150)
    beat(http, 100)
    c = client(http.get("/__mock/report").json())
    assert c["findings"] == ["1 interval(s) longer than the documented 100 s (longest 150 s)"]


def test_silence_longer_than_the_ttl_is_reported(http):
    http.post("/__mock/clock/freeze")
    beat(http, 30)
    advance(http, 120)
    c = client(http.get("/__mock/report").json())
    assert c["findings"] == [
        "silent for 120 s: longer than the 60 s stale timeout, so the server showed offline"
    ]


def test_silence_past_statusbadges_ttl_says_the_record_is_gone(http):
    """004: offline after the stale timeout, the KV record gone after 5 minutes (issue 17)."""
    http.post("/__mock/clock/freeze")
    beat(http, 30)
    advance(http, 400)
    beat(http, 30)
    advance(http, 301)
    c = client(http.get("/__mock/report").json())
    assert c["findings"] == [
        "interval 400 s exceeds the 300 s TTL: the server's record was gone once",
        "silent for 301 s: longer than the 300 s TTL, so the server's record was gone",
    ]


def test_text_form_is_readable(http):
    http.post("/__mock/clock/freeze")
    beat(http, 30)
    advance(http, 90)
    beat(http, 30)
    http.post("/api/heartbeat", json={})
    r = http.get("/__mock/report", params={"format": "text"})
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "statusbadge: 3 requests, 1 invalid" in text
    assert f"{PID}: 2 heartbeats" in text
    assert "exceeds the 60 s stale timeout" in text


def test_report_for_one_api_and_unknown_api(http):
    assert set(http.get("/__mock/report", params={"api": "statusbadge"}).json()["apis"]) == {
        "statusbadge"
    }
    assert http.get("/__mock/report", params={"api": "nope"}).status_code == 404


def test_the_report_sees_every_entry_of_a_journal_longer_than_a_read(make_server):
    """The report reads the journal a chunk at a time (journal.READ_CHUNK per API)."""
    from mockserver.journal import READ_CHUNK

    server = make_server(journal_cap=READ_CHUNK * 3)
    n = READ_CHUNK * 2 + 7
    with httpx.Client(base_url=server.url, timeout=30) as c:
        c.post("/__mock/clock/freeze")
        for i in range(n):
            beat(c, 30)
            if i % 50 == 0:
                c.post("/api/heartbeat", json={"token": TOKEN})
        r = c.get("/__mock/report").json()["apis"]["statusbadge"]
    invalid = len(range(0, n, 50))
    assert (r["requests"], r["invalid"]) == (n + invalid, invalid)
    (only,) = r["clients"]
    assert only["heartbeats"] == n and only["interval"]["max"] == 0


def test_the_text_report_names_a_fault_that_no_scenario_made(http):
    http.post("/__mock/faults", json={"api": "statusbadge", "status": 503, "times": 1})
    assert http.post("/api/heartbeat", json={"token": "x"}).status_code == 503
    text = http.get("/__mock/report", params={"format": "text"})
    assert text.status_code == 200, text.text
    assert "fault fault-1: 1 request, " in text.text


def playwave_beat(http, sid):
    body = {"game_session_id": sid, "provider_user_id": "123456789"}
    return http.patch("/v1/game/session/heartbeat", json=body, headers={"X-Api-Key": "k-1"})


def test_a_playwave_client_heartbeating_after_session_not_found_is_flagged(http):
    """002: clients stop heartbeating on 404 and 410 and on SESSION_REPLACED (issue 17)."""
    http.post("/__mock/clock/freeze")
    seeded = http.post("/__mock/playwave/sessions", json={"provider_user_id": "123456789"})
    sid = seeded.json()["game_session_id"]
    assert playwave_beat(http, sid).status_code == 200
    advance(http, 250)  # past the 240 s TTL: the session is gone
    told = playwave_beat(http, sid)
    assert told.status_code == 404
    advance(http, 120)
    assert playwave_beat(http, sid).status_code == 404
    at = http.get("/__mock/requests", params={"api": "playwave"}).json()["requests"][1]["at"]
    finding = (
        "kept heartbeating after the API told it to stop: 1 more heartbeat after "
        f"404 SESSION_NOT_FOUND at {at}"
    )
    (c,) = http.get("/__mock/report", params={"api": "playwave"}).json()["apis"]["playwave"][
        "clients"
    ]
    assert finding in c["findings"]
    for fmt in ("text", "html"):
        assert finding in http.get("/__mock/report", params={"format": fmt}).text


def test_a_playwave_client_that_stops_on_404_is_not_flagged(http):
    http.post("/__mock/clock/freeze")
    seeded = http.post("/__mock/playwave/sessions", json={"provider_user_id": "123456789"})
    sid = seeded.json()["game_session_id"]
    playwave_beat(http, sid)
    advance(http, 250)
    assert playwave_beat(http, sid).status_code == 404
    (c,) = http.get("/__mock/report").json()["apis"]["playwave"]["clients"]
    assert not [f for f in c["findings"] if "told it to stop" in f]


def test_stale_and_expired_are_told_apart_in_json_text_and_html(http):
    """004: offline after the 60 s stale timeout; the record gone only after its 300 s TTL."""
    http.post("/__mock/clock/freeze")
    beat(http, 30)
    advance(http, 100)
    report = http.get("/__mock/report").json()
    c = client(report)
    assert (c["documented"]["stale"], c["documented"]["ttl"]) == (60, 300)
    texts = [
        " ".join(c["findings"]),
        http.get("/__mock/report", params={"format": "text"}).text,
        http.get("/__mock/report", params={"format": "html"}).text,
    ]
    for text in texts:
        assert "stale timeout" in text and "showed offline" in text
        assert "expired" not in text and "record was gone" not in text
