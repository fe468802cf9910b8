"""The core control API over real HTTP: health, reset, clock, journal and faults."""

from __future__ import annotations

import json

import httpx
import pytest

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
BODY = {
    "token": TOKEN,
    "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"},
}


def test_health_lists_apis_store_and_clock(http, store_kind):
    h = http.get("/__mock/health").json()
    assert h["status"] == "ok" and "statusbadge" in h["apis"] and h["store"] == store_kind
    assert set(h["clock"]) >= {"now", "frozen", "offset_seconds"}


def test_clock_advance_freeze_set_unfreeze(http):
    c = http.post("/__mock/clock/freeze").json()
    assert c["frozen"] is True
    before = c["epoch"]
    c = http.post("/__mock/clock/advance", json={"seconds": 90}).json()
    assert c["epoch"] == pytest.approx(before + 90)
    c = http.post("/__mock/clock/set", json={"now": "2030-01-01T00:00:00Z"}).json()
    assert c["now"] == "2030-01-01T00:00:00.000000Z" and c["frozen"] is True
    c = http.post("/__mock/clock/unfreeze").json()
    assert c["frozen"] is False and c["now"].startswith("2030-01-01T00:00:0")
    assert http.get("/__mock/clock").json()["now"].startswith("2030-01-01")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/__mock/clock/advance", {"seconds": -5}),
        ("/__mock/clock/advance", {"seconds": "x"}),
        ("/__mock/clock/advance", {}),
        ("/__mock/clock/set", {"now": "yesterday"}),
    ],
)
def test_bad_clock_calls_are_400_and_move_nothing(http, path, body):
    http.post("/__mock/clock/freeze")
    before = http.get("/__mock/clock").json()["epoch"]
    r = http.post(path, json=body)
    assert r.status_code == 400
    assert r.json()["error"]["kind"] == "validation"
    assert http.get("/__mock/clock").json()["epoch"] == before


def test_reset_forgets_state_journal_faults_and_clock(http):
    http.post("/__mock/clock/advance", json={"seconds": 1000})
    http.post("/api/heartbeat", json=BODY)
    http.post("/__mock/faults", json={"api": "statusbadge", "status": 500, "times": 5})
    r = http.post("/__mock/reset").json()
    assert r["clock"]["offset_seconds"] == 0
    assert http.get("/__mock/statusbadge/servers").json()["count"] == 0
    assert http.get("/__mock/requests").json()["count"] == 0
    assert http.get("/__mock/faults").json()["faults"] == []


def test_reset_one_api_keeps_the_clock(http):
    http.post("/__mock/clock/advance", json={"seconds": 1000})
    http.post("/api/heartbeat", json=BODY)
    http.post("/__mock/faults", json={"api": "statusbadge", "status": 500})
    http.post("/__mock/faults", json={"api": "sonoran", "status": 500})
    http.post("/__mock/reset", params={"api": "statusbadge"})
    assert http.get("/__mock/statusbadge/servers").json()["count"] == 0
    assert http.get("/__mock/requests", params={"api": "statusbadge"}).json()["count"] == 0
    assert [f["api"] for f in http.get("/__mock/faults").json()["faults"]] == ["sonoran"]
    assert http.get("/__mock/clock").json()["offset_seconds"] == 1000


def test_reset_unknown_api_is_404(http):
    r = http.post("/__mock/reset", params={"api": "nope"})
    assert r.status_code == 404 and r.json()["error"]["kind"] == "not_found"


def test_journal_records_verdicts_violations_and_redacts_tokens(http):
    http.post("/api/heartbeat", json=BODY)
    http.post("/api/heartbeat", json={"token": TOKEN})
    entries = http.get("/__mock/requests").json()["requests"]
    assert [e["status"] for e in entries] == [200, 400]
    ok, bad = entries
    assert (
        ok["valid"] is True
        and ok["violations"] == []
        and ok["operation"] == "statusbadge_heartbeat"
    )
    assert ok["identity"] == "srv_pub_a3a9e1ed9732"
    assert bad["valid"] is False and bad["violations"][0]["key"] == "data"
    assert TOKEN not in str(entries) and ok["request"]["body"]["token"] == "sk_liv***"
    assert ok["response"]["body"]["publicId"] == "srv_pub_a3a9e1ed9732"


