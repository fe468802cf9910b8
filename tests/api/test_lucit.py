"""lucit (seed 003) over real HTTP: heartbeat, remote-instruction queue, Laravel errors."""

from __future__ import annotations

import re

import httpx
import pytest
import requests

from mockserver.http.gate import PURGE_EVERY
from tests.conftest import SEED_BODIES, advance, seed_body, store_snapshot

DEVICE = "LCUID-LD-5b1c2d3e-0000-4000-8000-000000000001"
APP_ID = "LCUID-LAP-5c43c6e0-e03d-45ff-92b1-1bd05122dcb3"
PATH = f"/api/v3/analytics/lightning-devices/{DEVICE}/heartbeat"
HEADERS = {
    "Authorization": "Bearer tok-lucit",
    "Content-Type": "application/json",
    "Accept": "application/json",
    "AppIdV3": APP_ID,
}
BODY = {**SEED_BODIES["lucit"], "device_info": ["os:linux", "uptime:3600"]}
LDRI = re.compile(r"^LCUID-LDRI-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
REQUIRED = {
    "message": "The lightning version field is required.",
    "errors": {"lightning_version": ["The lightning version field is required."]},
}
UNAUTHENTICATED = {"message": "Unauthenticated."}


def heartbeat(http, body=BODY, headers=HEADERS, path=PATH):
    return http.post(path, json=body, headers=headers)


def queue(http, device=DEVICE, **instruction):
    r = http.post(
        f"/__mock/lucit/devices/{device}/instructions",
        json={"instruction": "reload", **instruction},
    )
    assert r.status_code == 201, r.text
    return r.json()


def device(http, lcuid=DEVICE):
    return http.get(f"/__mock/lucit/devices/{lcuid}").json()


def ack(http, instruction_lcuid):
    return http.post(f"/__mock/lucit/instructions/{instruction_lcuid}/ack")


def set_clock(http, now):
    http.post("/__mock/clock/set", json={"now": now, "frozen": True}).raise_for_status()


# --- the seed's own example -----------------------------------------------------------------
def seed_example(base_url: str, **extra):
    """The Python (Requests) example of 003, verbatim but for the host."""
    url = f"{base_url}/api/v3/analytics/lightning-devices/{{lcuid}}/heartbeat"
    headers = {
        "Authorization": "Bearer {AuthToken}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "AppIdV3": "LCUID-LAP-********-****-****-****-************",
    }
    return requests.post(url, headers=headers, **extra)


def test_seed_python_example_sends_no_body_and_gets_422(http):
    response = seed_example(str(http.base_url).rstrip("/"))
    assert response.status_code == 422
    assert response.json() == REQUIRED
    assert http.get("/__mock/lucit/devices").json()["count"] == 0


def test_seed_python_example_with_the_required_body_works(http):
    response = seed_example(str(http.base_url).rstrip("/"), json=seed_body("lucit"))
    assert response.status_code == 200
    assert response.json() == {"success": True, "lightning_device_remote_instruction": None}
    assert device(http, "{lcuid}")["lightning_version"] == SEED_BODIES["lucit"]["lightning_version"]


# --- heartbeat and delivery -----------------------------------------------------------------
def test_heartbeat_with_nothing_queued_answers_null(http):
    r = heartbeat(http)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"success": True, "lightning_device_remote_instruction": None}


