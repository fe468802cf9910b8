"""The docs in a real headless browser (Debian's chromium, driven by Playwright; never a browser
Playwright downloads): the static site opened from disk with the network off (with scripts, and
with scripts off), the live pages under `/__mock/docs/` with "try it" and the journal, and Swagger
UI. Every page must load without a console error; the navigation column must reach every
operation, at desktop and at phone width; screenshots land in test-artifacts/docs/ (desktop and
phone; docs/screenshots/ in the repo holds one of each, shown in the README).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from mockserver.docs.model import load_api_docs
from mockserver.docs.spec_page import SpecPage
from mockserver.docs.static import build_site
from mockserver.server import BackgroundServer
from mockserver.spec.loader import SPEC_DIR
from tests.conftest import SEED_BODIES, test_settings

ARTIFACTS = "docs"  # screenshots: test-artifacts/docs/ (tests/e2e/conftest.py)

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
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
APIS, CONTROL = load_api_docs(SPEC_DIR)
# Every spec with the page it is on, and its operations' anchors.
DOCS = [(api.spec, f"{api.name}.html") for api in APIS] + [
    (doc, "control.html") for doc in [CONTROL] + [api.control for api in APIS if api.control]
]
PAGE_NAMES = ["index.html", *(f"{api.name}.html" for api in APIS), "control.html"]


def text_of(markdownish: str) -> str:
    """What a reader sees of spec text: backtick spans render as code, whitespace collapses."""
    return " ".join(markdownish.replace("`", "").split())


def _context(playwright, profile: Path, **options):
    return playwright.chromium.launch_persistent_context(
        str(profile),  # a fresh --user-data-dir
        executable_path=CHROMIUM,
        headless=True,
        args=FLAGS,
        viewport=DESKTOP,
        **options,
    )


@pytest.fixture(scope="module")
def playwright_driver():
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
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_driver, tmp_path_factory):
    context = _context(playwright_driver, tmp_path_factory.mktemp("chromium-profile"))
    yield context
    context.close()


@pytest.fixture(scope="module")
def noscript_browser(playwright_driver, tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-noscript")
    context = _context(playwright_driver, profile, java_script_enabled=False)
    yield context
    context.close()


class Visit:
    """Open one URL in a new tab; collect console errors, uncaught exceptions, failed requests
    and HTTP errors; keep a screenshot (full-page ones are JPEG: a long page as PNG takes
    seconds)."""

    def __init__(
        self,
        context,
        url: str,
        screenshot: Path | None = None,
        ready: str | None = None,
        full: bool = False,
        viewport: dict | None = None,
    ) -> None:
        self.problems: list[str] = []
        page = context.new_page()
        if viewport:
            page.set_viewport_size(viewport)
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
        if screenshot is not None:
            self.screenshot(screenshot, full)

    def screenshot(self, path: Path, full: bool = False) -> None:
        if full:
            self.page.screenshot(path=str(path.with_suffix(".jpg")), full_page=True, quality=70)
        else:
            self.page.screenshot(path=str(path.with_suffix(".png")))

    def in_view(self, anchor: str) -> bool:
        """The element is on screen, below the sticky top bar."""
        return self.page.evaluate(
            """(id) => { const r = document.getElementById(id).getBoundingClientRect();
                         const top = document.querySelector('.top').getBoundingClientRect();
                         return r.top >= top.bottom - 2 && r.top < window.innerHeight; }""",
            anchor,
        )

    def close(self) -> None:
        self.page.close()


def _offline(context, site: Path):
    remote: list[str] = []

    def refuse(route):
        if route.request.url.startswith("file:"):
            route.continue_()
            return
        remote.append(route.request.url)
        route.abort()

    context.set_offline(True)
    context.route("**/*", refuse)
    return remote


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    build_site(out)
    return out


@pytest.fixture
def offline_site(browser, site):
    """The static site on disk; the browser is offline and any non-file request is recorded
    and refused, so a page that needed the network would show it."""
    remote = _offline(browser, site)
    yield site, remote
    browser.unroute("**/*")
    browser.set_offline(False)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_static_page_loads_offline_without_errors(browser, offline_site, artifacts, name):
    site, remote = offline_site
    stem = name.removesuffix(".html")
    visit = Visit(browser, (site / name).as_uri(), artifacts / f"static-{stem}", full=True)
    assert visit.problems == []
    visit.screenshot(artifacts / f"desktop-{stem}")
    if visit.page.locator(".samples").count():  # a vendor API: its first samples and responses
        visit.page.locator("h4:has-text('Request samples')").first.scroll_into_view_if_needed()
        visit.page.evaluate("window.scrollBy(0, document.querySelector('.top').offsetHeight - 60)")
        visit.screenshot(artifacts / f"desktop-{stem}-samples")
    visit.close()
    phone = Visit(browser, (site / name).as_uri(), artifacts / f"phone-{stem}", viewport=PHONE)
    assert phone.problems == []
    wide = phone.page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"{name} is {wide} px wide on a {PHONE['width']} px phone"
    phone.close()
    assert remote == []


def test_static_index_lists_every_api_offline(browser, offline_site):
    site, remote = offline_site
    visit = Visit(browser, (site / "index.html").as_uri())
    for api in APIS:
        assert text_of(api.spec.title) in visit.text
        assert api.spec.source in visit.text
        assert f"{len(api.spec.assumptions)} assumed" in visit.text
    assert text_of(CONTROL.title) in visit.text
    visit.close()
    assert remote == []


@pytest.mark.parametrize("api", APIS, ids=[api.name for api in APIS])
def test_static_api_page_shows_operations_and_assumptions_offline(browser, offline_site, api):
    site, remote = offline_site
    index = Visit(browser, (site / "index.html").as_uri())
    index.page.click(f'main a[href="{api.name}.html"] >> nth=0')  # the index links work from disk
    index.page.wait_for_load_state("load")
    assert index.page.url == (site / f"{api.name}.html").as_uri()
    index.close()

    visit = Visit(browser, (site / f"{api.name}.html").as_uri())
    assert visit.problems == []
    assert visit.page.locator("section.op").count() == len(api.spec.operations)
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


def test_static_control_page_offline(browser, offline_site):
    site, remote = offline_site
    visit = Visit(browser, (site / "control.html").as_uri())
    assert visit.problems == []
    for doc in [CONTROL] + [api.control for api in APIS if api.control]:
        for op in doc.operations:
            assert f"{op.method} {op.native}" in visit.text
    assert visit.page.locator("main h1").count() == 1
    assert visit.text.count(CONTROL.title) == 1  # issue 17 item 11: the title once
    visit.close()
    assert remote == []


def _nav_reaches_every_operation(visit: Visit, doc, phone: bool) -> None:
    view = SpecPage(doc)
    for op in doc.operations:
        anchor = view.op_anchor(op)
        if phone:  # the column is folded: open it with the Contents button first
            assert visit.page.locator("nav.side").is_hidden()
            visit.page.click("label.nav-button")
        link = visit.page.locator(f'nav.side a[href="#{anchor}"]')
        assert link.is_visible(), anchor
        link.click()
        visit.page.wait_for_function("(id) => location.hash === '#' + id", arg=anchor)
        assert visit.in_view(anchor), f"{anchor} is not on screen after its nav link"
        if phone:
            visit.page.click("label.nav-button")  # fold it again


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize(("doc", "page_name"), DOCS, ids=[d.key for d, _ in DOCS])
def test_the_navigation_reaches_every_operation(browser, offline_site, doc, page_name, viewport):
    site, remote = offline_site
    size = PHONE if viewport == "phone" else DESKTOP
    visit = Visit(browser, (site / page_name).as_uri(), viewport=size)
    _nav_reaches_every_operation(visit, doc, phone=viewport == "phone")
    assert visit.problems == []
    visit.close()
    assert remote == []


def test_the_navigation_sits_beside_the_content_on_wide_screens_only(browser, offline_site):
    site, _ = offline_site
    page = (site / f"{APIS[0].name}.html").as_uri()
    wide = Visit(browser, page)
    nav, main = (
        wide.page.locator("nav.side").bounding_box(),
        wide.page.locator("main").bounding_box(),
    )
    assert nav["x"] + nav["width"] <= main["x"] + 1 and abs(nav["y"] - main["y"]) < 2
    wide.close()
    narrow = Visit(browser, page, viewport=PHONE)
    assert narrow.page.locator("nav.side").is_hidden()
    assert narrow.page.locator("label.nav-button").is_visible()
    narrow.close()


def test_sample_tabs_switch_and_search_finds_an_operation_offline(browser, offline_site):
    site, remote = offline_site
    api = next(a for a in APIS if len(a.spec.operations[0].op.get("responses", {})) > 1)
    op = api.spec.operations[0]
    anchor = SpecPage(api.spec).op_anchor(op)
    visit = Visit(browser, (site / f"{api.name}.html").as_uri())
    panels = visit.page.locator(f"#{anchor} .samples > .panel")
    assert panels.nth(0).is_visible() and not panels.nth(1).is_visible()
    visit.page.click(f'#{anchor} .samples > label[for="{anchor}-s1"]')
    assert panels.nth(1).is_visible() and not panels.nth(0).is_visible()

    box = visit.page.locator(".search input")
    assert box.is_visible()
    box.fill(f"{op.method} {op.native.split('/')[-1]}")
    result = visit.page.locator(f'.results a[href="{api.name}.html#{anchor}"]')
    result.first.wait_for(timeout=5_000)
    result.first.click()
    visit.page.wait_for_function("(id) => location.hash === '#' + id", arg=anchor)
    assert visit.problems == []
    visit.close()
    assert remote == []


@pytest.mark.parametrize(("doc", "page_name"), DOCS[: len(APIS)], ids=[a.name for a in APIS])
def test_pages_read_and_navigate_with_scripts_off(noscript_browser, site, doc, page_name):
    remote = _offline(noscript_browser, site)
    try:
        visit = Visit(noscript_browser, (site / page_name).as_uri())
        assert visit.page.locator(".search").is_hidden()  # the search box needs its script
        for op in doc.operations:
            assert f"{op.method} {op.native}" in visit.text
        _nav_reaches_every_operation(visit, doc, phone=False)
        anchor = SpecPage(doc).op_anchor(doc.operations[0])
        visit.page.click(f'#{anchor} .samples > label[for="{anchor}-s1"]')
        assert visit.page.locator(f"#{anchor} .samples > .panel").nth(1).is_visible()
        visit.close()
    finally:
        noscript_browser.unroute("**/*")
        noscript_browser.set_offline(False)
    assert remote == []


# --- the live docs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live():
    with BackgroundServer(test_settings()) as server:
        yield server


def test_live_docs_pages_load(browser, live, artifacts):
    for name in PAGE_NAMES:
        stem = name.removesuffix(".html")
        visit = Visit(browser, f"{live.url}/__mock/docs/{name}", artifacts / f"live-{stem}")
        visit.page.wait_for_selector("body[data-journal=loaded]", timeout=15_000)
        assert visit.problems == []
        assert "Behaviour" in visit.text or name == "index.html"
        visit.close()


def test_live_page_sends_the_sample_request_and_lists_it_from_the_journal(browser, live):
    httpx.post(f"{live.url}/__mock/reset").raise_for_status()
    api = next(a for a in APIS if a.name == "statusbadge")
    op = next(o for o in api.spec.operations if o.op["operationId"] == "statusbadge_heartbeat")
    anchor = SpecPage(api.spec).op_anchor(op)
    visit = Visit(browser, f"{live.url}/__mock/docs/{api.name}.html")
    visit.page.wait_for_selector("body[data-journal=loaded]", timeout=15_000)
    recent = visit.page.locator(f"#{anchor} .recent")
    assert "No requests to this operation yet" in recent.inner_text()
    visit.page.click(f"#{anchor} button.send")
    visit.page.wait_for_selector(f"#{anchor} .answer[data-status='200']", timeout=15_000)
    assert '"publicId": "srv_pub_a3a9e1ed9732"' in visit.page.inner_text(f"#{anchor} .answer")
    visit.page.wait_for_selector(f"#{anchor} .recent table", timeout=15_000)
    rows = recent.locator("tr")
    assert rows.count() == 2  # the header and the one request
    assert "POST /api/heartbeat" in rows.nth(1).inner_text() and "valid" in rows.nth(1).inner_text()
    assert visit.problems == []
    visit.close()


def test_live_page_shows_the_last_five_requests_newest_first(browser, live):
    httpx.post(f"{live.url}/__mock/reset").raise_for_status()
    for players in range(7):
        body = {**SEED_BODIES["statusbadge"], "data": {**SEED_BODIES["statusbadge"]["data"]}}
        body["data"]["players"] = players
        httpx.post(f"{live.url}/api/heartbeat", json=body).raise_for_status()
    ids = [
        e["id"] for e in httpx.get(f"{live.url}/__mock/requests?api=statusbadge").json()["requests"]
    ]
    api = next(a for a in APIS if a.name == "statusbadge")
    anchor = SpecPage(api.spec).op_anchor(api.spec.operations[0])
    visit = Visit(browser, f"{live.url}/__mock/docs/{api.name}.html")
    visit.page.wait_for_selector(f"#{anchor} .recent table", timeout=15_000)
    shown = visit.page.locator(f"#{anchor} .recent tr td:first-child").all_inner_texts()
    assert shown == [str(i) for i in reversed(ids[-5:])]
    assert "7 request(s)" in visit.page.inner_text(f"#{anchor} .recent")
    visit.close()


def test_try_it_opens_the_operation_in_swagger_ui(browser, live, artifacts):
    api = APIS[0]
    op = api.spec.operations[0]
    anchor = SpecPage(api.spec).op_anchor(op)
    visit = Visit(browser, f"{live.url}/__mock/docs/{api.name}.html")
    visit.page.click(f"#{anchor} a.button")
    visit.page.wait_for_selector(".opblock.is-open", timeout=15_000)
    opened = visit.page.locator(".opblock.is-open")
    assert opened.count() == 1 and op.native.split("/")[-1] in opened.inner_text()
    visit.screenshot(artifacts / f"live-{api.name}-try-it")
    assert visit.problems == []
    visit.close()


def test_live_swagger_ui_renders_every_operation(browser, live, artifacts):
    api = APIS[0]
    visit = Visit(
        browser,
        f"{live.url}/__mock/docs/{api.name}/ui/",
        artifacts / f"live-{api.name}-swagger-ui",
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
        artifacts / "live-control-swagger-ui",
        ready=".opblock",
    )
    assert visit.problems == []
    assert visit.page.locator(".opblock").count() == len(CONTROL.operations)
    options = visit.page.locator("select#select option").all_inner_texts()
    assert options == ["control"] + [f"{a.name} control routes" for a in APIS if a.control]
    # issue 17 item 11: Markdown no longer swallows `<api>` in the description
    assert "(specs/control/<api>.yaml)" in visit.text
    visit.close()


def test_the_journal_on_the_live_page_shows_hostile_requests_as_text(browser, live):
    httpx.post(f"{live.url}/__mock/reset").raise_for_status()
    hostile = "/api/status/%3Cimg%20src=x%20onerror=window.pwned=1%3E"
    assert httpx.get(f"{live.url}{hostile}").status_code in (400, 404)
    api = next(a for a in APIS if a.name == "statusbadge")
    op = next(o for o in api.spec.operations if o.op["operationId"] == "statusbadge_status")
    anchor = SpecPage(api.spec).op_anchor(op)
    visit = Visit(browser, f"{live.url}/__mock/docs/{api.name}.html")
    visit.page.wait_for_selector(f"#{anchor} .recent table", timeout=15_000)
    assert visit.page.locator(f"#{anchor} .recent img").count() == 0
    assert "<img src=x" in visit.page.inner_text(f"#{anchor} .recent table")
    assert visit.page.evaluate("window.pwned === undefined")
    visit.close()


def test_the_live_page_follows_journal_pages_to_the_newest_requests(browser, live):
    """The journal as a paged control API answers it (limit, after, next_after): the page reads
    on until next_after is null and shows the newest. (A journal without paging answers all at
    once, without next_after: the other live tests.)"""
    import json
    from urllib.parse import parse_qs, urlparse

    asked: list[dict] = []

    def journal(route):
        query = {k: v[0] for k, v in parse_qs(urlparse(route.request.url).query).items()}
        asked.append(query)
        after, limit = int(query.get("after", 0)), int(query["limit"])
        ids = list(range(after + 1, min(after + limit, 2500) + 1))
        entries = [
            {
                "id": i,
                "at": "2026-04-08T21:35:00Z",
                "api": "statusbadge",
                "method": "POST",
                "operation": "statusbadge_heartbeat",
                "path": "/api/heartbeat",
                "query": "",
                "status": 200,
                "valid": True,
                "violations": [],
                "fault": None,
            }
            for i in ids
        ]
        body = {
            "requests": entries,
            "count": len(entries),
            "next_after": ids[-1] if ids[-1] < 2500 else None,
        }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    api = next(a for a in APIS if a.name == "statusbadge")
    anchor = SpecPage(api.spec).op_anchor(api.spec.operations[0])
    page = browser.new_page()
    page.route("**/__mock/requests?*", journal)
    page.goto(f"{live.url}/__mock/docs/{api.name}.html")
    page.wait_for_selector(f"#{anchor} .recent table", timeout=15_000)
    shown = page.locator(f"#{anchor} .recent tr td:first-child").all_inner_texts()
    assert shown == ["2500", "2499", "2498", "2497", "2496"]
    assert "2500 request(s)" in page.inner_text(f"#{anchor} .recent")
    assert [q.get("after", "0") for q in asked] == ["0", "1000", "2000"]
    assert {q["api"] for q in asked} == {"statusbadge"}
    page.close()
