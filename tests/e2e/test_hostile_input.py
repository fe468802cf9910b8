"""Hostile request input (issue 23, items 1-6 and 13): media types in any case, no media type,
huge numbers, header bytes that are not UTF-8, lone surrogates, out-of-range times and trailing
slashes. Each gets the API's own answer (a 2xx where the request means what a valid one means,
else its 4xx in its own format), never a 5xx, a redirect or problem+json, and a rejected request
changes nothing. Over real HTTP, on both stores."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.conftest import store_snapshot

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
APP_ID = "LCUID-LAP-5c43c6e0-e03d-45ff-92b1-1bd05122dcb3"
BASIC = "Basic " + base64.b64encode(b"user:pass").decode()
STATUS = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}
SESSION = {"game_session_id": "gs_hostile", "provider_user_id": "42"}

# One valid heartbeat per API: method, path, credential headers, body.
HEARTBEATS = {
    "statusbadge": ("POST", "/api/heartbeat", {}, {"token": TOKEN, "data": STATUS}),
    "sonoran": (
        "POST",
        "/v2/general/servers/1/heartbeat",
        {"Authorization": "Bearer hostile-key"},
        {"playerCount": 3},
    ),
    "collect": ("POST", "/api/systems/heartbeat", {"Authorization": BASIC}, {"system_id": "s-1"}),
    "lucit": (
        "POST",
        "/api/v3/analytics/lightning-devices/dev-1/heartbeat",
        {"Authorization": "Bearer hostile-token", "AppIdV3": APP_ID},
        {"lightning_version": "2.1"},
    ),
    "playwave": ("PATCH", "/v1/game/session/heartbeat", {"X-Api-Key": "hostile-key"}, SESSION),
}

# Every control route that takes a body, with a valid body.
CONTROL_BODIES = {
    "clock/advance": ("/__mock/clock/advance", {"seconds": 5}),
    "clock/set": ("/__mock/clock/set", {"now": "2031-02-03T04:05:06Z"}),
    "faults": ("/__mock/faults", {"api": "sonoran", "status": 503, "times": 1}),
    "playwave/sessions": ("/__mock/playwave/sessions", {"provider_user_id": "7"}),
    "lucit/instructions": ("/__mock/lucit/devices/dev-1/instructions", {"instruction": "reload"}),
    "collect/external-errors": ("/__mock/collect/external-errors", {"times": 1}),
}

# Each API's own 404 for a route it doesn't have, told apart by a field of its format.
NOT_FOUND = {
    "statusbadge": lambda b: b["error"] == "Not Found",
    "sonoran": lambda b: b["error"] == "NOT_FOUND",
    "collect": lambda b: b["code"] == 404,
    "lucit": lambda b: "could not be found" in b["message"],
    "playwave": lambda b: b["error"]["code"] == "NOT_FOUND",
}


def heartbeat(http: httpx.Client, name: str, *, content: bytes | None = None, **headers):
    method, path, auth, body = HEARTBEATS[name]
    raw = json.dumps(body).encode() if content is None else content
    return http.request(method, path, content=raw, headers={**auth, **headers})


def seed(http: httpx.Client, name: str) -> None:
    if name == "playwave":
        http.post("/__mock/playwave/sessions", json=SESSION).raise_for_status()


def everything(server, http: httpx.Client) -> dict:
    """Every API's records and the mock clock, for "a rejected request changes nothing"."""
    state = {name: store_snapshot(server, name) for name in HEARTBEATS}
    state["clock"] = {k: v for k, v in http.get("/__mock/clock").json().items() if k == "frozen"}
    return state


def clock_at(http: httpx.Client) -> dict:
    """The mock clock's reading (a frozen clock's offset drifts with real time; its time not)."""
    clock = http.get("/__mock/clock").json()
    return {k: clock[k] for k in ("now", "epoch", "frozen")}


def assert_not_broken(r: httpx.Response) -> None:
    assert r.status_code < 500, (r.status_code, r.text)
    assert not 300 <= r.status_code < 400, (r.status_code, r.headers)
    assert "problem+json" not in r.headers.get("content-type", ""), r.text


def assert_standard_json(r: httpx.Response) -> None:
    """A 200 whose body is standard JSON (RFC 8259: no NaN or Infinity)."""

    def refuse(name):
        raise AssertionError(f"{name} in {r.request.url}")

    assert r.status_code == 200, r.text
    json.loads(r.content, parse_constant=refuse)


