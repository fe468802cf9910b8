"""Reliability and exposure rules (issue 11): size limits, bad input, bounded memory, control
token, shutdown. Over real HTTP unless the rule is about memory inside the process."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import uuid

import httpx
import pytest

from mockserver.app import build_app
from mockserver.http.gate import PURGE_EVERY
from mockserver.settings import Settings
from tests.conftest import seed_body
from tests.e2e.test_cli import ROOT, env, free_port, start

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
DATA = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}
NS = "statusbadge:servers"  # where statusbadge keeps one record per live server


def test_body_over_the_limit_is_413_in_the_apis_format_and_changes_nothing(make_server):
    server = make_server(max_body_bytes=1024)
    with httpx.Client(base_url=server.url) as c:
        big = {"token": TOKEN, "data": {**DATA, "software": "x" * 2000}}
        r = c.post("/api/heartbeat", json=big)
        assert r.status_code == 413
        assert r.json()["error"] == "Payload Too Large"
        assert c.get("/__mock/statusbadge/servers").json()["count"] == 0
        entry = c.get("/__mock/requests").json()["requests"][0]
        assert entry["valid"] is False and entry["violations"][0]["rule"] == "max_size"


def test_chunked_body_over_the_limit_is_refused_while_streaming(make_server):
    server = make_server(max_body_bytes=1024)

    def chunks():
        yield b'{"token": "' + TOKEN.encode() + b'", "data": {"software": "'
        for _ in range(10):
            yield b"y" * 512
        yield b'"}}'

    r = httpx.post(
        server.url + "/api/heartbeat",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 2000 + b"1" + b"}" * 2000,
        b"\xff\xfe\x00",
        b'{"token": Infinity}',
        b'{"token": "a", "token": "b"}',
        b"0" * 100_000,
    ],
)
def test_hostile_bodies_get_a_4xx_never_a_500(http, raw):
    r = http.post("/api/heartbeat", content=raw, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
    assert http.get("/__mock/statusbadge/servers").json()["count"] == 0


@pytest.mark.parametrize(
    "path", ["/api/../__mock/reset", "/api/heartbeat/../../etc/passwd", "/%2e%2e/__mock/health"]
)
def test_path_traversal_gets_a_4xx(http, path):
    r = http.get(path)
    assert 400 <= r.status_code < 500


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE", "PROPFIND"])
def test_odd_methods_get_405(http, method):
    r = http.request(method, "/api/heartbeat")
    assert r.status_code == 405


def test_control_token_guards_only_the_control_api(make_server):
    server = make_server(control_token="s3cret")
    with httpx.Client(base_url=server.url) as c:
        r = c.get("/__mock/health")
        assert r.status_code == 401 and r.json()["error"]["kind"] == "auth"
        assert c.post("/__mock/reset").status_code == 401
        assert c.get("/__mock/health", headers={"X-Mock-Token": "wrong"}).status_code == 401
        assert c.get("/__mock/health", headers={"X-Mock-Token": "s3cret"}).status_code == 200
        assert c.post("/api/heartbeat", json={"token": TOKEN, "data": DATA}).status_code == 200


def test_no_control_disables_the_control_api(make_server):
    server = make_server(control=False)
    with httpx.Client(base_url=server.url) as c:
        assert c.get("/__mock/health").status_code == 404
        assert c.post("/api/heartbeat", json={"token": TOKEN, "data": DATA}).status_code == 200


def test_binding_beyond_loopback_requires_a_control_token():
    r = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode != 0 and "--control-token" in r.stderr


def test_sigterm_finishes_in_flight_requests_then_exits_0():
    port = free_port()
    proc, _ = start("--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        httpx.post(
            base + "/__mock/faults", json={"api": "statusbadge", "delay_ms": 1500, "times": 1}
        )
        result: dict = {}

        def slow():
            result["r"] = httpx.post(
                base + "/api/heartbeat", json={"token": TOKEN, "data": DATA}, timeout=20
            )

        t = threading.Thread(target=slow)
        t.start()
        for _ in range(200):  # until the request is in flight (bounded)
            if httpx.get(base + "/__mock/faults").json()["faults"] == []:
                break
        proc.send_signal(signal.SIGTERM)
        t.join(20)
        assert result["r"].status_code == 200
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=20)


def test_soak_records_stay_bounded_and_fall_back_on_the_mock_clock():
    """8 000 heartbeats from ever-new servers, with the mock clock moving past the TTL: the
    store holds only live records, the journal stays at its cap, and once the clock has moved
    past every record's TTL one more request leaves only its own record. Bounded in count, no
    sleeping; memory itself is measured in bench/ (the scale rows' RSS), never asserted here."""

    async def soak():
        app = build_app(Settings(journal_cap=500))
        ctx = app.ctx
        ttl = ctx.apis["statusbadge"].config.ttl_seconds
        await ctx.clock.freeze()  # only the test moves time: the counts are the same every run
        sent = 0

        async def one():
            nonlocal sent
            body = seed_body("statusbadge")
            body["token"] = f"sk_live_{uuid.uuid4()}"
            msgs = [{"type": "http.request", "body": json.dumps(body).encode()}]

            async def receive():
                return msgs.pop() if msgs else {"type": "http.disconnect"}

            statuses = []

            async def send(message):
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            scope = {
                "type": "http",
                "method": "POST",
                "path": "/api/heartbeat",
                "query_string": b"",
                "headers": [(b"content-type", b"application/json")],
                "asgi": {"version": "3.0"},
            }
            await app(scope, receive, send)
            assert statuses == [200]
            sent += 1

        live = []
        for _half in range(2):
            for _batch in range(16):
                for _ in range(250):
                    await one()
                await ctx.clock.advance(30)  # 10 batches = 300 s: the first ones expire
            live.append(await ctx.store.count(NS))
            # bounded by the TTL (10 batches), the purge's lateness (up to 2 x PURGE_EVERY: 4
            # batches) and the batch in hand
            assert live[-1] <= ((ttl + 2 * PURGE_EVERY) / 30 + 1) * 250, live
            assert len(await ctx.journal.entries()) == 500
        # past every TTL and the purge's lateness: the next request's purge leaves only itself
        await ctx.clock.advance(ttl + 2 * PURGE_EVERY + 1)
        await one()
        live.append(await ctx.store.count(NS))
        assert len(await ctx.journal.entries()) == 500
        return live, sent

    live, sent = asyncio.run(soak())
    assert sent == 8_001
    assert live[2] == 1, live
