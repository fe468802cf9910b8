"""collect (seed 001) over real HTTP: the documented envelopes, Basic auth and liveness."""

from __future__ import annotations

import base64
import copy
import json
import uuid

import httpx
import jsonschema
import pytest
import yaml

from mockserver.app import build_app
from mockserver.http.gate import PURGE_EVERY
from mockserver.settings import Settings, SettingsError, load_settings
from mockserver.spec.loader import SPEC_DIR
from tests.conftest import SEED_BODIES, advance, seed_body, store_snapshot

URL = "/api/systems/heartbeat"
SYSTEM = SEED_BODIES["collect"]["system_id"]
AUTH = ("username", "password")  # the document's curl example: --user "username:password"
SPEC = yaml.safe_load((SPEC_DIR / "collect.yaml").read_text())
OPERATION = SPEC["paths"]["/systems/heartbeat"]["post"]
T0 = "2025-07-21T10:25:00Z"
DAY = 86400  # the default dead_retention_seconds
DEAD_AFTER = 660  # 600 s interval + 60 s grace


def documented(status: int) -> dict:
    return OPERATION["responses"][str(status)]["content"]["application/json"]["example"]


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def beat(client, system_id=SYSTEM, auth=AUTH, **kwargs):
    return client.post(URL, json={"system_id": system_id}, auth=auth, **kwargs)


def systems(client) -> list[dict]:
    return client.get("/__mock/collect/systems").json()["systems"]


def validation_error(*errors, **extra) -> dict:
    data = {
        "type": "validation_error",
        "errors": [dict(zip(("key", "message", "value"), e, strict=True)) for e in errors],
    }
    return {"code": 400, "message": "validation failed", "data": {**data, **extra}}


@pytest.fixture
def client_with(make_server):
    """An httpx client on a server with its own collect settings (and server settings)."""
    clients: list[httpx.Client] = []

    def start(server_settings=None, **collect):
        server = make_server(api_settings={"collect": collect}, **(server_settings or {}))
        client = httpx.Client(base_url=server.url, timeout=10)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()


# --- the documented examples, each from a real request ---------------------------------------


def test_documented_request_gets_the_documented_200(http):
    http.post("/__mock/clock/set", json={"now": "2025-07-21T10:25:00Z", "frozen": True})
    r = http.post(
        URL,
        auth=AUTH,
        headers={"Content-Type": "application/json"},
        content=json.dumps(seed_body("collect"), separators=(",", ":")).encode(),
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == documented(200)


def test_missing_system_id_gets_the_documented_400_envelope_naming_system_id(http):
    # The document's example names a placeholder field `username` with the placeholder value
    # `string`; everything else in it is reproduced, and the entry names the real field.
    expected = copy.deepcopy(documented(400))
    expected["data"]["errors"][0].update(key="system_id", value="")
    r = http.post(URL, json={}, auth=AUTH)
    assert r.status_code == 400
    assert r.json() == expected
    assert systems(http) == []


def test_missing_credentials_get_the_documented_401(http):
    r = http.post(URL, json={"system_id": SYSTEM})
    assert r.status_code == 401
    assert r.json() == documented(401)
    assert systems(http) == []


def test_user_without_the_heartbeat_permission_gets_the_documented_403(client_with):
    client = client_with(forbidden_users=["readonly"])
    r = beat(client, auth=("readonly", "pw"))
    assert r.status_code == 403
    assert r.json() == documented(403)
    assert systems(client) == []


def test_internal_error_is_the_documented_500(http):
    http.post(
        "/__mock/faults", json={"api": "collect", "status": 500, "times": 1}
    ).raise_for_status()
    r = beat(http)
    assert r.status_code == 500
    assert r.json() == documented(500)
    assert systems(http) == []


def _inline(node, spec):
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _inline(target, spec)
        return {k: _inline(v, spec) for k, v in node.items() if not k.startswith("x-")}
    if isinstance(node, list):
        return [_inline(v, spec) for v in node]
    return node


@pytest.mark.parametrize("status", ["200", "400", "401", "403", "405", "500"])
def test_documented_examples_fit_the_spec_schemas(status):
    response = _inline(OPERATION["responses"][status], SPEC)["content"]["application/json"]
    jsonschema.Draft4Validator(response["schema"]).validate(response["example"])


# --- 400: one entry per failing field ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"system_id": ""}, ("system_id", "required", "")),
        ({"system_id": None}, ("system_id", "required", "")),
        ({"system_id": 12}, ("system_id", "invalid_type", "12")),
        ({"system_id": {"id": 1}}, ("system_id", "invalid_type", '{"id":1}')),
        ({"system": SYSTEM}, ("system_id", "required", "")),
        ([SYSTEM], ("body", "invalid_type", f'["{SYSTEM}"]')),
        ("sys", ("body", "invalid_type", "sys")),
    ],
)
def test_each_failing_field_is_one_error_entry(http, body, error):
    r = http.post(URL, json=body, auth=AUTH)
    assert r.status_code == 400
    assert r.json() == validation_error(error)
    assert systems(http) == []


