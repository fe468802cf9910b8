"""Proxy mode (issue 19) end to end: a mock in front of real upstreams on 127.0.0.1.

The upstreams are real servers: a second mock instance (each API's documented flows must give
the same answers through the proxy as direct, with no response violation), and a deliberately
drifted one (`DriftUpstream`, a small ASGI app under uvicorn) that answers a field of the wrong
type, a status the spec lacks, too slowly, or drops the connection; a closed port refuses it and
a plain-HTTP port fails TLS. Everything runs on both stores (the `make_server` fixture).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest
import uvicorn

from mockserver.server import BackgroundServer
from mockserver.settings import SettingsError
from tests.conftest import SEED_BODIES, seed_body, test_settings

ROOT = Path(__file__).resolve().parents[2]
APIS = ("statusbadge", "sonoran", "collect", "playwave", "lucit")
SONORAN = "/v2/general/servers/1/heartbeat"
COLLECT = "/api/systems/heartbeat"
PLAYWAVE = "/v1/game/session/heartbeat"
LCUID = "LCUID-LD-5b1c2d3e-0000-4000-8000-000000000001"
LUCIT = f"/api/v3/analytics/lightning-devices/{LCUID}/heartbeat"
LUCIT_HEADERS = {
    "Authorization": "Bearer tok-lucit",
    "AppIdV3": "LCUID-LAP-5c43c6e0-e03d-45ff-92b1-1bd05122dcb3",
    "Accept": "application/json",
}
DOC_SESSION = SEED_BODIES["playwave"]["game_session_id"]
DOC_MESSAGE = "Heartbeat recorded successfully"
FROZEN = {"now": "2026-06-01T12:00:00Z", "frozen": True}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=15)


@pytest.fixture
def pair(make_server):
    """(upstream mock, proxy mock in front of it for every API), both reset, clocks frozen."""
    upstream = make_server()
    proxied = {api: {"proxy": upstream.url} for api in APIS}
    proxy = make_server(api_settings=proxied)
    return upstream, proxy


def journal(c: httpx.Client, **params) -> list[dict]:
    r = c.get("/__mock/requests", params=params)
    r.raise_for_status()
    return r.json()["requests"]


def flows(c: httpx.Client, control: httpx.Client) -> list[tuple[int, object]]:
    """Each API's documented flow (tests/api/*), seeded through `control` (the upstream's
    control API): the answers as (status, body without the per-request id)."""
    out = []

    def keep(r: httpx.Response) -> None:
        body = r.json() if "json" in r.headers.get("content-type", "") else r.text
        if isinstance(body, dict):
            body.pop("request_id", None)
        out.append((r.status_code, body))

    beat = c.post("/api/heartbeat", json=seed_body("statusbadge"))
    keep(beat)
    public_id = beat.json()["publicId"]
    keep(c.get(f"/api/status/{public_id}"))
    keep(c.get(f"/api/badge/{public_id}"))
    keep(c.post("/api/heartbeat", json={"token": "nope"}))  # the documented 400, forwarded
    keep(c.post(SONORAN, json=seed_body("sonoran"), headers={"Authorization": "Bearer k-123456"}))
    keep(c.post(COLLECT, json=seed_body("collect"), auth=("agent", "s3cret")))
    seeded = {"provider_user_id": "123456789", "game_session_id": DOC_SESSION}
    control.post("/__mock/playwave/sessions", json=seeded).raise_for_status()
    keep(c.patch(PLAYWAVE, json=seed_body("playwave"), headers={"X-Api-Key": "game-key"}))
    queued = {"instruction": "reload"}
    control.post(f"/__mock/lucit/devices/{LCUID}/instructions", json=queued).raise_for_status()
    keep(c.post(LUCIT, json=seed_body("lucit"), headers=LUCIT_HEADERS))
    instruction = out[-1][1]["lightning_device_remote_instruction"]
    assert instruction["instruction"] == "reload"
    instruction.pop("lcuid")  # made anew on each upstream
    return out


def test_documented_flows_answer_the_same_through_the_proxy_as_direct(pair):
    upstream, proxy = pair
    with client(upstream) as up, client(proxy) as px:
        for c in (up, px):
            c.post("/__mock/clock/set", json=FROZEN).raise_for_status()
        through = flows(px, up)
        up.post("/__mock/reset").raise_for_status()
        up.post("/__mock/clock/set", json=FROZEN).raise_for_status()
        direct = flows(up, up)
        assert through == direct
        entries = journal(px)
        assert len(entries) == len(through)
        for e in entries:
            assert [v for v in e["violations"] if v["location"] == "response"] == [], e
            assert e["proxied"]["status"] == e["status"]
            assert e["proxied"]["url"] == upstream.url + e["path"]
        assert [e["status"] for e in entries] == [s for s, _ in through]
        # The proxy's own Fakes are untouched: the upstream holds the state.
        assert px.get("/__mock/statusbadge/servers").json()["count"] == 0
        assert px.get("/__mock/playwave/sessions").json()["count"] == 0
        report = px.get("/__mock/report").json()["apis"]
        assert all(report[api]["drift"] == [] for api in APIS)
        assert sum(report[api]["proxied"] for api in APIS) == len(entries)  # all, none drifted


def test_cadence_findings_work_on_proxied_traffic(pair):
    _, proxy = pair
    with client(proxy) as px:
        px.post("/__mock/clock/freeze").raise_for_status()
        for _ in range(4):
            assert px.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 200
            px.post("/__mock/clock/advance", json={"seconds": 30}).raise_for_status()
        px.post("/__mock/clock/advance", json={"seconds": 400}).raise_for_status()
        (seen,) = px.get("/__mock/report").json()["apis"]["statusbadge"]["clients"]
        assert seen["identity"] == "srv_pub_a3a9e1ed9732"
        assert seen["heartbeats"] == 4
        assert any("silent for" in f for f in seen["findings"]), seen["findings"]


def test_faults_and_the_body_limit_apply_before_forwarding(pair):
    upstream, proxy = pair
    with client(upstream) as up, client(proxy) as px:
        rule = {"api": "statusbadge", "operation": "statusbadge_heartbeat", "status": 503}
        px.post("/__mock/faults", json=rule).raise_for_status()
        assert px.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 503
        big = {**seed_body("statusbadge"), "pad": "x" * 1_100_000}
        r = px.post("/api/heartbeat", json=big)
        assert r.status_code == 413 and r.json()["error"] == "Payload Too Large"
        assert journal(up) == []  # neither reached the upstream
        assert all("proxied" not in e for e in journal(px))


def test_the_upstream_pool_opens_on_first_use_and_closes_with_the_server(pair):
    upstream, proxy = pair
    (gate,) = {id(t): t for p, t in proxy.app.routes if p == "/api/heartbeat"}.values()
    assert gate.proxy.upstream._client is None
    with client(proxy) as px:
        assert px.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 200
    pool = gate.proxy.upstream._client
    assert pool is not None and not pool.is_closed
    proxy.stop()
    assert pool.is_closed and gate.proxy.upstream._client is None


def test_serve_prints_which_apis_are_proxied_and_where():
    target = f"http://127.0.0.1:{free_port()}"
    argv = ["serve", "--port", "0", "--proxy", f"sonoran={target}", "--proxy", f"lucit={target}"]
    with subprocess.Popen(
        [sys.executable, "-m", "mockserver", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as serve:
        lines: list[str] = []
        deadline = threading.Timer(30, serve.kill)  # a serve that never gets ready ends the read
        deadline.start()
        try:
            for line in serve.stdout:
                lines.append(line.rstrip("\n"))
                if line.startswith("ready ") or len(lines) > 200:
                    break
        finally:
            deadline.cancel()
            serve.terminate()
            serve.wait(15)
    assert f"sonoran: proxied to {target} (observe; timeout 10 s)" in lines
    assert f"lucit: proxied to {target} (observe; timeout 10 s)" in lines
    assert not any(line.startswith("statusbadge: proxied") for line in lines)


# --- a drifted upstream ------------------------------------------------------------------------


class DriftUpstream:
    """A small ASGI app on 127.0.0.1 that answers statusbadge's heartbeat as `mode` says:
    `wrong_type` (publicId a number), `teapot` (418, a status the spec lacks), `slow` (no
    answer until released), `drop` (the connection closed without an answer)."""

    def __init__(self) -> None:
        self.mode = "wrong_type"
        self.seen: list[tuple[str, str, dict, bytes]] = []
        self.release = threading.Event()
        self.port = free_port()
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            interface="asgi3",
            log_level="critical",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def app(self, scope, receive, send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.seen.append((scope["method"], scope["path"], headers, body))
        if self.mode == "slow":
            for _ in range(100):  # bounded: until the test releases it, at most 10 s
                if self.release.is_set():
                    break
                await asyncio.sleep(0.1)
        if scope["method"] == "HEAD":  # the length a GET would have, no body
            start = [(b"content-type", b"image/svg+xml"), (b"content-length", b"57")]
            await send({"type": "http.response.start", "status": 200, "headers": start})
            await send({"type": "http.response.body", "body": b""})
            return
        if self.mode == "drop":
            send.__self__.transport.close()  # uvicorn's cycle: no answer at all
            return
        status, answer = 200, {"success": True, "publicId": 42, "message": DOC_MESSAGE}
        if self.mode == "teapot":
            status, answer = 418, {"error": "I'm a teapot"}
        data = json.dumps(answer).encode()
        out = [(b"content-type", b"application/json"), (b"x-upstream", b"drift")]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": data})

    def __enter__(self) -> DriftUpstream:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            self.thread.join(0.05)
        raise RuntimeError("the drift upstream did not start")

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def drift():
    with DriftUpstream() as upstream:
        yield upstream


def proxied_to(make_server, url: str, **settings):
    return make_server(api_settings={"statusbadge": {"proxy": url, **settings}})


def only(entries: list[dict]) -> dict:
    assert len(entries) == 1, entries
    return entries[0]


def drift_groups(c: httpx.Client) -> dict[str, dict]:
    groups = c.get("/__mock/report").json()["apis"]["statusbadge"]["drift"]
    return {g["kind"]: g for g in groups}


def test_a_field_of_the_wrong_type_is_a_response_violation_and_the_answer_goes_back(
    make_server, drift
):
    proxy = proxied_to(make_server, drift.url)
    with client(proxy) as px:
        r = px.post("/api/heartbeat", json=seed_body("statusbadge"))
        assert r.status_code == 200 and r.json()["publicId"] == 42  # unchanged
        assert r.headers["x-upstream"] == "drift"
        assert len(r.headers.get_list("date")) == 1  # the upstream's and the server's: one
        e = only(journal(px))
        assert e["valid"] is False and e["proxied"]["status"] == 200
        (v,) = e["violations"]
        assert v == {
            "key": "publicId",
            "rule": "type",
            "message": "42 is not of type 'string'",
            "value": "42",
            "location": "response",
        }
        group = drift_groups(px)["type"]
        assert group["operation"] == "statusbadge_heartbeat" and group["answers"] == 1
        assert group["examples"][0]["key"] == "publicId"
        text = px.get("/__mock/report", params={"format": "text"}).text
        assert "drift statusbadge_heartbeat type: 1 answer(s)" in text
        assert px.get("/__mock/report", params={"format": "html"}).status_code == 200


def test_a_status_the_spec_lacks_is_a_response_violation(make_server, drift):
    drift.mode = "teapot"
    proxy = proxied_to(make_server, drift.url)
    with client(proxy) as px:
        r = px.post("/api/heartbeat", json=seed_body("statusbadge"))
        assert r.status_code == 418 and r.json() == {"error": "I'm a teapot"}
        (v,) = only(journal(px))["violations"]
        assert v["rule"] == "status" and v["location"] == "response"
        assert v["message"].startswith("status 418 is not in the spec of statusbadge_heartbeat")
        assert drift_groups(px)["status"]["answers"] == 1


def test_a_slow_upstream_is_the_apis_own_504(make_server, drift):
    drift.mode = "slow"
    proxy = proxied_to(make_server, drift.url, proxy_timeout_seconds=0.3)
    with client(proxy) as px:
        r = px.post("/api/heartbeat", json=seed_body("statusbadge"))
        drift.release.set()
        assert r.status_code == 504
        assert r.json()["message"].startswith("the upstream did not answer in time")
        e = only(journal(px))
        assert e["proxied"]["status"] is None and e["proxied"]["ms"] >= 300
        assert e["proxied"]["error"].startswith("no answer within 0.3 s")
        assert e["violations"][0]["rule"] == "upstream_timeout"
        assert drift_groups(px)["upstream_timeout"]["examples"][0]["status"] == 504


def test_a_dropped_connection_is_the_apis_own_502(make_server, drift):
    drift.mode = "drop"
    proxy = proxied_to(make_server, drift.url)
    with client(proxy) as px:
        r = px.post("/api/heartbeat", json=seed_body("statusbadge"))
        assert r.status_code == 502 and set(r.json()) == {"error", "message"}
        e = only(journal(px))
        assert e["proxied"]["error"].startswith("connection dropped before a whole answer")
        assert "upstream_dropped" in drift_groups(px)


def test_a_refused_connection_is_the_apis_own_502(make_server):
    proxy = make_server(api_settings={"sonoran": {"proxy": f"http://127.0.0.1:{free_port()}"}})
    with client(proxy) as px:
        r = px.post(SONORAN, json=seed_body("sonoran"), headers={"Authorization": "Bearer k-1"})
        assert r.status_code == 502
        assert r.json()["error"] == "BAD_GATEWAY"  # Sonoran's own format
        e = only(journal(px))
        assert e["proxied"]["error"].startswith("connection refused")
        report = px.get("/__mock/report").json()["apis"]["sonoran"]["drift"]
        assert [g["kind"] for g in report] == ["upstream_refused"]


def test_an_answer_over_the_size_bound_is_a_502_not_memory_gone(make_server, drift, monkeypatch):
    monkeypatch.setattr("mockserver.http.upstream.UPSTREAM_BODY_LIMIT", 20)
    proxy = proxied_to(make_server, drift.url)
    with client(proxy) as px:
        assert px.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 502
        e = only(journal(px))
    assert e["proxied"]["error"] == "answer refused: the answer is over 20 bytes"
    assert e["violations"][0]["rule"] == "upstream_too_large"


def test_a_tls_failure_is_the_apis_own_502(make_server, drift):
    proxy = proxied_to(make_server, drift.url.replace("http://", "https://"))
    with client(proxy) as px:
        assert px.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 502
        assert only(journal(px))["proxied"]["error"].startswith("TLS error")


def test_the_proxy_target_changes_at_run_time(make_server, drift):
    proxy = make_server()
    with client(proxy) as px:
        assert px.post("/api/heartbeat", json=seed_body("statusbadge")).json()["publicId"] != 42
        r = px.patch("/__mock/settings/statusbadge", json={"proxy": drift.url})
        assert r.status_code == 200 and r.json()["proxy"]["source"] == "runtime"
        assert px.post("/api/heartbeat", json=seed_body("statusbadge")).json()["publicId"] == 42
        r = px.patch("/__mock/settings/statusbadge", json={"proxy": "ftp://nowhere"})
        assert r.status_code == 400 and "http:// or https://" in r.text


def test_a_head_answer_keeps_the_upstreams_length(make_server, drift):
    proxy = proxied_to(make_server, drift.url)
    with client(proxy) as px:
        r = px.head("/api/badge/srv_pub_a3a9e1ed9732")
    assert r.status_code == 200 and r.headers["content-length"] == "57" and r.content == b""


def test_a_proxy_that_names_itself_is_a_502_not_a_loop(make_server):
    proxy = make_server()
    with client(proxy) as px:
        px.patch("/__mock/settings/statusbadge", json={"proxy": proxy.url}).raise_for_status()
        r = px.post("/api/heartbeat", json=seed_body("statusbadge"))
        assert r.status_code == 502
        entries = journal(px)
    assert len(entries) == 2  # the request, and its one trip back, refused (journaled first)
    inner, outer = entries
    assert inner["proxied"]["error"].startswith("proxy loop") and inner["status"] == 502
    assert outer["proxied"]["status"] == 502 and "error" not in outer["proxied"]


# --- strict mode --------------------------------------------------------------------------------


def test_strict_mode_answers_an_invalid_request_itself_and_never_forwards_it(make_server, drift):
    proxy = proxied_to(make_server, drift.url, proxy_mode="strict")
    with client(proxy) as px:
        r = px.post("/api/heartbeat", json={"token": seed_body("statusbadge")["token"]})
        assert r.status_code == 400
        assert r.json() == {"error": "Missing required fields: token and data"}
        assert drift.seen == []
        e = only(journal(px))
        assert "proxied" not in e and e["violations"][0]["location"] == "body"
        drift.mode = "teapot"
        assert px.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 418
        assert len(drift.seen) == 1


def test_observe_mode_forwards_an_invalid_request_and_journals_its_violations(make_server, drift):
    proxy = proxied_to(make_server, drift.url)
    with client(proxy) as px:
        px.post("/api/heartbeat", json={"token": "nope"})
        assert len(drift.seen) == 1
        e = only(journal(px))
        assert {v["location"] for v in e["violations"]} >= {"body", "response"}


def test_the_request_reaches_the_upstream_as_the_client_sent_it(make_server, drift):
    proxy = proxied_to(make_server, drift.url)
    raw = b'{"token": "sk_live_550e8400-e29b-41d4-a716-446655440000",  "data": {}}'
    with client(proxy) as px:
        headers = {"Content-Type": "application/json", "X-Trace": "t-1", "Connection": "close"}
        px.post("/api/heartbeat?a=1&b=%20", content=raw, headers=headers)
    ((method, path, seen, body),) = drift.seen
    assert (method, path, body) == ("POST", "/api/heartbeat", raw)
    assert seen["x-trace"] == "t-1" and seen["content-type"] == "application/json"
    assert "connection" not in seen or seen["connection"] != "close"
    assert seen["host"] == f"127.0.0.1:{drift.port}"


# --- the secret canary --------------------------------------------------------------------------


def test_secrets_sent_through_the_proxy_never_show_in_the_journal_or_report(make_server, drift):
    bearer = "canary" + "b" * 40
    proxy = make_server(
        api_settings={"sonoran": {"proxy": drift.url}, "statusbadge": {"proxy": drift.url}}
    )
    token, in_query = f"sk_live_{uuid.uuid4()}", f"sk_live_{uuid.uuid4()}"
    with client(proxy) as px:
        px.post(SONORAN, json=seed_body("sonoran"), headers={"Authorization": f"Bearer {bearer}"})
        px.post(
            f"/api/heartbeat?token={in_query}", json={**seed_body("statusbadge"), "token": token}
        )
        surfaces = [
            px.get("/__mock/requests").text,
            px.get("/__mock/report").text,
            px.get("/__mock/report", params={"format": "text"}).text,
        ]
    assert drift.seen[0][2]["authorization"] == f"Bearer {bearer}"  # forwarded as sent
    assert json.loads(drift.seen[1][3])["token"] == token
    for text in surfaces:
        for secret in (bearer, token, in_query):
            assert secret[6:16] not in text
    assert f"{drift.url}/api/heartbeat?token=sk_liv***" in surfaces[0]


def test_a_proxy_url_with_credentials_in_it_is_refused(make_server):
    with pytest.raises(SettingsError, match="credentials"):
        make_server(api_settings={"sonoran": {"proxy": "http://user:pw@127.0.0.1:9"}})


# --- the contract suite through a proxy ---------------------------------------------------------


def test_the_contract_suite_passes_through_a_proxy_in_front_of_a_mock():
    """Once, not per store and engine: the suite takes half a minute."""
    with (
        BackgroundServer(test_settings()) as upstream,
        BackgroundServer(
            test_settings(api_settings={"statusbadge": {"proxy": upstream.url}})
        ) as proxy,
    ):
        run = contract_through(proxy)
        with client(proxy) as px:
            entries = journal(px, limit=1000)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "contract: passed" in run.stdout
    assert entries and all("proxied" in e for e in entries)


def contract_through(proxy) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "contract", "--url", proxy.url]
        + ["--api", "statusbadge", "--max-examples", "3"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