def test_journal_filters(http):
    http.post("/__mock/clock/freeze")
    http.post("/api/heartbeat", json=BODY)
    http.post("/__mock/clock/advance", json={"seconds": 10})
    since = http.get("/__mock/clock").json()["now"]
    http.post("/api/heartbeat", json={})
    q = lambda **p: http.get("/__mock/requests", params=p).json()["count"]  # noqa: E731
    assert q(status=400) == 1 and q(status=200) == 1
    assert q(valid="false") == 1 and q(valid="true") == 1
    assert q(since=since) == 1
    assert q(api="statusbadge") == 2
    assert http.get("/__mock/requests", params={"since": "nope"}).status_code == 400


def test_journal_clear(http):
    http.post("/api/heartbeat", json=BODY)
    assert http.delete("/__mock/requests").status_code == 204
    assert http.get("/__mock/requests").json()["count"] == 0


def test_journal_is_a_ring_buffer(make_server):
    server = make_server(journal_cap=3)
    with httpx.Client(base_url=server.url) as c:
        for _ in range(5):
            c.post("/api/heartbeat", json=BODY)
        entries = c.get("/__mock/requests").json()["requests"]
    assert len(entries) == 3 and [e["id"] for e in entries] == [3, 4, 5]


def test_unknown_path_is_a_plain_json_404(http):
    r = http.get("/definitely/not/here")
    assert r.status_code == 404 and r.json()["error"] == "Not Found"


def test_control_errors_never_use_problem_json(http):
    r = http.post(
        "/__mock/clock/advance", content=b"{", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/__mock/faults", "DELETE, GET, POST"),
        ("POST", "/__mock/requests", "DELETE, GET"),
        ("POST", "/__mock/health", "GET"),
        ("PATCH", "/api/heartbeat", "OPTIONS, POST"),
    ],
)
def test_405_lists_every_method_the_spec_declares(http, method, path, allow):
    r = http.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow


# --- paging the journal (issue 23, item 14) ---------------------------------------------------
SONORAN = "/v2/general/servers/1/heartbeat"


def fill(c: httpx.Client, n: int) -> None:
    """n requests over three APIs, interleaved, every third one invalid."""
    for i in range(n):
        kind = i % 3
        if kind == 0:
            c.post("/api/heartbeat", json=BODY)
        elif kind == 1:
            c.post(SONORAN, json={"playerCount": i}, headers={"Authorization": "Bearer key-abcdef"})
        else:
            c.post("/api/systems/heartbeat", json={}, auth=("u", "p"))  # 400