@pytest.mark.parametrize(
    ("content", "code", "detail"),
    [
        (b'{"system_id": ', "invalid_json", "malformed JSON"),
        (b'{"system_id": "a", "system_id": "b"}', "invalid_json", "duplicate key"),
        (b'{"system_id": NaN}', "invalid_json", "NaN"),
        (b"\xa9\x11", "invalid_encoding", "UTF-8"),
    ],
)
def test_unparsable_body_answers_in_the_envelope_with_details(http, content, code, detail):
    r = http.post(URL, content=content, auth=AUTH, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    body = r.json()
    assert body["data"]["errors"] == [{"key": "body", "message": code, "value": ""}]
    assert detail in body["data"]["details"]
    assert body == validation_error(("body", code, ""), details=body["data"]["details"])
    assert systems(http) == []


@pytest.mark.parametrize("headers", [{"Content-Type": "application/json"}, {}])
def test_empty_body_is_body_required(http, headers):
    r = http.post(URL, content=b"", auth=AUTH, headers=headers)
    assert r.status_code == 400
    assert r.json() == validation_error(("body", "required", ""))
    assert systems(http) == []


@pytest.mark.parametrize(
    "media_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_wrong_content_type_is_400_naming_the_content_type_received(http, media_type):
    r = http.post(URL, content=b"system_id=abc", auth=AUTH, headers={"Content-Type": media_type})
    assert r.status_code == 400
    body = r.json()
    assert body == validation_error(
        ("Content-Type", "unsupported_media_type", media_type), details=body["data"]["details"]
    )
    assert media_type in body["data"]["details"]
    assert systems(http) == []


def test_oversized_body_is_400_too_large(client_with):
    client = client_with(server_settings={"max_body_bytes": 64})
    r = client.post(URL, json={"system_id": "x" * 100}, auth=AUTH)
    assert r.status_code == 400
    assert r.json() == validation_error(
        ("body", "too_large", ""), details="request body exceeds 64 bytes"
    )
    assert systems(client) == []


def test_json_body_without_content_type_is_accepted(http):
    r = http.post(URL, content=b'{"system_id": "no-header"}', auth=AUTH)
    assert r.status_code == 200
    assert r.json()["data"]["system_id"] == "no-header"


def test_extra_body_fields_are_ignored(http):
    r = http.post(URL, json={"system_id": SYSTEM, "hostname": "db-1"}, auth=AUTH)
    assert r.status_code == 200
    assert [s["system_id"] for s in systems(http)] == [SYSTEM]


# --- auth -------------------------------------------------------------------------------------


def test_any_well_formed_basic_credentials_are_accepted_by_default(http):
    r = beat(http, auth=("fleet-agent-7", "anything"))
    assert r.status_code == 200
    assert systems(http)[0]["last_user"] == "fleet-agent-7"


@pytest.mark.parametrize(
    "authorization",
    [
        basic(":password"),
        "Basic !!!not-base64",
        basic("no-colon"),
        "Bearer username:password",
        "Basic",
    ],
)
def test_malformed_credentials_get_the_documented_401(http, authorization):
    r = http.post(URL, json={"system_id": SYSTEM}, headers={"Authorization": authorization})
    assert r.status_code == 401
    assert r.json() == documented(401)
    assert systems(http) == []


def test_pinned_users_refuse_every_other_credential(client_with):
    client = client_with(users={"agent": "s3cret"})
    assert beat(client, auth=("agent", "s3cret")).status_code == 200
    for auth in (("agent", "wrong"), ("other", "s3cret"), AUTH):
        r = beat(client, system_id="intruder", auth=auth)
        assert r.status_code == 401
        assert r.json() == documented(401)
    assert [s["system_id"] for s in systems(client)] == [SYSTEM]


def test_forbidden_user_is_refused_before_the_body_is_validated(client_with):
    client = client_with(forbidden_users=["readonly"])
    r = client.post(URL, json={}, auth=("readonly", "pw"))
    assert r.status_code == 403
    assert r.json() == documented(403)


def test_forbidden_user_with_a_wrong_pinned_password_gets_401(client_with):
    client = client_with(users={"readonly": "pw"}, forbidden_users=["readonly"])
    assert beat(client, auth=("readonly", "nope")).status_code == 401
    assert beat(client, auth=("readonly", "pw")).status_code == 403


# --- liveness ---------------------------------------------------------------------------------


def test_system_is_alive_until_interval_plus_grace(http):
    http.post("/__mock/clock/set", json={"now": "2025-07-21T10:25:00Z", "frozen": True})
    beat(http)
    [system] = systems(http)
    assert system["alive"] is True
    assert system["alive_until"] == "2025-07-21T10:36:00Z"  # 600 s interval + 60 s grace
    advance(http, 660)
    assert systems(http)[0]["alive"] is True
    advance(http, 1)
    [system] = systems(http)
    assert system["alive"] is False
    assert system["age_seconds"] == 661
    assert system["last_heartbeat"] == "2025-07-21T10:25:00Z"


def test_a_new_heartbeat_revives_a_dead_system(http):
    http.post("/__mock/clock/set", json={"now": "2025-07-21T10:25:00Z", "frozen": True})
    beat(http)
    advance(http, 3600)
    assert systems(http)[0]["alive"] is False
    r = beat(http)
    assert r.json()["data"]["last_heartbeat"] == "2025-07-21T11:25:00Z"
    [system] = systems(http)
    assert system["alive"] is True
    assert system["heartbeats"] == 2
    assert system["first_heartbeat"] == "2025-07-21T10:25:00Z"
    assert system["last_heartbeat"] == "2025-07-21T11:25:00Z"


def test_interval_and_grace_are_settings(client_with):
    client = client_with(interval_seconds=60, grace_seconds=0)
    client.post("/__mock/clock/freeze")
    beat(client)
    listing = client.get("/__mock/collect/systems").json()
    assert (listing["interval_seconds"], listing["grace_seconds"]) == (60, 0)
    advance(client, 60)
    assert systems(client)[0]["alive"] is True
    advance(client, 1)
    assert systems(client)[0]["alive"] is False


def test_listing_counts_alive_systems_sorted_by_id(http):
    http.post("/__mock/clock/freeze")
    beat(http, "sys-b")
    advance(http, 700)
    beat(http, "sys-a", auth=("agent-a", "pw"))
    beat(http, "sys-a", auth=("agent-a", "pw"))
    listing = http.get("/__mock/collect/systems").json()
    assert (listing["count"], listing["alive"]) == (2, 1)
    assert [(s["system_id"], s["alive"], s["heartbeats"]) for s in listing["systems"]] == [
        ("sys-a", True, 2),
        ("sys-b", False, 1),
    ]
    assert listing["systems"][0]["last_user"] == "agent-a"


def test_one_system_can_be_read_and_an_unknown_one_is_404(http):
    beat(http, "sys-a")
    r = http.get("/__mock/collect/systems/sys-a")
    assert r.status_code == 200
    assert (r.json()["system_id"], r.json()["heartbeats"]) == ("sys-a", 1)
    r = http.get("/__mock/collect/systems/sys-z")
    assert r.status_code == 404
    assert r.json()["error"]["kind"] == "not_found"


def freeze(client, at=T0):
    client.post("/__mock/clock/set", json={"now": at, "frozen": True}).raise_for_status()


def test_listing_says_when_a_system_is_forgotten(http):
    freeze(http)
    beat(http)
    listing = http.get("/__mock/collect/systems").json()
    assert listing["dead_retention_seconds"] == DAY
    assert listing["systems"][0]["expires_at"] == "2025-07-22T10:36:00Z"  # dead + one day


def test_dead_system_is_forgotten_after_the_retention_even_before_the_purge(http, live_server):
    freeze(http)
    beat(http, "sys-a")
    advance(http, DEAD_AFTER + DAY)
    assert [s["alive"] for s in systems(http)] == [False]  # dead, still kept
    advance(http, 1)
    assert systems(http) == []
    r = http.get("/__mock/collect/systems/sys-a")
    assert r.status_code == 404
    # No native request since, so no purge ran: the record is still stored, and hidden.
    assert store_snapshot(live_server, "collect")["collect:systems"]


def test_a_forgotten_system_registers_afresh(http):
    freeze(http)
    beat(http)
    beat(http)
    advance(http, DEAD_AFTER + DAY + 1)
    beat(http)
    [system] = systems(http)
    assert (system["heartbeats"], system["alive"]) == (1, True)
    assert system["first_heartbeat"] == "2025-07-22T10:36:01Z"


def test_a_forgotten_pinned_system_is_listed_as_never_heard_from(client_with):
    client = client_with(systems=["sys-a"], dead_retention_seconds=0)
    freeze(client)
    beat(client, "sys-a")
    advance(client, DEAD_AFTER + 1)
    [system] = systems(client)
    assert (system["system_id"], system["heartbeats"], system["last_heartbeat"]) == (
        "sys-a",
        0,
        None,
    )


def test_dead_retention_is_a_setting(client_with):
    client = client_with(interval_seconds=60, grace_seconds=0, dead_retention_seconds=30)
    freeze(client)
    beat(client)
    advance(client, 90)
    assert [s["alive"] for s in systems(client)] == [False]
    advance(client, 0.5)
    assert systems(client) == []


def test_records_of_many_fresh_systems_are_purged_after_the_retention(make_server):
    """Bounded memory (issue 23 item 9): dead systems are dropped once their retention has
    passed, on either store. A server of its own: its purge schedule starts with this test."""
    server = make_server()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        freeze(client)
        for _ in range(300):
            assert beat(client, f"soak-{uuid.uuid4()}").status_code == 200
        assert len(store_snapshot(server, "collect")["collect:systems"]) == 300
        advance(client, DEAD_AFTER + DAY + PURGE_EVERY + 1)
        assert beat(client, "the-one-after").status_code == 200  # runs the purge
        stored = store_snapshot(server, "collect")
        assert list(stored["collect:systems"]) == ["the-one-after"]
        assert [s["system_id"] for s in systems(client)] == ["the-one-after"]


def test_reset_forgets_systems(http):
    beat(http)
    http.post("/__mock/reset", params={"api": "collect"}).raise_for_status()
    assert systems(http) == []


# --- unknown systems --------------------------------------------------------------------------


def test_first_heartbeat_registers_an_unknown_system(http):
    assert systems(http) == []
    assert beat(http, "brand-new").status_code == 200
    [system] = systems(http)
    assert (system["system_id"], system["pinned"], system["heartbeats"]) == ("brand-new", False, 1)


def test_pinned_systems_refuse_other_system_ids_with_403(client_with):
    client = client_with(systems=["sys-a"])
    assert beat(client, "sys-a").status_code == 200
    r = beat(client, "sys-b")
    assert r.status_code == 403
    assert r.json() == documented(403)
    assert [s["system_id"] for s in systems(client)] == ["sys-a"]


def test_pinned_systems_that_never_reported_are_listed_dead(client_with):
    client = client_with(systems=["sys-a", "sys-b"])
    beat(client, "sys-b")
    [a, b] = systems(client)
    assert a == {
        "system_id": "sys-a",
        "pinned": True,
        "alive": False,
        "heartbeats": 0,
        "last_heartbeat": None,
        "first_heartbeat": None,
        "age_seconds": None,
        "alive_until": None,
        "expires_at": None,
        "last_user": None,
    }
    assert (b["pinned"], b["alive"], b["heartbeats"]) == (True, True, 1)
    assert client.get("/__mock/collect/systems/sys-a").json()["heartbeats"] == 0


@pytest.mark.parametrize(
    "collect",
    [
        {"users": ["agent"]},
        {"users": {"agent": 1}},
        {"users": {}},
        {"users": {"": "pw"}},
        {"forbidden_users": [1.5]},
        {"forbidden_users": {"readonly": True}},
        {"systems": {"sys-a": 1}},
        {"systems": []},
        {"interval_seconds": 0},
        {"interval_seconds": "600"},
        {"interval_seconds": float("nan")},
        {"grace_seconds": -1},
        {"grace_seconds": True},
        {"grace_seconds": 1e300},
        {"dead_retention_seconds": -1},
        {"dead_retention_seconds": float("inf")},
        {"grace": 60},
    ],
)
def test_invalid_settings_are_refused_at_start(collect):
    with pytest.raises(SettingsError, match="collect"):
        build_app(Settings(api_settings={"collect": collect}))


def collect_config(env):
    return build_app(load_settings(env=env)).ctx.apis["collect"].config


def test_documented_and_assumed_defaults():
    config = collect_config({})
    assert (config.interval_seconds, config.grace_seconds, config.dead_retention_seconds) == (
        600,
        60,
        86400,
    )
    assert (config.users, config.forbidden_users, config.systems) == (None, None, None)


@pytest.mark.parametrize(
    ("env", "field", "value"),
    [
        ({"MOCKSERVER_COLLECT__SYSTEMS": "sys-a, sys-b"}, "systems", ["sys-a", "sys-b"]),
        ({"MOCKSERVER_COLLECT__SYSTEMS": '["sys-a"]'}, "systems", ["sys-a"]),
        ({"MOCKSERVER_COLLECT__FORBIDDEN_USERS": "readonly"}, "forbidden_users", ["readonly"]),
        ({"MOCKSERVER_COLLECT__FORBIDDEN_USERS": "[]"}, "forbidden_users", None),
        ({"MOCKSERVER_COLLECT__USERS": '{"agent": "s3cret"}'}, "users", {"agent": "s3cret"}),
        ({"MOCKSERVER_COLLECT__DEAD_RETENTION_SECONDS": "0"}, "dead_retention_seconds", 0),
    ],
)
def test_settings_from_the_environment(env, field, value):
    assert getattr(collect_config(env), field) == value


# --- external_api_error -----------------------------------------------------------------------


def test_armed_external_error_is_a_400_external_api_error_that_records_nothing(http):
    r = http.post("/__mock/collect/external-errors", json={"details": {"upstream_status": 502}})
    assert r.status_code == 201
    r = beat(http)
    assert r.status_code == 400
    assert r.json() == {
        "code": 400,
        "message": "external api error",
        "data": {"type": "external_api_error", "errors": [], "details": {"upstream_status": 502}},
    }
    assert systems(http) == []
    assert beat(http).status_code == 200  # armed once by default


def test_external_error_armed_for_one_system_spares_the_others(http):
    http.post("/__mock/collect/external-errors", json={"system_id": "sys-a", "times": 2})
    assert beat(http, "sys-b").status_code == 200
    assert beat(http, "sys-a").json()["data"]["type"] == "external_api_error"
    assert beat(http, "sys-a").json()["data"]["type"] == "external_api_error"
    assert beat(http, "sys-a").status_code == 200
    assert http.get("/__mock/collect/external-errors").json() == {"external_errors": []}


def test_external_error_fires_only_after_auth_and_validation(http):
    http.post("/__mock/collect/external-errors")
    assert http.post(URL, json={"system_id": SYSTEM}).status_code == 401
    assert http.post(URL, json={}, auth=AUTH).json()["data"]["type"] == "validation_error"
    [rule] = http.get("/__mock/collect/external-errors").json()["external_errors"]
    assert (rule["remaining"], rule["applied"]) == (1, 0)
    r = beat(http)
    assert r.json()["data"] == {
        "type": "external_api_error",
        "errors": [],
        "details": "the external API the heartbeat is forwarded to failed",
    }


def test_arming_is_capped_and_the_refusal_changes_nothing(http, live_server):
    for i in range(100):
        r = http.post("/__mock/collect/external-errors", json={"details": i, "times": 2})
        assert r.status_code == 201
    before = store_snapshot(live_server, "collect")
    r = http.post("/__mock/collect/external-errors", json={"details": "one too many"})
    assert r.status_code == 409
    assert "100 external errors are armed" in r.json()["error"]["message"]
    assert store_snapshot(live_server, "collect") == before
    assert beat(http).json()["data"]["details"] == 0  # the oldest fires first
    http.delete("/__mock/collect/external-errors").raise_for_status()
    assert http.post("/__mock/collect/external-errors", json={}).status_code == 201


def test_external_errors_can_be_disarmed(http):
    http.post("/__mock/collect/external-errors", json={"times": 5})
    assert http.delete("/__mock/collect/external-errors").status_code == 204
    assert beat(http).status_code == 200


def test_arming_with_a_bad_body_is_refused(http):
    r = http.post("/__mock/collect/external-errors", json={"times": 0, "colour": "red"})
    assert r.status_code == 400
    assert http.get("/__mock/collect/external-errors").json() == {"external_errors": []}


def test_injected_400_fault_is_an_external_api_error(http):
    http.post(
        "/__mock/faults", json={"api": "collect", "status": 400, "times": 1}
    ).raise_for_status()
    r = beat(http)
    assert r.status_code == 400
    assert r.json() == {
        "code": 400,
        "message": "external api error",
        "data": {"type": "external_api_error", "errors": [], "details": "fault injected"},
    }
    assert systems(http) == []


# --- routing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_wrong_method_is_405_in_the_envelope_with_allow(http, method):
    r = http.request(method, URL, auth=AUTH, json={"system_id": SYSTEM})
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.json() == {"code": 405, "message": "method not allowed", "data": {}}
    assert systems(http) == []


@pytest.mark.parametrize(
    "path", ["/api/systems", "/api/systems/", "/api/systems/status", "/api/systems/heartbeat/x"]
)
def test_unknown_path_under_api_systems_is_404_in_the_envelope(http, path):
    r = http.post(path, auth=AUTH, json={"system_id": SYSTEM})
    assert r.status_code == 404
    assert r.json() == {"code": 404, "message": "not found", "data": {}}


def test_journal_names_the_heartbeat_by_its_system_id(http):
    beat(http, "sys-a")
    [entry] = http.get("/__mock/requests", params={"api": "collect"}).json()["requests"]
    assert (entry["operation"], entry["identity"], entry["valid"]) == (
        "collect_heartbeat",
        "sys-a",
        True,
    )
