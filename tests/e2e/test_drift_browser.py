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
from tests.e2e.test_dashboard_browser import open_offline_report, open_page
from tests.e2e.test_docs_browser import browser, playwright_driver  # noqa: F401 (fixtures)
from tests.e2e.test_proxy import DriftUpstream, free_port

ARTIFACTS = "drift"  # screenshots: test-artifacts/drift/ (tests/e2e/conftest.py)

pytestmark = pytest.mark.e2e
SONORAN_KEY = "Bearer sonoran-key-abcdef123456"
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'
FROZEN = {"now": "2026-06-01T12:00:00Z", "frozen": True}
SCREENSHOT = "docs/screenshots/drift-report.png"  # the README's Proxy mode picture


class Drifted(DriftUpstream):
    """`DriftUpstream` with two more modes: `unavailable`, the upstream's own 503 (an answer,
    unlike the proxy's 502/504 for none), and `hostile`, markup in a drifted field."""

    async def app(self, scope, receive, send) -> None:
        if self.mode not in ("unavailable", "hostile"):
            await super().app(scope, receive, send)
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        status, answer = 503, {"error": "Service Unavailable"}
        if self.mode == "hostile":  # markup where a string belongs: the report must escape it
            status, answer = 200, {"success": True, "publicId": [HOSTILE], "message": "x"}
        body = json.dumps(answer).encode()
        start = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": start})
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
        # A root with credentials is refused and changes nothing: none ever reaches health.
        secret = f"http://agent:pw-9f8e7d@127.0.0.1:{free_port()}"
        assert c.patch("/__mock/settings/collect", json={"proxy": secret}).status_code == 400
        health = c.get("/__mock/health")
        assert "pw-9f8e7d" not in health.text and len(health.json()["proxied"]) == 2
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
    px.post("/__mock/clock/set", json=FROZEN).raise_for_status()  # the same picture each run
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


def check_drift(page) -> None:
    """The drift section and the proxied marks, as the DOM holds them."""
    section = "#api-statusbadge"
    rows = page.locator(f"{section} tr.drift")
    assert rows.count() == 4
    kinds = {rows.nth(i).get_attribute("data-kind") for i in range(4)}
    assert kinds == {"type", "status", "upstream_timeout", "upstream_dropped"}
    typed = page.locator(f'{section} tr.drift[data-kind="type"]')
    assert typed.get_attribute("data-answers") == "2"
    assert "publicId: 42 is not of type 'string'" in typed.locator(".reason").inner_text()
    failures = page.locator(f"{section} tr.drift.upstream-failure")
    assert failures.count() == 2
    assert "no answer within 0.5 s" in page.inner_text(f"{section} table.drift-groups")
    marks = page.locator(f'{section} [data-api="statusbadge"] .mark.proxied')
    assert marks.count() == len(DRIFTS)
    assert page.locator(f"{section} .mark.proxied.upstream-failed").count() == 2
    own = page.locator(f'{section} .mark.proxied.s5xx[data-upstream-status="503"]')
    assert own.count() == 1  # the upstream's own 503: filled, not crossed
    assert page.locator(f"{section} .proxied-glyph").count() == len(DRIFTS)
    assert page.locator("#api-sonoran .mark.proxied").count() == 0
    assert page.locator("#api-sonoran tr.drift").count() == 0


def test_the_html_report_shows_drift_offline(browser, drifted, artifacts, repo_root, tmp_path):  # noqa: F811
    problems: list[str] = []
    page = open_offline_report(browser, drifted.url, tmp_path, problems)
    check_drift(page)
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    page.locator("#api-statusbadge").screenshot(path=str(artifacts / "drift.png"))
    shutil.copyfile(artifacts / "drift.png", Path(repo_root) / SCREENSHOT)
    page.close()
    assert problems == []


def test_the_dashboard_marks_and_filters_proxied_requests(browser, drifted, artifacts):  # noqa: F811
    problems: list[str] = []
    page = open_page(browser, drifted.url + "/__mock/ui/", problems)
    page.wait_for_selector("#report .client", timeout=15_000)
    check_drift(page)  # the report's own section, refreshed in place
    rows = page.locator("#journal-rows tr")
    assert rows.count() == len(DRIFTS) + 1
    badges = page.locator("#journal-rows td.proxied .badge")
    assert badges.count() == len(DRIFTS)
    assert badges.first.inner_text().startswith("upstream 200 · ")
    assert page.locator("#journal-rows .badge.failed").count() == 2
    assert page.locator('#journal-rows .badge[data-upstream-status="503"]').count() == 1
    page.select_option("#filter-proxied", "failed")
    assert rows.count() == 2
    assert {rows.nth(i).locator("td").nth(4).inner_text() for i in range(2)} == {"502", "504"}
    page.select_option("#filter-proxied", "mocked")
    assert rows.count() == 1 and rows.first.locator("td").nth(2).inner_text() == "sonoran"
    page.select_option("#filter-proxied", "proxied")
    assert rows.count() == len(DRIFTS)
    rows.first.click()
    (violation,) = page.locator("#detail-violations li.violation").all()
    assert violation.get_attribute("data-location") == "response"
    assert violation.inner_text() == "response publicId: 42 is not of type 'string'"
    assert '"proxied"' in page.inner_text("#detail-json")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    page.close()
    assert problems == []
