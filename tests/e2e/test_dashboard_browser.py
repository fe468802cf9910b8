"""The live dashboard and the HTML report in a real headless browser (Debian's chromium driven
by Playwright, as tests/e2e/test_docs_browser.py does), with issue 20's scripted scenario driven
through the control API and the mock clock: a PlayWave client heartbeating every 250 s against
the 240 s TTL, a statusbadge server silent past its stale timeout, a Sonoran key rate-limited,
and a 503 fault on statusbadge for two of its beats (its window a band, each clock jump a
labelled break). No console error, no request beyond 127.0.0.1; screenshots land in
test-artifacts/dashboard/. Behind a control token the dashboard sends it on every call."""

from __future__ import annotations

import httpx
import pytest

from mockserver.server import BackgroundServer
from tests.conftest import test_settings
from tests.e2e.test_docs_browser import browser, playwright_driver  # noqa: F401 (fixtures)

ARTIFACTS = "dashboard"  # screenshots: test-artifacts/dashboard/ (tests/e2e/conftest.py)

pytestmark = pytest.mark.e2e
TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
CONTROL_TOKEN = "s3cret-control-token-1234"


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
    rule = {"api": "statusbadge", "status": 503, "times": 2}  # two beats meet a 503
    http.post("/__mock/faults", json=rule).raise_for_status()
    http.post("/api/heartbeat", json=badge)
    http.post("/__mock/clock/advance", json={"seconds": 40}).raise_for_status()
    http.post("/api/heartbeat", json=badge)
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


@pytest.fixture(scope="module")
def guarded():
    """The same scenario on a mock that needs X-Mock-Token on /__mock."""
    with BackgroundServer(test_settings(control_token=CONTROL_TOKEN)) as server:
        headers = {"X-Mock-Token": CONTROL_TOKEN}
        with httpx.Client(base_url=server.url, timeout=10, headers=headers) as http:
            scenario(http)
        yield server


def open_page(browser, url: str, problems: list[str]):  # noqa: F811
    page = browser.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))

    def outside(request):
        if not request.url.startswith(("http://127.0.0.1", "file://", "data:", "about:", "blob:")):
            problems.append(f"network beyond 127.0.0.1: {request.url}")

    page.on("request", outside)
    page.goto(url, wait_until="load")
    return page


def open_offline_report(browser, base_url: str, tmp_path, problems: list[str]):  # noqa: F811
    """The mock's HTML report saved to a file and opened from there (file://), as a person
    opens it from a CI run's artifacts."""
    html = httpx.get(base_url + "/__mock/report", params={"format": "html"}).text
    path = tmp_path / "report.html"
    path.write_text(html)
    return open_page(browser, path.as_uri(), problems)


def check_marks(page) -> None:
    pw = page.locator('[data-api="playwave"] .gap.ttl')
    assert pw.count() == 3  # two 250 s gaps and the silence since
    assert pw.first.get_attribute("data-effect") == "the session expired"
    sb = page.locator('[data-api="statusbadge"] .gap.stale')
    assert sb.count() == 3 and sb.first.get_attribute("data-effect") == "the server showed offline"
    assert page.locator('[data-api="sonoran"] .mark.s429').count() == 1
    assert page.locator('[data-api="sonoran"] .mark.s2xx').count() == 10
    faulted = page.locator('[data-api="statusbadge"] .mark.s5xx.fault')
    assert faulted.count() == 2 and faulted.first.get_attribute("data-status") == "503"
    band = page.locator("#api-statusbadge .eventrow .fault-window")
    assert band.count() == 1 and band.first.get_attribute("data-label") == "fault-1: 503"
    assert page.locator('#api-playwave .eventrow .jump[data-label="clock +250 s"]').count() == 3
    assert page.locator('#api-playwave .eventrow .jump[data-label="clock +40 s"]').count() == 1
    assert page.locator("#api-playwave .eventrow text", has_text="clock +250 s").count() == 3
    assert page.locator("#api-statusbadge .eventrow text", has_text="fault-1: 503").count() == 1
    told = page.locator('[data-api="playwave"] .findings li', has_text="told it to stop")
    assert told.count() == 1