def assert_control_error(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"]["status"] == status, r.text


# --- 1. media types are case-insensitive ---------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["Application/Json", "APPLICATION/JSON; charset=UTF-8", "application/JSON;Charset=utf-8"],
)
@pytest.mark.parametrize("name", list(HEARTBEATS))
def test_json_in_any_case_is_json(http, name, content_type):
    seed(http, name)
    expected = heartbeat(http, name, **{"Content-Type": "application/json"})
    assert expected.status_code < 300, expected.text
    r = heartbeat(http, name, **{"Content-Type": content_type})
    assert r.status_code == expected.status_code, r.text
    assert r.headers["content-type"].startswith("application/json")
    (entry,) = http.get("/__mock/requests", params={"api": name}).json()["requests"][-1:]
    assert entry["valid"] is True and entry["request"]["headers"]["content-type"] == content_type


# --- 2. control routes: no media type is JSON, any case is JSON, others get a 415 ----------------


@pytest.mark.parametrize(
    "content_type", [None, "Application/JSON", "APPLICATION/JSON; charset=utf-8"]
)
@pytest.mark.parametrize("route", list(CONTROL_BODIES))
def test_control_bodies_are_json_without_or_with_any_case_content_type(http, route, content_type):
    path, body = CONTROL_BODIES[route]
    headers = {"Content-Type": content_type} if content_type else {}
    r = http.post(path, content=json.dumps(body).encode(), headers=headers)
    assert r.status_code in (200, 201), r.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("route", list(CONTROL_BODIES))
def test_control_bodies_in_another_media_type_get_415_and_change_nothing(
    http, live_server, route, content_type
):
    path, body = CONTROL_BODIES[route]
    http.post("/__mock/clock/freeze")
    before, clock = everything(live_server, http), clock_at(http)
    r = http.post(path, content=json.dumps(body).encode(), headers={"Content-Type": content_type})
    assert_control_error(r, 415)
    assert everything(live_server, http) == before and clock_at(http) == clock
    assert http.get("/__mock/faults").json()["faults"] == []