def test_heartbeat_records_last_heartbeat_version_and_device_info(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    heartbeat(http)
    advance(http, 60)
    heartbeat(http, {"lightning_version": "2.5.0"})
    d = device(http)
    assert d["last_heartbeat"] == "2026-01-07T00:16:19.000000Z"
    assert d["lightning_version"] == "2.5.0"
    assert d["device_info"] is None
    assert d["heartbeats"] == 2


def test_queued_instruction_is_pending(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    queued = queue(http, parameters=["soft"])
    assert LDRI.match(queued["lcuid"])
    assert queued == {
        "instruction": "reload",
        "parameters": ["soft"],
        "run_at": None,
        "status": 0,
        "lcuid": queued["lcuid"],
        "created_at": "2026-01-07T00:15:19.000000Z",
        "updated_at": "2026-01-07T00:15:19.000000Z",
        "device_lcuid": DEVICE,
    }
    assert device(http)["instructions"] == [queued]
    assert device(http)["last_heartbeat"] is None


def test_heartbeat_delivers_the_instruction_in_the_documented_shape_and_marks_it_sent(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    queued = queue(http)
    advance(http, 5)
    r = heartbeat(http)
    assert r.json() == {
        "success": True,
        "lightning_device_remote_instruction": {
            "instruction": "reload",
            "parameters": [],
            "run_at": None,
            "status": 1,
            "lcuid": queued["lcuid"],
            "created_at": "2026-01-07T00:15:19.000000Z",
            "updated_at": "2026-01-07T00:15:24.000000Z",
        },
    }
    assert device(http)["instructions"][0]["status"] == 1


def test_a_sent_instruction_is_not_delivered_again(http):
    queue(http)
    assert heartbeat(http).json()["lightning_device_remote_instruction"]["status"] == 1
    assert heartbeat(http).json()["lightning_device_remote_instruction"] is None


def test_instructions_are_delivered_oldest_first_one_per_heartbeat(http):
    first, second = queue(http, instruction="reload"), queue(http, instruction="restart")
    delivered = [heartbeat(http).json()["lightning_device_remote_instruction"] for _ in range(3)]
    assert [d and d["lcuid"] for d in delivered] == [first["lcuid"], second["lcuid"], None]


def test_instructions_belong_to_their_device(http):
    queue(http, device="LCUID-LD-other")
    assert heartbeat(http).json()["lightning_device_remote_instruction"] is None
    other = heartbeat(http, path="/api/v3/analytics/lightning-devices/LCUID-LD-other/heartbeat")
    assert other.json()["lightning_device_remote_instruction"]["instruction"] == "reload"


# --- run_at ---------------------------------------------------------------------------------
def test_instruction_with_run_at_waits_until_the_mock_clock_reaches_it(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    queued = queue(http, run_at="2026-01-07T00:20:19Z")
    assert queued["run_at"] == "2026-01-07T00:20:19.000000Z"
    assert heartbeat(http).json()["lightning_device_remote_instruction"] is None
    advance(http, 299)
    assert heartbeat(http).json()["lightning_device_remote_instruction"] is None
    advance(http, 1)  # run_at is now: "not after now" is due
    sent = heartbeat(http).json()["lightning_device_remote_instruction"]
    assert sent["lcuid"] == queued["lcuid"]
    assert sent["run_at"] == "2026-01-07T00:20:19.000000Z"
    assert sent["updated_at"] == "2026-01-07T00:20:19.000000Z"


def test_a_scheduled_instruction_does_not_hold_back_one_that_is_due(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    later = queue(http, instruction="restart", run_at="2026-01-07T01:00:00Z")
    now = queue(http, instruction="reload")
    assert heartbeat(http).json()["lightning_device_remote_instruction"]["lcuid"] == now["lcuid"]
    advance(http, 3600)
    assert heartbeat(http).json()["lightning_device_remote_instruction"]["lcuid"] == later["lcuid"]


def test_run_at_in_the_past_is_due_at_once(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    queue(http, run_at="2026-01-06T00:00:00+00:00")
    assert heartbeat(http).json()["lightning_device_remote_instruction"]["status"] == 1


@pytest.mark.parametrize(
    ("run_at", "shown"),
    [
        ("1960-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z"),
        ("9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59.000000Z"),
        ("2026-01-07T02:15:19.75+02:00", "2026-01-07T00:15:19.000000Z"),
    ],
)
def test_run_at_is_kept_in_the_range_the_document_format_can_show(http, run_at, shown):
    assert queue(http, run_at=run_at)["run_at"] == shown


# --- acknowledge ----------------------------------------------------------------------------
def test_acknowledge_sets_status_2_and_updated_at_now(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    queued = queue(http)
    heartbeat(http)
    advance(http, 30)
    r = http.post(f"/__mock/lucit/instructions/{queued['lcuid']}/ack")
    assert r.status_code == 200
    acked = r.json()
    assert acked["status"] == 2
    assert acked["updated_at"] == "2026-01-07T00:15:49.000000Z"
    assert acked["created_at"] == "2026-01-07T00:15:19.000000Z"
    assert device(http)["instructions"][0]["status"] == 2


def test_acknowledging_twice_changes_nothing(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    queued = queue(http)
    first = http.post(f"/__mock/lucit/instructions/{queued['lcuid']}/ack").json()
    advance(http, 10)
    second = http.post(f"/__mock/lucit/instructions/{queued['lcuid']}/ack").json()
    assert second == first


def test_an_instruction_acknowledged_before_delivery_is_never_delivered(http):
    queued = queue(http)
    http.post(f"/__mock/lucit/instructions/{queued['lcuid']}/ack").raise_for_status()
    assert heartbeat(http).json()["lightning_device_remote_instruction"] is None


def test_acknowledging_an_unknown_instruction_is_404(http):
    r = http.post("/__mock/lucit/instructions/LCUID-LDRI-262ca932-dda6-4233-8c4f-a497481388b3/ack")
    assert r.status_code == 404
    assert r.json()["error"]["kind"] == "not_found"


# --- control routes -------------------------------------------------------------------------
def test_devices_lists_every_known_device(http):
    heartbeat(http)
    queue(http, device="LCUID-LD-b")
    listing = http.get("/__mock/lucit/devices").json()
    assert listing["count"] == 2
    assert [d["lcuid"] for d in listing["devices"]] == sorted([DEVICE, "LCUID-LD-b"])


def test_unknown_device_is_404(http):
    r = http.get("/__mock/lucit/devices/LCUID-LD-nobody")
    assert r.status_code == 404
    assert r.json()["error"]["kind"] == "not_found"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"instruction": ""},
        {"instruction": 3},
        {"instruction": "reload", "run_at": "tomorrow"},
        {"instruction": "reload", "parameters": "x"},
        {"instruction": "reload", "colour": "red"},
    ],
)
def test_bad_instruction_is_400_and_queues_nothing(http, payload):
    r = http.post(f"/__mock/lucit/devices/{DEVICE}/instructions", json=payload)
    assert r.status_code == 400
    assert r.json()["error"]["kind"] == "validation"
    assert http.get(f"/__mock/lucit/devices/{DEVICE}").status_code == 404


# --- validation: Laravel's 422 --------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"lightning_version": None},
        {"lightning_version": ""},
        {"lightning_version": "   "},
        {"device_info": []},
        {"unknown": "x"},
    ],
)
def test_missing_or_blank_lightning_version_is_required(http, body):
    r = heartbeat(http, body)
    assert r.status_code == 422
    assert r.json() == REQUIRED


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"lightning_version": 5},
            {"lightning_version": ["The lightning version field must be a string."]},
        ),
        (
            {"lightning_version": "1", "device_info": "x"},
            {"device_info": ["The device info field must be an array."]},
        ),
        (
            {"lightning_version": "1", "device_info": ["a", 2]},
            {"device_info.1": ["The device info.1 field must be a string."]},
        ),
    ],
)
def test_wrong_types_are_named_in_laravel_wording(http, body, expected):
    r = heartbeat(http, body)
    assert r.status_code == 422
    message = next(iter(expected.values()))[0]
    assert r.json() == {"message": message, "errors": expected}