def test_the_html_report_shows_the_scenario_offline(browser, served, artifacts, tmp_path):  # noqa: F811
    problems: list[str] = []
    page = open_offline_report(browser, served.url, tmp_path, problems)
    check_marks(page)
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    page.close()
    assert problems == []


def test_the_dashboard_shows_timelines_journal_faults_and_clock(browser, served, artifacts):  # noqa: F811
    problems: list[str] = []
    page = open_page(browser, served.url + "/__mock/ui/", problems)
    page.wait_for_selector("#report .client", timeout=15_000)
    check_marks(page)
    assert page.locator("#journal-rows tr").count() == 19  # 3 + 5 + 11 heartbeats
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


def watch_token(page, problems: list[str]) -> None:
    """Every call to the control API carries the token as its header, never in its URL."""

    def check(request):
        if CONTROL_TOKEN in request.url:
            problems.append(f"token in a URL: {request.url}")
        path = request.url.split("127.0.0.1", 1)[-1]
        calls_control = "/__mock/" in path and "/__mock/ui/" not in path
        if calls_control and request.headers.get("x-mock-token") != CONTROL_TOKEN:
            problems.append(f"no token on {request.url}")

    page.on("request", check)


def test_the_dashboard_works_behind_a_control_token_from_the_fragment(browser, guarded):  # noqa: F811
    problems: list[str] = []
    page = browser.new_page()
    watch_token(page, problems)
    page.goto(guarded.url + "/__mock/ui/#token=" + CONTROL_TOKEN, wait_until="load")
    page.wait_for_selector("#report .client", timeout=15_000)
    assert CONTROL_TOKEN not in page.url  # the fragment is dropped from the address bar
    check_marks(page)
    assert page.locator("#journal-rows tr").count() == 19
    assert page.is_hidden("#token-form")
    before = page.inner_text("#clock-now")
    page.click("#advance")
    page.wait_for_function(f"document.getElementById('clock-now').textContent !== '{before}'")
    with page.expect_popup() as popup:
        page.click("#report-link")
    report = popup.value
    report.wait_for_selector(".client", timeout=10_000)
    check_marks(report)
    report.close()
    page.close()
    assert problems == []


def test_the_dashboard_asks_for_the_token_and_keeps_it_for_the_tab(browser, guarded):  # noqa: F811
    problems: list[str] = []
    page = browser.new_page()
    page.goto(guarded.url + "/__mock/ui/", wait_until="load")
    page.wait_for_selector("#token-form:not([hidden])", timeout=10_000)
    assert page.locator("#report .client").count() == 0
    page.fill("#token", "wrong")
    page.click("#token-form button")
    page.wait_for_selector("#token-error:text('refused')", timeout=10_000)
    watch_token(page, problems)
    page.fill("#token", CONTROL_TOKEN)
    page.click("#token-form button")
    page.wait_for_selector("#report .client", timeout=15_000)
    page.wait_for_selector("#token-form[hidden]", state="attached", timeout=10_000)
    page.reload(wait_until="load")  # kept in sessionStorage, for this tab only
    page.wait_for_selector("#report .client", timeout=15_000)
    page.close()
    assert problems == []
    assert httpx.get(guarded.url + "/__mock/health").status_code == 401  # still guarded


def test_behind_a_token_only_the_static_page_loads_without_it(guarded):
    page = httpx.get(guarded.url + "/__mock/ui/")
    script = httpx.get(guarded.url + "/__mock/ui/dashboard.js")
    assert page.status_code == 200 and script.status_code == 200
    for state in ("/v1/game/session", "sonora", "srv_pub_", "fault-1", CONTROL_TOKEN):
        assert state not in page.text and state not in script.text  # none of the mock's state
    assert httpx.post(guarded.url + "/__mock/ui/").status_code == 405  # read-only, token or not
    for path in ("/__mock/events", "/__mock/report", "/__mock/requests", "/__mock/"):
        assert httpx.get(guarded.url + path).status_code == 401