# --- 3. huge numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [30, 4301, 5000])
def test_a_huge_integer_path_parameter_gets_the_apis_400(http, digits):
    r = http.post(
        "/v2/general/servers/" + "9" * digits + "/heartbeat",
        json={"playerCount": 1},
        headers={"Authorization": "Bearer k"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "INVALID_REQUEST"
    assert http.get("/__mock/sonoran/servers").json()["count"] == 0


@pytest.mark.parametrize("number", [b"-" + b"9" * 5000, b"1e400"])
@pytest.mark.parametrize("name", list(HEARTBEATS))
def test_a_number_too_large_to_represent_gets_the_apis_4xx(http, live_server, name, number):
    seed(http, name)
    before = everything(live_server, http)
    method, path, auth, body = HEARTBEATS[name]
    for field in (next(iter(body)), "extra"):  # a documented field, and one the API ignores
        raw = json.dumps({**body, field: "@"}).encode().replace(b'"@"', number)
        r = http.request(
            method, path, content=raw, headers={**auth, "Content-Type": "application/json"}
        )
        assert 400 <= r.status_code < 500, (field, r.status_code, r.text)
        assert_not_broken(r)
    assert everything(live_server, http) == before
    assert_standard_json(http.get("/__mock/requests"))


@pytest.mark.parametrize("number", [b"9" * 5000, b"1e400", b"-1e400"])
def test_a_control_number_too_large_to_represent_gets_a_400_and_moves_nothing(http, number):
    http.post("/__mock/clock/freeze")
    before = clock_at(http)
    r = http.post(
        "/__mock/clock/advance",
        content=b'{"seconds": ' + number + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert_control_error(r, 400)
    assert clock_at(http) == before


def test_a_huge_integer_query_parameter_gets_a_400(http):
    r = http.get("/__mock/requests", params={"status": "9" * 5000})
    assert_control_error(r, 400)


# --- 4. header bytes that are not UTF-8 ----------------------------------------------------------

ODD_BYTES = [b"application/\xff\xfejson", b"\xc3\x28", b"application/json\xa0"]


@pytest.mark.parametrize("value", ODD_BYTES)
@pytest.mark.parametrize(
    "path",
    ["/api/status/srv_pub_a3a9e1ed9732", "/api/badge/srv_pub_a3a9e1ed9732", "/__mock/health"],
)
def test_a_content_type_that_is_not_utf8_on_a_get_is_ignored(http, path, value):
    r = http.get(path, headers={"Content-Type": value})
    assert_not_broken(r)
    assert r.status_code in (200, 404), r.text


@pytest.mark.parametrize("value", ODD_BYTES)
@pytest.mark.parametrize("name", list(HEARTBEATS))
def test_a_content_type_that_is_not_utf8_on_a_body_gets_the_apis_4xx(
    http, live_server, name, value
):
    seed(http, name)
    before = everything(live_server, http)
    r = heartbeat(http, name, **{"Content-Type": value})
    assert 400 <= r.status_code < 500, r.text
    assert_not_broken(r)
    assert everything(live_server, http) == before
    entry = http.get("/__mock/requests", params={"api": name}).json()["requests"][-1]
    assert entry["valid"] is False


@pytest.mark.parametrize("name", list(HEARTBEATS))
def test_any_header_that_is_not_utf8_never_gets_a_5xx(http, name):
    seed(http, name)
    _, _, auth, _ = HEARTBEATS[name]
    for header in [*auth, "Accept", "X-Odd", "Origin"]:
        r = heartbeat(http, name, **{header: b"\xff\xfe\xc3\x28 value"})
        assert_not_broken(r)
    assert http.get("/__mock/report", params={"format": "text"}).status_code == 200


def test_a_control_header_that_is_not_utf8_never_gets_a_5xx(http):
    r = http.post(
        "/__mock/clock/advance",
        json={"seconds": 1},
        headers={"Content-Type": b"application/json\xff", "X-Mock-Token": b"\xff"},
    )
    assert_not_broken(r)
    assert r.status_code in (200, 415), r.text


# --- 5. lone surrogates --------------------------------------------------------------------------

SURROGATES = [b'"\\ud800"', b'"a\\uDFFFb"']


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("name", list(HEARTBEATS))
def test_a_lone_surrogate_in_a_json_string_gets_the_apis_4xx(http, live_server, name, surrogate):
    seed(http, name)
    before = everything(live_server, http)
    method, path, auth, body = HEARTBEATS[name]
    for raw in (
        json.dumps({**body, "extra": "@"}).encode().replace(b'"@"', surrogate),
        json.dumps({**body, next(iter(body)): "@"}).encode().replace(b'"@"', surrogate),
        json.dumps(body).encode()[:-1] + b", " + surrogate + b": 1}",
    ):
        r = http.request(
            method, path, content=raw, headers={**auth, "Content-Type": "application/json"}
        )
        assert 400 <= r.status_code < 500, (raw, r.status_code, r.text)
        assert_not_broken(r)
    assert everything(live_server, http) == before
    entries = http.get("/__mock/requests", params={"api": name}).json()["requests"]
    assert [e["valid"] for e in entries[-3:]] == [False, False, False]
    assert http.get("/__mock/report", params={"format": "text"}).status_code == 200
    assert http.get("/__mock/report").status_code == 200


# a string field of each control body (clock/advance has none)
CONTROL_STRINGS = {
    "clock/set": "now",
    "faults": "api",
    "playwave/sessions": "provider_user_id",
    "lucit/instructions": "instruction",
    "collect/external-errors": "message",
}


@pytest.mark.parametrize("route", list(CONTROL_STRINGS))
def test_a_lone_surrogate_in_a_control_body_gets_a_400(http, live_server, route):
    path, body = CONTROL_BODIES[route]
    http.post("/__mock/clock/freeze")
    before, clock = everything(live_server, http), clock_at(http)
    raw = json.dumps({**body, CONTROL_STRINGS[route]: "@"}).encode().replace(b'"@"', b'"\\ud800"')
    assert_control_error(
        http.post(path, content=raw, headers={"Content-Type": "application/json"}), 400
    )
    assert everything(live_server, http) == before and clock_at(http) == clock
    assert http.get("/__mock/faults").json()["faults"] == []


def test_a_faulted_request_with_a_lone_surrogate_is_journaled_and_answered(http):
    """A fault answers before validation: the journal still gets the request (as text)."""
    http.post("/__mock/faults", json={"api": "statusbadge", "status": 503, "times": 1})
    raw = b'{"token": "x", "data": {"version": "\\ud800"}}'
    r = http.post("/api/heartbeat", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 503 and r.json()["error"], r.text
    (entry,) = http.get("/__mock/requests").json()["requests"]
    assert entry["fault"] and entry["status"] == 503
    # as text (not JSON), with the secret field masked by name as in any text body
    assert entry["request"]["body"] == raw.decode().replace('"x"', '"***"')
    assert http.get("/__mock/report", params={"format": "text"}).status_code == 200


# --- 6. the clock's range ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [
        "9999-12-31T23:59:58Z",
        "9001-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-14:00",
    ],
)
def test_setting_the_clock_out_of_range_gets_a_400_and_moves_nothing(http, now):
    http.post("/__mock/clock/freeze")
    before = clock_at(http)
    assert_control_error(http.post("/__mock/clock/set", json={"now": now}), 400)
    assert clock_at(http) == before
    assert http.get("/__mock/health").status_code == 200


@pytest.mark.parametrize("frozen", [True, False])
def test_no_sum_of_valid_calls_moves_the_clock_out_of_range(http, frozen):
    http.post("/__mock/clock/set", json={"now": "9000-12-31T00:00:00Z", "frozen": frozen})
    for _ in range(3):  # each step is within advance's bound; the sum would leave the range
        r = http.post("/__mock/clock/advance", json={"seconds": 300_000_000})
        assert_control_error(r, 400)
    assert http.get("/__mock/clock").json()["now"].startswith("9000-12-31T")
    assert heartbeat(http, "sonoran").status_code == 200
    assert http.get("/__mock/health").status_code == 200


def test_the_latest_valid_time_still_serves_every_api(http):
    http.post("/__mock/clock/set", json={"now": "9000-12-31T23:59:59Z", "frozen": True})
    for name in HEARTBEATS:
        seed(http, name)
        assert heartbeat(http, name, **{"Content-Type": "application/json"}).status_code < 300
    assert http.get("/__mock/report", params={"format": "text"}).status_code == 200


@pytest.mark.parametrize("seconds", [b"-1", b"315360001", b"1e400", b'"5"', b"null", b"NaN"])
def test_an_advance_out_of_bounds_gets_a_400_and_moves_nothing(http, seconds):
    http.post("/__mock/clock/freeze")
    before = clock_at(http)
    r = http.post(
        "/__mock/clock/advance",
        content=b'{"seconds": ' + seconds + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert_control_error(r, 400)
    assert clock_at(http) == before


# --- 13 (second half). a trailing slash is no route ----------------------------------------------


@pytest.mark.parametrize("name", list(HEARTBEATS))
def test_a_trailing_slash_gets_the_apis_own_404_never_a_redirect(http, name):
    method, path, auth, body = HEARTBEATS[name]
    r = http.request(method, path + "/", json=body, headers=auth)
    assert r.status_code == 404, (r.status_code, r.headers)
    assert "location" not in r.headers
    assert NOT_FOUND[name](r.json()), r.text


@pytest.mark.parametrize("suffix", ["%0A", "%0D%0A", "%00"])
@pytest.mark.parametrize("name", list(HEARTBEATS))
def test_a_path_with_a_final_control_character_is_no_route_in_answer_and_journal(
    http, name, suffix
):
    """`/api/heartbeat%0A` is not the heartbeat: the API's own 404, and the journal says no
    operation (it once named the heartbeat, whose spec has no 404, for an answer of 404)."""
    method, path, auth, body = HEARTBEATS[name]
    r = http.request(method, path + suffix, json=body, headers=auth)
    assert r.status_code == 404, (r.status_code, r.text)
    assert NOT_FOUND[name](r.json()), r.text
    [entry] = http.get("/__mock/requests", params={"api": name}).json()["requests"]
    assert entry["operation"] is None and entry["status"] == 404


@pytest.mark.parametrize(
    "path", ["/__mock/clock/advance/", "/__mock/faults/", "/__mock/sonoran/servers/"]
)
def test_a_trailing_slash_on_the_control_api_gets_its_404(http, path):
    r = http.post(path, json={"seconds": 1})
    assert "location" not in r.headers
    assert_control_error(r, 404)
