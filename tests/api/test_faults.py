"""Fault injection over real HTTP: status, body, headers, latency, dropped connections, `times`."""

from __future__ import annotations

import threading

import httpx
import pytest

BODY = {
    "token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
    "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"},
}


def add(http, **rule):
    r = http.post("/__mock/faults", json={"api": "statusbadge", **rule})
    assert r.status_code == 201, r.text
    return r.json()


def test_status_fault_defaults_to_the_apis_own_error_format(http):
    add(http, status=503, times=1)
    r = http.post("/api/heartbeat", json=BODY)
    assert r.status_code == 503
    assert r.json()["error"] == "Service Unavailable"
    assert r.headers["access-control-allow-origin"] == "*"  # still this API's answer
    assert http.post("/api/heartbeat", json=BODY).status_code == 200


def test_status_fault_with_custom_body_and_headers(http):
    add(http, status=429, body={"error": "slow down"}, headers={"Retry-After": "7"})
    r = http.post("/api/heartbeat", json=BODY)
    assert (
        r.status_code == 429
        and r.json() == {"error": "slow down"}
        and r.headers["retry-after"] == "7"
    )


def test_times_limits_the_fault_to_the_next_n_requests(http):
    add(http, status=500, times=2)
    assert [http.post("/api/heartbeat", json=BODY).status_code for _ in range(3)] == [500, 500, 200]
    assert http.get("/__mock/faults").json()["faults"] == []


def test_without_times_the_fault_stays_until_removed(http):
    fault = add(http, status=500)
    assert [http.post("/api/heartbeat", json=BODY).status_code for _ in range(3)] == [500] * 3
    assert http.get("/__mock/faults").json()["faults"][0]["applied"] == 3
    assert http.delete(f"/__mock/faults/{fault['id']}").status_code == 204
    assert http.post("/api/heartbeat", json=BODY).status_code == 200
    assert http.delete(f"/__mock/faults/{fault['id']}").status_code == 404


def test_operation_narrows_the_fault(http):
    add(http, operation="statusbadge_status", status=500)
    assert http.post("/api/heartbeat", json=BODY).status_code == 200
    assert http.get("/api/status/srv_pub_a3a9e1ed9732").status_code == 500


def test_delay_holds_only_its_request_and_the_journal_records_it(http, live_server):
    """A delay fault holds its own request on the request path (the answer still comes, and
    is journaled with the fault's delay_ms), while other requests go through meanwhile. No
    timing assert: the proof is the order in which the mock saw things (bench/ measures time)."""
    fault = add(http, delay_ms=2000, times=1)
    slow_body = {**BODY, "token": "sk_live_0f8fad5b-d9cb-469f-a165-70867728950e"}
    answer: dict = {}

    def slow():
        answer["r"] = httpx.post(live_server.url + "/api/heartbeat", json=slow_body, timeout=30)

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        for _ in range(500):  # until the slow request has taken the fault (bounded in count)
            if http.get("/__mock/faults").json()["faults"] == []:
                break
        else:
            raise AssertionError("the delayed request never took its fault")
        # the slow request is inside its delay now: another one is answered, alone in the store
        assert http.post("/api/heartbeat", json=BODY).status_code == 200
        servers = http.get("/__mock/statusbadge/servers").json()
        assert servers["count"] == 1, servers
    finally:
        thread.join(30)
    assert answer["r"].status_code == 200 and answer["r"].json()["success"] is True
    fast, delayed = http.get("/__mock/requests").json()["requests"]
    assert fast["fault"] is None and fast["request"]["body"]["data"] == BODY["data"]
    expected = {"id": fault["id"], "status": None, "delay_ms": 2000, "drop": False, "n": 1}
    assert delayed["fault"] == expected
    assert http.get("/__mock/statusbadge/servers").json()["count"] == 2


def test_drop_closes_the_connection_without_an_answer(http, live_server):
    add(http, drop=True, times=1)
    with pytest.raises(httpx.TransportError):
        httpx.post(live_server.url + "/api/heartbeat", json=BODY, timeout=5)
    assert http.post("/api/heartbeat", json=BODY).status_code == 200
    dropped = http.get("/__mock/requests").json()["requests"][0]
    assert dropped["status"] == 0 and dropped["fault"]["drop"] is True


def test_faulted_requests_are_journaled_as_such_and_change_no_state(http):
    fault = add(http, status=500, times=1)
    http.post("/api/heartbeat", json=BODY)
    entry = http.get("/__mock/requests").json()["requests"][0]
    assert entry["fault"]["id"] == fault["id"] and entry["status"] == 500
    assert http.get("/__mock/statusbadge/servers").json()["count"] == 0


