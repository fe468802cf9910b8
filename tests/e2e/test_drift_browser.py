"""Drift where a person looks (issues 19 and 20): a mock proxying statusbadge to a deliberately
drifted upstream (tests/e2e/test_proxy.py's `DriftUpstream`, plus an answer of its own 503),
seen in the HTML report (the drift section, proxied marks on the timeline, upstream failures
told apart from the upstream's own 5xx), in the live dashboard (the journal's proxied column
and filter, each request's response violations) and in GET /__mock/health. The browser is
Debian's chromium driven by Playwright, as tests/e2e/test_dashboard_browser.py does: no console
error, no request beyond 127.0.0.1; screenshots land in test-artifacts/drift/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from mockserver.server import BackgroundServer
from tests.conftest import seed_body, test_settings
from tests.e2e.test_dashboard_browser import open_page
from tests.e2e.test_docs_browser import browser, playwright_driver  # noqa: F401 (fixtures)
from tests.e2e.test_proxy import DriftUpstream, free_port

pytestmark = pytest.mark.e2e
SONORAN_KEY = "Bearer sonoran-key-abcdef123456"
SCREENSHOT = "docs/screenshots/drift-report.png"  # the README's Proxy mode picture


class Drifted(DriftUpstream):
    """`DriftUpstream` with one more mode: `unavailable`, the upstream's own 503 (an answer,
    unlike the proxy's 502/504 for none)."""

    async def app(self, scope, receive, send) -> None:
        if self.mode != "unavailable":
            await super().app(scope, receive, send)
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        body = json.dumps({"error": "Service Unavailable"}).encode()
        start = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 503, "headers": start})
        await send({"type": "http.response.body", "body": body})


def test_health_lists_the_proxied_apis_and_where_they_go(make_server):
    target = f"http://127.0.0.1:{free_port()}"
    settings = {"statusbadge": {"proxy": target + "/", "proxy_mode": "strict"}}
    server = make_server(api_settings=settings)
    with httpx.Client(base_url=server.url, timeout=10) as c:
        health = c.get("/__mock/health").json()
        assert health["proxied"] == [
            {"api": "statusbadge", "url": target + "/", "mode": "strict", "timeout_seconds": 10.0}
        ]
        # A setting changed at run time shows at once, and so does its removal.
        c.patch("/__mock/settings/sonoran", json={"proxy": target}).raise_for_status()
        assert [p["api"] for p in c.get("/__mock/health").json()["proxied"]] == [
            "statusbadge",
            "sonoran",
        ]
        c.patch("/__mock/settings/sonoran", json={"proxy": None}).raise_for_status()
        c.patch("/__mock/settings/statusbadge", json={"proxy": None}).raise_for_status()
        assert c.get("/__mock/health").json()["proxied"] == []


def test_health_lists_no_proxied_api_when_all_are_mocked(http):
    assert http.get("/__mock/health").json()["proxied"] == []


# One beat per way an upstream drifts, 30 s apart on the mock clock: (mode, what the client gets).
DRIFTS = [
    ("wrong_type", 200),  # publicId a number
    ("wrong_type", 200),
    ("teapot", 418),  # a status the spec lacks
    ("unavailable", 503),  # the upstream's own 5xx: an answer
    ("slow", 504),  # no answer in time: the proxy's 504
    ("drop", 502),  # no answer at all: the proxy's 502
]


def drifted_traffic(px: httpx.Client, upstream: Drifted) -> None:
    """DRIFTS through the proxy, then one mocked Sonoran beat (an API not proxied)."""
    px.post("/__mock/clock/freeze").raise_for_status()
    for mode, status in DRIFTS:
        upstream.mode = mode
        assert px.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == status
        if mode == "slow":
            upstream.release.set()  # the upstream's handler ends; the client had its 504
        px.post("/__mock/clock/advance", json={"seconds": 30}).raise_for_status()
    upstream.mode = "wrong_type"
    sonoran = px.post(
        "/v2/general/servers/1/heartbeat",
        json={"playerCount": 3},
        headers={"Authorization": SONORAN_KEY},
    )
    assert sonoran.status_code == 200


def proxy_settings(upstream: Drifted, **overrides):
    proxied = {"statusbadge": {"proxy": upstream.url, "proxy_timeout_seconds": 0.5}}
    return test_settings(api_settings=proxied, **overrides)


@pytest.fixture(scope="module")
def drifted():
    with Drifted() as upstream, BackgroundServer(proxy_settings(upstream)) as server:
        with httpx.Client(base_url=server.url, timeout=15) as px:
            drifted_traffic(px, upstream)
        yield server