def test_every_failing_field_is_named_with_a_summary_message(http):
    r = heartbeat(http, {"device_info": [1, "ok", None]})
    assert r.status_code == 422
    assert r.json() == {
        "message": "The lightning version field is required. (and 2 more errors)",
        "errors": {
            "lightning_version": ["The lightning version field is required."],
            "device_info.0": ["The device info.0 field must be a string."],
            "device_info.2": ["The device info.2 field must be a string."],
        },
    }


def test_one_more_error_is_singular(http):
    r = heartbeat(http, {"device_info": "x"})
    assert r.json()["message"] == "The lightning version field is required. (and 1 more error)"


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b"", "application/json"),
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"2.4.1"', "application/json"),
        (b"\xa9\x11", "application/json"),
        (b'{"lightning_version": "1", "lightning_version": "2"}', "application/json"),
        (b'{"lightning_version": "2.4.1"}', "text/plain"),
        (b"lightning_version=2.4.1", "application/x-www-form-urlencoded"),
    ],
)
def test_a_body_laravel_cannot_read_as_json_input_is_required(http, content, ctype):
    r = http.post(PATH, content=content, headers={**HEADERS, "Content-Type": ctype})
    assert r.status_code == 422
    assert r.json() == REQUIRED


def test_unknown_fields_are_ignored(http):
    r = heartbeat(http, {**BODY, "screen": "on"})
    assert r.status_code == 200