def test_clear_removes_every_fault(http):
    add(http, status=500)
    add(http, delay_ms=5)
    assert http.delete("/__mock/faults").status_code == 204
    assert http.get("/__mock/faults").json()["faults"] == []


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"api": "nope", "status": 500}, "api"),
        ({"api": "statusbadge"}, "status"),
        ({"api": "statusbadge", "status": 99}, "status"),
        ({"api": "statusbadge", "status": 100}, "status"),  # 1xx is not a final answer
        ({"api": "statusbadge", "status": 600}, "status"),
        ({"api": "statusbadge", "status": 500, "times": 0}, "times"),
        ({"api": "statusbadge", "bogus": 1}, "bogus"),
        ({"api": "statusbadge", "operation": "no_such_op", "status": 500}, "operation"),
        ({"api": "statusbadge", "operation": "sonoran_heartbeat", "status": 500}, "operation"),
        # The gate answers CORS preflights itself, so such a rule could never fire.
        (
            {"api": "statusbadge", "operation": "statusbadge_preflight_heartbeat", "status": 500},
            "operation",
        ),
        ({"api": "statusbadge", "status": 500, "headers": {"X-A": "1\r\nX-B: 2"}}, "headers.X-A"),
        ({"api": "statusbadge", "status": 500, "headers": {"X-A": "line\nbreak"}}, "headers.X-A"),
        ({"api": "statusbadge", "status": 500, "headers": {"X-A": "nul\u0000"}}, "headers.X-A"),
        ({"api": "statusbadge", "status": 500, "headers": {"X-A": "snow \u2603"}}, "headers.X-A"),
        ({"api": "statusbadge", "status": 500, "headers": {"X A": "1"}}, "headers.X A"),
        ({"api": "statusbadge", "status": 500, "headers": {"X:A": "1"}}, "headers.X:A"),
        ({"api": "statusbadge", "status": 500, "headers": {"": "1"}}, "headers."),
        (
            {"api": "statusbadge", "status": 500, "headers": {"Content-Length": "5"}},
            "headers.Content-Length",
        ),
        (
            {"api": "statusbadge", "status": 500, "headers": {"transfer-encoding": "chunked"}},
            "headers.transfer-encoding",
        ),
        (
            {"api": "statusbadge", "status": 500, "headers": {"Connection": "close"}},
            "headers.Connection",
        ),
        ({"api": "statusbadge", "status": 500, "headers": {"Upgrade": "h2c"}}, "headers.Upgrade"),
        ({"api": "statusbadge", "status": 500, "headers": {"X-A": "1", "x-a": "2"}}, "headers.x-a"),
        ({"api": "statusbadge", "status": 204, "body": {"error": "x"}}, "body"),
        ({"api": "statusbadge", "status": 304, "body": ""}, "body"),
    ],
)
def test_bad_fault_rules_are_a_400_and_store_nothing(http, rule, field):
    r = http.post("/__mock/faults", json=rule)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["kind"] == "validation" and error["status"] == 400
    assert field in [f["key"] for f in error["fields"]], error
    assert http.get("/__mock/faults").json()["faults"] == []
    assert http.post("/api/heartbeat", json=BODY).status_code == 200


def test_latin1_header_values_and_every_operation_of_the_api_are_accepted(http):
    for operation in ("statusbadge_heartbeat", "statusbadge_badge", "statusbadge_status"):
        add(http, operation=operation, status=503, headers={"X-Note": "caf\u00e9\tok"}, times=1)
    r = http.post("/api/heartbeat", json=BODY)
    assert r.status_code == 503 and r.headers["x-note"].encode("latin-1") == b"caf\xe9\tok"
    assert len(http.get("/__mock/faults").json()["faults"]) == 2


def test_injected_headers_replace_the_apis_own_headers_of_that_name(http):
    add(http, status=503, headers={"access-control-allow-origin": "https://example.test"})
    r = http.post("/api/heartbeat", json=BODY)
    assert r.headers.get_list("access-control-allow-origin") == ["https://example.test"]


def test_an_injected_content_type_is_the_only_one(http):
    add(http, status=500, body="<h1>down</h1>", headers={"Content-Type": "text/html"})
    r = http.post("/api/heartbeat", json=BODY)
    assert r.headers.get_list("content-type") == ["text/html"] and r.text == "<h1>down</h1>"


def test_sonoran_retry_after_is_replaced_not_repeated(http):
    http.post(
        "/__mock/faults", json={"api": "sonoran", "status": 429, "headers": {"retry-after": "7"}}
    ).raise_for_status()
    r = http.post(
        "/v2/general/servers/1/heartbeat",
        json={"serverId": 1},
        headers={"Authorization": "Bearer key-abcdef"},
    )
    assert r.status_code == 429 and r.headers.get_list("retry-after") == ["7"]


@pytest.mark.parametrize("status", [204, 205, 304])
def test_bodiless_statuses_send_no_body_and_keep_the_connection_usable(live_server, status):
    """A fault answer must not break the next request on the same keep-alive connection."""
    with httpx.Client(
        base_url=live_server.url, timeout=10, limits=httpx.Limits(max_connections=1)
    ) as c:
        c.post("/__mock/reset").raise_for_status()
        add(c, status=status, times=1)
        first = c.post("/api/heartbeat", json=BODY)
        second = c.post("/api/heartbeat", json=BODY)
        assert second.status_code == 200 and second.json()["success"] is True
        assert first.status_code == status and first.content == b""
        # RFC 9110 8.6: no Content-Length on a 204; a 304's would describe another answer.
        expected = ["0"] if status == 205 else []
        assert first.headers.get_list("content-length") == expected
        ports = {
            r.extensions["network_stream"].get_extra_info("client_addr")[1] for r in (first, second)
        }
        assert len(ports) == 1  # one connection served both
