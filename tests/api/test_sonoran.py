"""Sonoran CAD v2 heartbeat (seed 000) over real HTTP: the documented answer, the per-key rate
limit on the mock clock, configured servers, credentials and bad input."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import pytest

from mockserver.app import build_app
from mockserver.http.gate import PURGE_EVERY
from mockserver.server import BackgroundServer
from mockserver.settings import SettingsError, load_settings
from tests.conftest import advance, seed_body, store_snapshot

KEY = "YOUR_API_KEY"
PATH = "/v2/general/servers/{}/heartbeat"
T0 = "2026-04-08T21:35:00Z"
DAY = 86400  # the default heartbeat_retention_seconds


def heartbeat(client, server=1, count=42, key=KEY, **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return client.post(PATH.format(server), json={"playerCount": count}, headers=headers, **kwargs)


def freeze(client, at=T0):
    client.post("/__mock/clock/set", json={"now": at, "frozen": True}).raise_for_status()


def servers(client):
    return client.get("/__mock/sonoran/servers").json()["servers"]


def exhaust(client, key=KEY, n=10):
    for _ in range(n):
        assert heartbeat(client, key=key).status_code == 200


# --- the documented answer --------------------------------------------------------------------


def test_seed_curl_example_gets_200_echoing_the_request(http):
    freeze(http)
    r = http.post(
        PATH.format(1),
        content=json.dumps(seed_body("sonoran"), indent=2),  # as the curl example lays it out
        headers={
            "Authorization": f"Bearer {KEY}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"serverId": 1, "playerCount": 42, "receivedAtUtc": T0}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_seed_curl_command_works_with_only_the_url_changed(http, live_server):
    freeze(http)
    out = subprocess.run(
        ["curl", "--silent", "--show-error", "--request", "POST",
         "--url", f"{live_server.url}/v2/general/servers/1/heartbeat",
         "--header", "Authorization: Bearer YOUR_API_KEY",
         "--header", "Accept: application/json",
         "--header", "Content-Type: application/json",
         "--data", '{\n  "playerCount": 42\n}'],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert httpx.Response(200, content=out.stdout).json() == {
        "serverId": 1,
        "playerCount": 42,
        "receivedAtUtc": T0,
    }


def test_answer_echoes_path_server_and_body_player_count(http):
    r = heartbeat(http, server=7, count=64)
    assert r.json()["serverId"] == 7
    assert r.json()["playerCount"] == 64


def test_received_at_is_the_mock_clock_in_whole_utc_seconds(http):
    freeze(http, "2031-01-02T03:04:05.750Z")
    assert heartbeat(http).json()["receivedAtUtc"] == "2031-01-02T03:04:05Z"


def test_player_count_bounds_are_accepted(http):
    assert heartbeat(http, count=0).status_code == 200
    assert heartbeat(http, count=10000).status_code == 200


def test_extra_body_properties_are_ignored(http):
    r = http.post(
        PATH.format(1),
        json={"playerCount": 3, "maxPlayers": 64},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert r.status_code == 200
    assert r.json()["playerCount"] == 3


# --- state: the latest heartbeat per key and server -------------------------------------------


def test_latest_heartbeat_per_key_and_server_is_listed(http):
    freeze(http)
    heartbeat(http, server=1, count=10, key="community-key-one")
    advance(http, 30)
    heartbeat(http, server=1, count=12, key="community-key-one")
    heartbeat(http, server=2, count=5, key="community-key-one")
    heartbeat(http, server=1, count=99, key="another-key-two")
    listed = servers(http)
    assert len(listed) == 3
    one = [s for s in listed if s["apiKey"] == "commun***"]
    assert {s["serverId"]: s["playerCount"] for s in one} == {1: 12, 2: 5}
    first = next(s for s in one if s["serverId"] == 1)
    assert first["heartbeats"] == 2
    assert first["firstSeenUtc"] == T0
    assert first["receivedAtUtc"] == "2026-04-08T21:35:30Z"
    other = next(s for s in listed if s["apiKey"] == "anothe***")
    assert (other["serverId"], other["playerCount"]) == (1, 99)
    assert other["keyId"] != first["keyId"]


def test_listing_never_shows_a_whole_api_key(http):
    heartbeat(http, key="secret-community-key-123")
    text = http.get("/__mock/sonoran/servers").text
    assert "secret-community-key-123" not in text
    assert "secret***" in text


def test_listing_says_when_each_entry_is_forgotten(http):
    freeze(http)
    heartbeat(http)
    assert servers(http)[0]["expiresAtUtc"] == "2026-04-09T21:35:00Z"  # one day later


def test_heartbeat_is_forgotten_after_the_retention_even_before_the_purge(http, live_server):
    freeze(http)
    heartbeat(http)
    advance(http, DAY)
    assert len(servers(http)) == 1  # the last instant of the retention is included
    advance(http, 1)
    assert servers(http) == []
    # No native request since, so no purge ran: the record is still stored, and hidden.
    assert store_snapshot(live_server, "sonoran")["sonoran:heartbeats"]


def test_a_heartbeat_after_the_retention_starts_the_count_over(http):
    freeze(http)
    heartbeat(http)
    heartbeat(http)
    advance(http, DAY + 1)
    heartbeat(http, count=3)
    [entry] = servers(http)
    assert (entry["heartbeats"], entry["playerCount"]) == (1, 3)
    assert entry["firstSeenUtc"] == "2026-04-09T21:35:01Z"


def test_retention_is_a_setting(make_server):
    server = make_server(api_settings={"sonoran": {"heartbeat_retention_seconds": 60}})
    with httpx.Client(base_url=server.url) as client:
        freeze(client)
        heartbeat(client)
        advance(client, 60)
        assert len(servers(client)) == 1
        advance(client, 0.5)
        assert servers(client) == []


def test_records_of_many_fresh_keys_are_purged_after_the_retention(make_server):
    """Bounded memory (issue 23 item 9): heartbeat records and rate windows of keys that went
    silent are dropped once their retention has passed, on either store. A server of its own:
    its purge schedule starts with this test."""
    server = make_server()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        freeze(client)
        for i in range(300):
            key = f"soak-{uuid.uuid4().hex}"
            assert heartbeat(client, server=i + 1, key=key).status_code == 200
        stored = store_snapshot(server, "sonoran")
        assert {ns: len(records) for ns, records in stored.items()} == {
            "sonoran:heartbeats": 300,
            "sonoran:windows": 300,
        }
        advance(client, DAY + PURGE_EVERY + 1)
        assert heartbeat(client, key="the-one-after").status_code == 200  # runs the purge
        stored = store_snapshot(server, "sonoran")
        assert {ns: len(records) for ns, records in stored.items()} == {
            "sonoran:heartbeats": 1,
            "sonoran:windows": 1,
        }
        assert [s["apiKey"] for s in servers(client)] == ["the-on***"]


def test_reset_forgets_heartbeats(http):
    heartbeat(http)
    http.post("/__mock/reset", params={"api": "sonoran"}).raise_for_status()
    assert servers(http) == []


# --- credentials ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer =abc", "Basic WU9VUl9BUElfS0VZOng=", "Token YOUR_API_KEY",
     "YOUR_API_KEY", "Bearer two words", "Bearer key;drop", 'Bearer "quoted"'],
)  # fmt: skip
def test_missing_or_malformed_bearer_is_401_and_stores_nothing(http, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    r = http.post(PATH.format(1), json={"playerCount": 1}, headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"] == "UNAUTHORIZED"
    assert r.json()["message"]
    assert servers(http) == []


def test_bearer_scheme_is_case_insensitive(http):
    r = http.post(PATH.format(1), json={"playerCount": 1}, headers={"Authorization": "bearer k"})
    assert r.status_code == 200


def test_auth_is_checked_before_the_body(http):
    r = http.post(PATH.format(1), json={"playerCount": -5})
    assert r.status_code == 401


def test_pinned_api_keys_reject_every_other_key(make_server):
    server = make_server(api_settings={"sonoran": {"api_keys": ["pinned-key"]}})
    with httpx.Client(base_url=server.url) as client:
        assert heartbeat(client, key="pinned-key").status_code == 200
        r = heartbeat(client, key="some-other-key")
        assert r.status_code == 401
        assert r.json()["error"] == "UNAUTHORIZED"
        assert [s["apiKey"] for s in servers(client)] == ["pinned***"]


# --- configured servers -----------------------------------------------------------------------


def test_pinned_server_list_makes_other_ids_404(make_server):
    server = make_server(api_settings={"sonoran": {"server_ids": [1, 2]}})
    with httpx.Client(base_url=server.url) as client:
        assert heartbeat(client, server=2).status_code == 200
        r = heartbeat(client, server=3)
        assert r.status_code == 404
        assert r.json() == {
            "error": "SERVER_NOT_FOUND",
            "message": "server 3 is not configured for this community",
        }
        assert [s["serverId"] for s in servers(client)] == [2]


def test_unknown_server_does_not_take_a_rate_slot(make_server):
    server = make_server(api_settings={"sonoran": {"server_ids": [1]}})
    with httpx.Client(base_url=server.url) as client:
        freeze(client)
        for _ in range(5):
            assert heartbeat(client, server=9).status_code == 404
        exhaust(client)
        assert heartbeat(client).status_code == 429


def test_key_over_its_limit_gets_429_even_for_an_unknown_server(make_server):
    server = make_server(api_settings={"sonoran": {"server_ids": [1]}})
    with httpx.Client(base_url=server.url) as client:
        freeze(client)
        exhaust(client)
        assert heartbeat(client, server=9).status_code == 429


def test_any_positive_server_id_is_configured_by_default(http):
    assert heartbeat(http, server=2147483647).status_code == 200


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key", "rule"),
    [
        ({"playerCount": -1}, "playerCount", "minimum"),
        ({"playerCount": 10001}, "playerCount", "maximum"),
        ({"playerCount": 10**20}, "playerCount", "maximum"),
        ({"playerCount": "42"}, "playerCount", "type"),
        ({"playerCount": 4.5}, "playerCount", "type"),
        ({"playerCount": 42.0}, "playerCount", "type"),
        ({"playerCount": True}, "playerCount", "type"),
        ({"playerCount": None}, "playerCount", "type"),
        ({}, "playerCount", "required"),
        ({"players": 42}, "playerCount", "required"),
        ([42], "body", "type"),
        ("42", "body", "type"),
    ],
)
def test_invalid_body_is_400_naming_the_field_and_stores_nothing(http, body, key, rule):
    r = http.post(PATH.format(1), json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/json"
    data = r.json()
    assert data["error"] == "INVALID_REQUEST"
    assert [(e["key"], e["rule"], e["location"]) for e in data["errors"]] == [(key, rule, "body")]
    assert key in data["message"]
    assert servers(http) == []


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{", "malformed JSON"),
        (b'{"playerCount": 1, "playerCount": 2}', "duplicate key"),
        (b'{"playerCount": NaN}', "NaN"),
        (b"\xa9\x11", "UTF-8"),
        (b"", "required"),
        (b"null", "required"),
    ],
)
def test_malformed_json_is_400_and_stores_nothing(http, content, needle):
    r = http.post(
        PATH.format(1),
        content=content,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"] == "INVALID_REQUEST"
    assert needle in r.json()["message"]
    assert servers(http) == []


@pytest.mark.parametrize("server", ["0", "-1", "+0", "2147483648", "99999999999999999999"])
def test_out_of_range_server_id_is_400_and_stores_nothing(http, server):
    r = heartbeat(http, server=server)
    assert r.status_code == 400
    assert r.json()["error"] == "INVALID_REQUEST"
    assert [(e["key"], e["location"]) for e in r.json()["errors"]] == [("serverId", "path")]
    assert servers(http) == []


def raw_heartbeat(server: BackgroundServer, path: str) -> tuple[int, str, bytes]:
    """POST with http.client: httpx refuses URLs over 64 KiB before sending them."""
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        body = b'{"playerCount": 1}'
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("digits", [4301, 60000])
def test_server_id_of_thousands_of_digits_is_400_and_changes_nothing(http, live_server, digits):
    """Issue 23 item 3: 4,301 digits and more once answered 500 (Python's int-from-string
    limit); the answer must be Sonoran's own 400, and nothing may be stored. (A request line over
    64 KiB never reaches the mock: the HTTP server refuses it; README, "Running it safely".)"""
    heartbeat(http)
    before = store_snapshot(live_server, "sonoran")
    status, ctype, body = raw_heartbeat(live_server, PATH.format("9" * digits))
    assert (status, ctype) == (400, "application/json")
    answer = httpx.Response(status, content=body).json()
    assert answer["error"] == "INVALID_REQUEST"
    assert [(e["key"], e["location"]) for e in answer["errors"]] == [("serverId", "path")]
    assert store_snapshot(live_server, "sonoran") == before


@pytest.mark.parametrize("server", ["abc", "1.5", "1e3", "%20"])
def test_non_integer_server_id_is_no_route_404_and_stores_nothing(http, server):
    r = heartbeat(http, server=server)
    assert r.status_code == 404
    assert r.json()["error"] == "NOT_FOUND"
    assert servers(http) == []


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415_and_stores_nothing(http, ctype):
    r = http.post(
        PATH.format(1),
        content=b"playerCount=42",
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": ctype},
    )
    assert r.status_code == 415
    assert r.json()["error"] == "UNSUPPORTED_MEDIA_TYPE"
    assert servers(http) == []


def test_oversized_body_is_413(make_server):
    server = make_server(max_body_bytes=64)
    with httpx.Client(base_url=server.url) as client:
        r = client.post(
            PATH.format(1),
            content=b'{"playerCount": 1, "pad": "' + b"x" * 100 + b'"}',
            headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        )
        assert r.status_code == 413
        assert r.json()["error"] == "PAYLOAD_TOO_LARGE"
        assert servers(client) == []


def test_rejected_requests_do_not_take_rate_slots(http):
    freeze(http)
    auth = {"Authorization": f"Bearer {KEY}"}
    for _ in range(3):
        assert http.post(PATH.format(1), json={"playerCount": -1}, headers=auth).status_code == 400
        assert heartbeat(http, server=0).status_code == 400
        plain = {**auth, "Content-Type": "text/plain"}
        assert http.post(PATH.format(1), content=b"x", headers=plain).status_code == 415
    exhaust(http)


def test_wrong_method_is_405_with_allow(http):
    r = http.get(PATH.format(1), headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.json()["error"] == "METHOD_NOT_ALLOWED"


def test_unknown_v2_route_is_404_in_the_api_format(http):
    r = http.post("/v2/general/servers/1/heartbeats", json={"playerCount": 1})
    assert r.status_code == 404
    assert r.json()["error"] == "NOT_FOUND"


# --- the rate limit: 10 requests per minute per API key, on the mock clock ---------------------


def test_eleventh_request_in_a_minute_gets_429_with_retry_after(http):
    freeze(http)
    exhaust(http)
    r = heartbeat(http)
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/json"
    assert r.headers["retry-after"] == "60"
    assert r.json() == {
        "error": "RATE_LIMITED",
        "message": "rate limit of 10 requests per minute exceeded for this API key; "
        "retry in 60 seconds",
        "retryAfter": 60,
    }


def test_429_stores_nothing(http):
    freeze(http)
    exhaust(http)
    heartbeat(http, count=77)
    assert servers(http)[0]["playerCount"] == 42
    assert servers(http)[0]["heartbeats"] == 10


def test_retry_after_is_the_time_until_the_oldest_request_leaves_the_window(http):
    freeze(http)
    heartbeat(http)  # T+0
    advance(http, 10)
    exhaust(http, n=9)  # T+10
    advance(http, 20)
    assert heartbeat(http).headers["retry-after"] == "30"  # T+30: T+0 frees at T+60
    advance(http, 29.5)
    r = heartbeat(http)
    assert r.headers["retry-after"] == "1"  # 0.5 s left, rounded up
    advance(http, 0.5)
    assert heartbeat(http).status_code == 200  # T+60: the T+0 slot is free
    r = heartbeat(http)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "10"  # the T+10 requests free at T+70


def test_waiting_retry_after_always_gets_the_next_request_in(http):
    freeze(http)
    for _ in range(10):
        assert heartbeat(http).status_code == 200
        advance(http, 5.3)
    for _ in range(5):
        r = heartbeat(http)
        assert r.status_code == 429
        wait = int(r.headers["retry-after"])
        advance(http, wait - 1)
        assert heartbeat(http).status_code == 429
        advance(http, 1)
        assert heartbeat(http).status_code == 200


def test_window_slides_instead_of_resetting_each_minute(http):
    freeze(http, "2026-04-08T21:35:50Z")
    exhaust(http)
    advance(http, 15)  # 21:36:05: a new calendar minute, but all ten are within 60 s
    r = heartbeat(http)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "45"


def test_rejected_requests_do_not_push_the_window_back(http):
    freeze(http)
    exhaust(http)
    for _ in range(5):
        advance(http, 11)
        assert heartbeat(http).status_code == 429
    advance(http, 5)  # T+60
    assert heartbeat(http).status_code == 200


def test_limit_is_per_api_key(http):
    freeze(http)
    exhaust(http, key="key-a")
    assert heartbeat(http, key="key-b").status_code == 200
    assert heartbeat(http, key="key-a").status_code == 429


def test_limit_counts_all_servers_of_a_key(http):
    freeze(http)
    for server in (1, 2, 3, 4, 5) * 2:
        assert heartbeat(http, server=server).status_code == 200
    r = heartbeat(http, server=6)
    assert r.status_code == 429
    assert r.json()["error"] == "RATE_LIMITED"


def test_reset_forgets_rate_windows(http):
    freeze(http)
    exhaust(http)
    http.post("/__mock/reset", params={"api": "sonoran"}).raise_for_status()
    assert heartbeat(http).status_code == 200


def test_concurrent_requests_never_exceed_the_limit(http, live_server):
    freeze(http)

    def send(_):
        with httpx.Client(base_url=live_server.url, timeout=10) as client:
            return heartbeat(client).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(30)))
    assert statuses.count(200) == 10
    assert statuses.count(429) == 20


def test_rate_limit_setting_changes_the_limit(make_server):
    server = make_server(api_settings={"sonoran": {"rate_limit_per_minute": 3}})
    with httpx.Client(base_url=server.url) as client:
        freeze(client)
        exhaust(client, n=3)
        r = heartbeat(client)
        assert r.status_code == 429
        assert "3 requests per minute" in r.json()["message"]


def test_rate_limit_zero_turns_it_off(make_server):
    server = make_server(api_settings={"sonoran": {"rate_limit_per_minute": 0}})
    with httpx.Client(base_url=server.url) as client:
        freeze(client)
        exhaust(client, n=25)


def test_injected_429_fault_has_retry_after_and_the_api_format(http):
    http.post(
        "/__mock/faults", json={"api": "sonoran", "status": 429, "times": 1}
    ).raise_for_status()
    r = heartbeat(http)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "60"
    assert r.json()["error"] == "RATE_LIMITED"
    assert r.json()["retryAfter"] == 60


# --- settings ---------------------------------------------------------------------------------


def sonoran_config(env):
    return build_app(load_settings(env=env)).ctx.apis["sonoran"].config


def test_documented_defaults():
    config = sonoran_config({})
    assert (config.rate_limit_per_minute, config.server_ids, config.api_keys) == (10, None, None)
    assert config.heartbeat_retention_seconds == DAY


@pytest.mark.parametrize(
    ("env", "field", "value"),
    [
        ({"MOCKSERVER_SONORAN__RATE_LIMIT_PER_MINUTE": "0"}, "rate_limit_per_minute", 0),
        ({"MOCKSERVER_SONORAN__SERVER_IDS": "[1, 2]"}, "server_ids", [1, 2]),
        ({"MOCKSERVER_SONORAN__SERVER_IDS": "1,2"}, "server_ids", [1, 2]),
        ({"MOCKSERVER_SONORAN__SERVER_IDS": "3"}, "server_ids", [3]),
        ({"MOCKSERVER_SONORAN__API_KEYS": "key-a,key-b"}, "api_keys", ["key-a", "key-b"]),
        ({"MOCKSERVER_SONORAN__API_KEYS": '["key-a"]'}, "api_keys", ["key-a"]),
        (
            {"MOCKSERVER_SONORAN__HEARTBEAT_RETENTION_SECONDS": "3600"},
            "heartbeat_retention_seconds",
            3600,
        ),
    ],
)
def test_settings_from_the_environment(env, field, value):
    assert getattr(sonoran_config(env), field) == value


@pytest.mark.parametrize(
    "env",
    [
        {"MOCKSERVER_SONORAN__RATE_LIMIT_PER_MINUTE": "-1"},
        {"MOCKSERVER_SONORAN__RATE_LIMIT_PER_MINUTE": "ten"},
        {"MOCKSERVER_SONORAN__SERVER_IDS": "one,two"},
        {"MOCKSERVER_SONORAN__SERVER_IDS": "[0]"},
        {"MOCKSERVER_SONORAN__API_KEYS": "has space"},
        {"MOCKSERVER_SONORAN__WINDOW": "30"},
        {"MOCKSERVER_SONORAN__API_KEYS": "[]"},
        {"MOCKSERVER_SONORAN__SERVER_IDS": "[]"},
        {"MOCKSERVER_SONORAN__HEARTBEAT_RETENTION_SECONDS": "-1"},
        {"MOCKSERVER_SONORAN__HEARTBEAT_RETENTION_SECONDS": "forever"},
        {"MOCKSERVER_SONORAN__HEARTBEAT_RETENTION_SECONDS": "1e300"},
        {"MOCKSERVER_SONORAN__HEARTBEAT_RETENTION_SECONDS": "true"},
    ],
)
def test_invalid_settings_are_refused_in_one_line(env):
    with pytest.raises(SettingsError, match="sonoran|server_ids|api_keys|rate_limit|retention"):
        sonoran_config(env)