def pages(c: httpx.Client, **params) -> list[dict]:
    out, after, answers = [], None, 0
    while answers < 500:
        answers += 1
        page = c.get("/__mock/requests", params={**params, **({"after": after} if after else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["count"] == len(body["requests"]) <= params.get("limit", 100)
        out.append(body)
        after = body["next_after"]
        if after is None:
            return out
        assert after == body["requests"][-1]["id"]
    raise AssertionError("the pages never ended")


def test_a_full_journal_read_in_pages_gives_every_entry_once_in_order(make_server):
    server = make_server(journal_cap=1000, api_settings={"sonoran": {"rate_limit_per_minute": 0}})
    with httpx.Client(base_url=server.url, timeout=30) as c:
        fill(c, 230)
        read = [e for p in pages(c, limit=7) for e in p["requests"]]
        assert [e["id"] for e in read] == list(range(1, 231))
        assert [e["api"] for e in read[:3]] == ["statusbadge", "sonoran", "collect"]
        assert len(pages(c, limit=1000)) == 1
        default = c.get("/__mock/requests").json()
        assert default["count"] == 100 and default["next_after"] == 100


def test_filters_work_across_pages(make_server):
    server = make_server(api_settings={"sonoran": {"rate_limit_per_minute": 0}})
    with httpx.Client(base_url=server.url, timeout=30) as c:
        c.post("/__mock/clock/freeze")
        fill(c, 30)
        c.post("/__mock/clock/advance", json={"seconds": 10})
        since = c.get("/__mock/clock").json()["now"]
        fill(c, 30)
        invalid = [e for p in pages(c, limit=4, valid="false") for e in p["requests"]]
        assert [e["id"] for e in invalid] == list(range(3, 61, 3))
        sonoran = [e["id"] for p in pages(c, limit=3, api="sonoran") for e in p["requests"]]
        assert sonoran == list(range(2, 61, 3))
        ok = [e["id"] for p in pages(c, limit=5, status=200, since=since) for e in p["requests"]]
        assert ok == [i for i in range(31, 61) if i % 3 != 0]


def test_a_page_past_the_end_is_empty(http):
    http.post("/api/heartbeat", json=BODY)
    body = http.get("/__mock/requests", params={"after": 1}).json()
    assert body == {"requests": [], "count": 0, "next_after": None}
    assert http.get("/__mock/requests", params={"after": 10**12}).json()["count"] == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", 0),
        ("limit", 1001),
        ("limit", -1),
        ("limit", "x"),
        ("after", -1),
        ("after", "x"),
        ("after", 2**53),
        ("after", "9" * 5000),
    ],
)
def test_limit_and_after_out_of_bounds_are_a_400_in_the_control_format(http, name, value):
    http.post("/api/heartbeat", json=BODY)
    r = http.get("/__mock/requests", params={name: value})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["kind"] == "validation" and name in [f["key"] for f in error["fields"]]
    assert http.get("/__mock/requests", params={"limit": 1000}).json()["count"] == 1


def test_a_page_is_streamed(http):
    http.post("/api/heartbeat", json=BODY)
    r = http.get("/__mock/requests")
    assert r.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.headers
    assert r.json()["count"] == 1


def test_the_ring_buffer_keeps_the_newest_entries_in_order_across_pages(make_server):
    server = make_server(journal_cap=5)
    with httpx.Client(base_url=server.url, timeout=30) as c:
        for _ in range(12):
            c.post("/api/heartbeat", json=BODY)
        read = [e["id"] for p in pages(c, limit=2) for e in p["requests"]]
    assert read == [8, 9, 10, 11, 12]


def test_a_deeply_nested_body_is_refused_and_journaled(http):
    body = b'{"token": ' * 600 + b'"x"' + b"}" * 600
    r = http.post("/api/heartbeat", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    (entry,) = http.get("/__mock/requests").json()["requests"]
    assert entry["status"] == 400 and entry["request"]["body"].startswith('{"token": {')
    assert http.get("/__mock/report").status_code == 200


@pytest.mark.parametrize("chunked", [False, True])
def test_a_control_body_over_the_limit_is_413_and_changes_nothing(make_server, chunked):
    """The control API bounds its bodies like the native APIs (max_body_bytes), declared or
    streamed: a huge POST /__mock/faults costs no memory and stores nothing."""
    server = make_server(max_body_bytes=1024)
    big = json.dumps({"api": "statusbadge", "status": 500, "body": "x" * 5000}).encode()
    content = iter([big[:600], big[600:]]) if chunked else big
    with httpx.Client(base_url=server.url) as client:
        r = client.post(
            "/__mock/faults", content=content, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 413, r.text
        assert r.json()["error"]["kind"] == "payload_too_large"
        assert client.get("/__mock/faults").json()["faults"] == []
        small = client.post("/__mock/faults", json={"api": "statusbadge", "status": 500})
        assert small.status_code == 201