def test_rejected_heartbeats_change_nothing(http):
    queued = queue(http)
    heartbeat(http, {})
    heartbeat(http, {"lightning_version": 5})
    heartbeat(http, BODY, {**HEADERS, "AppIdV3": "nope"})
    heartbeat(http, BODY, {k: v for k, v in HEADERS.items() if k != "Authorization"})
    d = device(http)
    assert d["heartbeats"] == 0
    assert d["last_heartbeat"] is None
    assert d["instructions"] == [queued]


# --- auth: Laravel's 401 --------------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        {"Authorization": None},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "tok-lucit"},
        {"AppIdV3": None},
        {"AppIdV3": ""},
        {"AppIdV3": "LCUID-LAP-1234"},
        {"AppIdV3": "LCUID-LDRI-5c43c6e0-e03d-45ff-92b1-1bd05122dcb3"},
    ],
)
def test_missing_or_malformed_credentials_are_401(http, change):
    headers = {k: v for k, v in {**HEADERS, **change}.items() if v is not None}
    r = heartbeat(http, {}, headers)  # auth is checked before the body
    assert r.status_code == 401
    assert r.json() == UNAUTHENTICATED
    assert http.get("/__mock/lucit/devices").json()["count"] == 0


def test_any_well_formed_credentials_are_accepted_by_default(http):
    headers = {
        **HEADERS,
        "Authorization": "Bearer anything",
        "AppIdV3": "LCUID-LAP-AAAAAAAA-0000-4000-8000-000000000000",
    }
    assert heartbeat(http, BODY, headers).status_code == 200


def test_settings_pin_tokens_and_app_ids(make_server):
    server = make_server(api_settings={"lucit": {"tokens": ["tok-1"], "app_ids": APP_ID}})
    with httpx.Client(base_url=server.url) as client:
        good = {**HEADERS, "Authorization": "Bearer tok-1"}
        assert heartbeat(client, BODY, good).status_code == 200
        for headers in (
            {**good, "Authorization": "Bearer tok-2"},
            {**good, "AppIdV3": "LCUID-LAP-********-****-****-****-************"},
            {k: v for k, v in good.items() if k != "AppIdV3"},
        ):
            r = heartbeat(client, BODY, headers)
            assert r.status_code == 401
            assert r.json() == UNAUTHENTICATED


# --- other Laravel answers ------------------------------------------------------------------
def test_wrong_method_is_405_with_allow(http):
    r = http.get(PATH, headers=HEADERS)
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.json() == {
        "message": f"The GET method is not supported for route {PATH[1:]}. Supported methods: POST."
    }


def test_unknown_route_is_404(http):
    r = http.post("/api/v3/analytics/lightning-devices/x/status", json=BODY, headers=HEADERS)
    assert r.status_code == 404
    assert r.json() == {
        "message": "The route api/v3/analytics/lightning-devices/x/status could not be found."
    }


def test_oversized_body_is_413(make_server):
    server = make_server(max_body_bytes=64)
    with httpx.Client(base_url=server.url) as client:
        r = heartbeat(client, {"lightning_version": "x" * 100})
        assert r.status_code == 413
        assert r.json() == {"message": "The POST data is too large."}


def test_injected_server_error_is_laravels_500(http):
    http.post("/__mock/faults", json={"api": "lucit", "status": 500}).raise_for_status()
    r = heartbeat(http)
    assert r.status_code == 500
    assert r.json() == {"message": "Server Error"}


# --- journal --------------------------------------------------------------------------------
def test_journal_names_the_device_and_redacts_credentials(http):
    heartbeat(http)
    entry = http.get("/__mock/requests", params={"api": "lucit"}).json()["requests"][-1]
    assert entry["operation"] == "lucit_heartbeat"
    assert entry["identity"] == DEVICE
    assert entry["valid"] is True
    assert APP_ID not in str(entry) and "tok-lucit" not in str(entry)


