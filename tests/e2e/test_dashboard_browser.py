"""The live dashboard and the HTML report in a real headless browser (Debian's chromium driven
by Playwright, as tests/e2e/test_docs_browser.py does), with issue 20's scripted scenario driven
through the control API and the mock clock: a PlayWave client heartbeating every 250 s against
the 240 s TTL, a statusbadge server silent past its stale timeout, a Sonoran key rate-limited.
No console error, no request beyond 127.0.0.1; screenshots land in test-artifacts/dashboard/."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mockserver.server import BackgroundServer
from tests.conftest import test_settings
from tests.e2e.test_docs_browser import browser, playwright_driver  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e
TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"


def scenario(http: httpx.Client) -> None:
    http.post("/__mock/clock/freeze").raise_for_status()
    user = {"provider_user_id": "123456789"}
    sid = http.post("/__mock/playwave/sessions", json=user).json()["game_session_id"]
    data = {"status": "online", "players": 1, "maxPlayers": 8, "tps": 20, "version": "1"}
    badge = {"token": TOKEN, "data": {**data, "heartbeatIntervalSec": 30}}
    for _ in range(3):
        http.patch(
            "/v1/game/session/heartbeat",
            json={"game_session_id": sid, **user},
            headers={"X-Api-Key": "game-key-1"},
        )
        http.post("/api/heartbeat", json=badge)
        http.post("/__mock/clock/advance", json={"seconds": 250}).raise_for_status()
    for _ in range(11):
        http.post(
            "/v2/general/servers/1/heartbeat",
            json={"playerCount": 3},
            headers={"Authorization": "Bearer sonoran-key-abcdef123456"},
        )


@pytest.fixture(scope="module")
def served():
    with BackgroundServer(test_settings()) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            scenario(http)
        yield server


@pytest.fixture
def artifacts(repo_root):
    path = Path(repo_root) / "test-artifacts" / "dashboard"
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_page(browser, url: str, problems: list[str]):  # noqa: F811
    page = browser.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))

    def outside(request):
        if not request.url.startswith(("http://127.0.0.1", "file://", "data:", "about:")):
            problems.append(f"network beyond 127.0.0.1: {request.url}")

    page.on("request", outside)
    page.goto(url, wait_until="load")
    return page


def check_marks(page) -> None:
    pw = page.locator('[data-api="playwave"] .gap.ttl')
    assert pw.count() == 3  # two 250 s gaps and the silence since
    assert pw.first.get_attribute("data-effect") == "the session expired"
    sb = page.locator('[data-api="statusbadge"] .gap.stale')
    assert sb.count() == 3 and sb.first.get_attribute("data-effect") == "the server showed offline"
    assert page.locator('[data-api="sonoran"] .mark.s429').count() == 1
    assert page.locator('[data-api="sonoran"] .mark.s2xx').count() == 10


def test_the_html_report_shows_the_scenario_offline(browser, served, artifacts, tmp_path):  # noqa: F811
    html = httpx.get(served.url + "/__mock/report", params={"format": "html"}).text
    path = tmp_path / "report.html"
    path.write_text(html)
    problems: list[str] = []
    page = open_page(browser, path.as_uri(), problems)  # file://, as a CI artifact opens
    check_marks(page)
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    page.close()
    assert problems == []


def test_the_dashboard_shows_timelines_journal_faults_and_clock(browser, served, artifacts):  # noqa: F811
    problems: list[str] = []
    page = open_page(browser, served.url + "/__mock/ui/", problems)
    page.wait_for_selector("#report .client", timeout=15_000)
    check_marks(page)
    assert page.locator("#journal-rows tr").count() == 17
    page.fill("#filter-status", "429")
    assert page.locator("#journal-rows tr").count() == 1
    page.locator("#journal-rows tr").first.click()
    assert '"status": 429' in page.inner_text("#detail")
    page.fill("#filter-status", "")

    before = page.inner_text("#clock-now")
    page.fill("#advance-seconds", "30")
    page.click("#advance")
    page.wait_for_function(f"document.getElementById('clock-now').textContent !== '{before}'")
    page.fill("#fault-api", "statusbadge")
    page.click("#fault-form button")
    page.wait_for_selector("#fault-rows tr.fault", timeout=10_000)
    assert len(httpx.get(served.url + "/__mock/faults").json()["faults"]) == 1
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    page.click("#fault-rows tr.fault button")
    page.wait_for_selector("#fault-rows tr.fault", state="detached", timeout=10_000)
    assert httpx.get(served.url + "/__mock/faults").json()["faults"] == []
    page.click("#unfreeze")
    page.wait_for_selector("#clock-frozen:text('(running)')", timeout=10_000)
    page.close()
    assert problems == []
