"""The docs in a real headless browser (Debian's chromium, driven by Playwright; never a browser
Playwright downloads): the static site opened from disk with the network off, the live pages under
`/__mock/docs/`, and Swagger UI. Every page must load without a console error and show its
operations and assumed behaviours. A full-page screenshot of each lands in test-artifacts/docs/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mockserver.docs.model import load_api_docs
from mockserver.docs.static import build_site
from mockserver.server import BackgroundServer
from mockserver.spec.loader import SPEC_DIR
from tests.conftest import test_settings

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APIS, CONTROL = load_api_docs(SPEC_DIR)


def text_of(markdownish: str) -> str:
    """What a reader sees of spec text: backtick spans render as code, whitespace collapses."""
    return " ".join(markdownish.replace("`", "").split())


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if shutil.which("chromium") is None or not Path(CHROMIUM).is_file():
        pytest.fail(
            "the docs browser test needs Debian's chromium at /usr/bin/chromium: "
            "`apt-get install -y chromium` (tests/run_all.py installs it when run as root)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the docs browser test needs playwright: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def artifacts(repo_root):
    path = Path(repo_root) / "test-artifacts" / "docs"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Visit:
    """Open one URL in a new tab; collect console errors, uncaught exceptions, failed requests
    and HTTP errors; keep a screenshot (full-page ones are JPEG: a long page as PNG takes
    seconds)."""

    def __init__(
        self,
        context,
        url: str,
        screenshot: Path | None,
        ready: str | None = None,
        full: bool = False,
    ) -> None:
        self.problems: list[str] = []
        page = context.new_page()
        page.on(
            "console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}")
        )
        page.on("pageerror", lambda e: self.problems.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"),
        )
        response = page.goto(url, wait_until="load")
        if ready:
            page.wait_for_selector(ready, timeout=15_000)
        assert response is None or response.ok, f"{url}: HTTP {response.status}"
        self.page = page
        self.text = " ".join(page.inner_text("body").split())
        if screenshot is not None and full:
            page.screenshot(path=str(screenshot.with_suffix(".jpg")), full_page=True, quality=70)
        elif screenshot is not None:
            page.screenshot(path=str(screenshot))

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def offline_site(browser, tmp_path):
    """The static site on disk; the browser is offline and any non-file request is recorded
    and refused, so a page that needed the network would show it."""
    build_site(tmp_path / "site")
    remote: list[str] = []

    def refuse(route):
        if route.request.url.startswith("file:"):
            route.continue_()
            return
        remote.append(route.request.url)
        route.abort()

    browser.set_offline(True)
    browser.route("**/*", refuse)
    yield tmp_path / "site", remote
    browser.unroute("**/*")
    browser.set_offline(False)


def test_static_index_lists_every_api_offline(browser, offline_site, artifacts):
    site, remote = offline_site
    visit = Visit(browser, (site / "index.html").as_uri(), artifacts / "static-index", full=True)
    assert visit.problems == []
    for api in APIS:
        assert text_of(api.spec.title) in visit.text
        assert api.spec.source in visit.text
        assert f"{len(api.spec.assumptions)} assumed" in visit.text
    assert text_of(CONTROL.title) in visit.text
    visit.close()
    assert remote == []


@pytest.mark.parametrize("api", APIS, ids=[api.name for api in APIS])
def test_static_api_page_shows_operations_and_assumptions_offline(
    browser, offline_site, artifacts, api
):
    site, remote = offline_site
    index = Visit(browser, (site / "index.html").as_uri(), None)
    index.page.click(f'a[href="{api.name}.html"] >> nth=0')  # the index links work from disk
    index.page.wait_for_load_state("load")
    assert index.page.url == (site / f"{api.name}.html").as_uri()
    index.close()

    page = (site / f"{api.name}.html").as_uri()
    visit = Visit(browser, page, artifacts / f"static-{api.name}", full=True)
    assert visit.problems == []
    sections = visit.page.locator("section.op")
    assert sections.count() == len(api.spec.operations)
    for op in api.spec.operations:
        assert f"{op.method} {op.native}" in visit.text
    assert "Behaviour" in visit.text and api.spec.source in visit.text
    for rule in api.spec.rules:
        assert text_of(rule) in visit.text
    for item in api.spec.assumptions:
        assert text_of(item.reason) in visit.text
        assert item.location in visit.text
    visit.close()
    assert remote == []


def test_static_control_page_offline(browser, offline_site, artifacts):
    site, remote = offline_site
    visit = Visit(
        browser, (site / "control.html").as_uri(), artifacts / "static-control", full=True
    )
    assert visit.problems == []
    for doc in [CONTROL] + [api.control for api in APIS if api.control]:
        for op in doc.operations:
            assert f"{op.method} {op.native}" in visit.text
    visit.close()
    assert remote == []


@pytest.fixture(scope="module")
def live():
    with BackgroundServer(test_settings()) as server:
        yield server


def test_live_docs_pages_load(browser, live, artifacts):
    visit = Visit(browser, f"{live.url}/__mock/docs/", artifacts / "live-index.png")
    assert visit.problems == []
    for api in APIS:
        assert text_of(api.spec.title) in visit.text
    visit.close()
    for name in [api.name for api in APIS] + ["control"]:
        visit = Visit(
            browser, f"{live.url}/__mock/docs/{name}.html", artifacts / f"live-{name}.png"
        )
        assert visit.problems == []
        assert "Behaviour" in visit.text
        visit.close()


def test_live_swagger_ui_renders_every_operation(browser, live, artifacts):
    api = APIS[0]
    visit = Visit(
        browser,
        f"{live.url}/__mock/docs/{api.name}/ui/",
        artifacts / f"live-{api.name}-swagger-ui.png",
        ready=".opblock",
    )
    assert visit.problems == []
    assert visit.page.locator(".opblock").count() == len(api.spec.operations)
    assert text_of(api.spec.title) in visit.text
    visit.close()


def test_live_control_swagger_ui_offers_each_api_s_control_routes(browser, live, artifacts):
    visit = Visit(
        browser,
        f"{live.url}/__mock/docs/control/ui/",
        artifacts / "live-control-swagger-ui.png",
        ready=".opblock",
    )
    assert visit.problems == []
    assert visit.page.locator(".opblock").count() == len(CONTROL.operations)
    options = visit.page.locator("select#select option").all_inner_texts()
    assert options == ["control"] + [f"{a.name} control routes" for a in APIS if a.control]
    visit.close()