def test_reset_of_the_api_forgets_devices_and_instructions(http):
    queued = queue(http)
    heartbeat(http)
    http.post("/__mock/reset", params={"api": "lucit"}).raise_for_status()
    assert http.get("/__mock/lucit/devices").json()["count"] == 0
    assert http.post(f"/__mock/lucit/instructions/{queued['lcuid']}/ack").status_code == 404


# --- bounded memory (issue 23): every record expires or is capped ------------------------------
HOUR = 3600  # the default device_retention_seconds and instruction_retention_seconds


def test_a_silent_device_is_forgotten_after_the_retention_window(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    heartbeat(http)
    advance(http, HOUR)  # the window includes its last instant
    assert http.get(f"/__mock/lucit/devices/{DEVICE}").status_code == 200
    advance(http, 1)
    r = http.get(f"/__mock/lucit/devices/{DEVICE}")
    assert r.status_code == 404
    assert "device_retention_seconds" in r.json()["error"]["message"]
    assert http.get("/__mock/lucit/devices").json()["count"] == 0
    heartbeat(http)  # it starts over
    assert device(http)["heartbeats"] == 1


def test_a_delivered_instruction_is_forgotten_after_the_retention_window(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    queued = queue(http)
    heartbeat(http)
    advance(http, HOUR - 60)
    heartbeat(http)  # the device stays known
    advance(http, 61)
    assert device(http)["instructions"] == []
    assert ack(http, queued["lcuid"]).status_code == 404


def test_an_acknowledged_instruction_is_kept_for_the_window_after_its_acknowledgement(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    queued = queue(http)
    heartbeat(http)
    advance(http, 1800)
    assert ack(http, queued["lcuid"]).status_code == 200
    advance(http, HOUR)
    assert [i["status"] for i in device(http)["instructions"]] == [2]


def test_a_scheduled_instruction_keeps_its_silent_device_until_it_falls_due(http):
    set_clock(http, "2026-01-07T00:15:19Z")
    queued = queue(http, run_at="2026-01-08T00:15:19Z")
    advance(http, 86_400 + HOUR)  # a day, then the window
    sent = heartbeat(http).json()["lightning_device_remote_instruction"]
    assert sent["lcuid"] == queued["lcuid"]


def test_a_full_queue_is_409_and_changes_nothing(make_server):
    server = make_server(api_settings={"lucit": {"max_instructions_per_device": 2}})
    with httpx.Client(base_url=server.url) as client:
        first, _ = queue(client), queue(client)
        before = store_snapshot(server, "lucit")
        r = client.post(f"/__mock/lucit/devices/{DEVICE}/instructions", json={"instruction": "x"})
        assert r.status_code == 409
        assert r.json()["error"]["kind"] == "conflict"
        assert "max_instructions_per_device" in r.json()["error"]["message"]
        assert store_snapshot(server, "lucit") == before
        heartbeat(client)  # the first is delivered: the oldest finished one makes room
        third = queue(client, instruction="restart")
        kept = [i["lcuid"] for i in device(client)["instructions"]]
        assert first["lcuid"] not in kept and third["lcuid"] in kept


def stored_records(server) -> int:
    return sum(len(records) for records in store_snapshot(server, "lucit").values())


def test_soak_forgotten_devices_and_instructions_leave_the_store(make_server):
    """A few hundred devices, some with delivered and acknowledged instructions: after the
    retention window (and the purge's lateness) one request later only the device that just
    reported is stored."""
    server = make_server()  # its own gate: the purge runs on its first request
    with httpx.Client(base_url=server.url) as client:
        client.post("/__mock/clock/freeze").raise_for_status()
        for n in range(240):
            path = f"/api/v3/analytics/lightning-devices/soak-{n}/heartbeat"
            assert heartbeat(client, path=path).status_code == 200
        for n in range(30):
            queued = queue(client, device=f"queued-{n}")
            sent = heartbeat(
                client, path=f"/api/v3/analytics/lightning-devices/queued-{n}/heartbeat"
            )
            assert sent.json()["lightning_device_remote_instruction"]["lcuid"] == queued["lcuid"]
            if n % 2:
                assert ack(client, queued["lcuid"]).status_code == 200
        assert client.get("/__mock/lucit/devices").json()["count"] == 270
        assert stored_records(server) >= 270
        advance(client, HOUR + PURGE_EVERY + 1)
        assert heartbeat(client).status_code == 200
        assert stored_records(server) == 1
