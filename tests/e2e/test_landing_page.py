"""The landing page at `/__mock/` in a real headless browser (Debian's chromium driven by
Playwright, as tests/e2e/test_docs_browser.py does): the URL `serve` prints loads with no console
error and no request beyond 127.0.0.1, shows every enabled API, and every link on it answers 200.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mockserver.apis import api_names
from mockserver.server import BackgroundServer
from tests.conftest import test_settings

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
FLAGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if shutil.which("chromium") is None or not Path(CHROMIUM).is_file():
        pytest.fail("needs Debian's chromium at /usr/bin/chromium: `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("needs playwright: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def server():
    with BackgroundServer(test_settings()) as running:
        yield running


def open_page(browser, url: str):
    """The page at `url`, and what went wrong while it loaded: console errors, uncaught
    exceptions, failed requests, HTTP errors, and any request to a host but 127.0.0.1."""
    problems: list[str] = []
    page = browser.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))

    def outside(request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme != "data" and parts.hostname != "127.0.0.1":
            problems.append(f"network beyond 127.0.0.1: {request.url}")

    page.on("request", outside)
    response = page.goto(url, wait_until="load")
    return page, response, problems


def test_the_landing_page_loads_clean_and_every_link_answers_200(browser, server):
    page, response, problems = open_page(browser, server.url + "/__mock/")
    try:
        assert response.status == 200
        text = " ".join(page.inner_text("body").split())
        for api in api_names():
            assert page.locator(f"section#{api}").count() == 1, api
        assert "POST /api/heartbeat" in text
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        assert len(hrefs) > 10
        for href in sorted(set(hrefs)):
            assert urlsplit(href).hostname == "127.0.0.1", href
            answer = page.request.get(href, max_redirects=0)
            assert answer.status == 200, f"{href}: HTTP {answer.status}"
        assert problems == []
    finally:
        page.close()


@pytest.mark.parametrize(
    ("typed", "lands_on"),
    [("/__mock", "/__mock/"), ("/__mock/docs/statusbadge/", "/__mock/docs/statusbadge.html")],
)
def test_the_urls_a_newcomer_types_lead_to_a_page(browser, server, typed, lands_on):
    page, response, problems = open_page(browser, server.url + typed)
    try:
        assert response.status == 200 and page.url == server.url + lands_on
        assert problems == []
    finally:
        page.close()
