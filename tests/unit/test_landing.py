"""The landing page at `/__mock/`, the docs' `<api>/` redirects and `serve`'s summary
(mockserver.docs.landing), over real HTTP."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from mockserver.apis import api_class, api_names
from mockserver.app import build_app
from mockserver.cli import version
from mockserver.docs.landing import api_routes, seeding_warnings, serve_summary
from mockserver.spec.loader import operations, parsed_spec


def native_routes(api: str) -> list[tuple[str, str]]:
    spec = parsed_spec(api_class(api).spec)
    return [(op.method, op.template) for op in operations(spec) if op.method != "OPTIONS"]


def test_the_landing_page_lists_each_api_its_routes_and_auth(http):
    r = http.get("/__mock/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = html.unescape(re.sub(r"<[^>]+>", " ", r.text))
    text = " ".join(page.split())
    assert f"heartbeat-mockserver {version()}" in text
    apis = build_app().ctx.apis
    for name, api in apis.items():
        for method, path in native_routes(name):
            assert f"{method} {path}" in text, (name, method, path)
        assert " ".join(api.auth_hint().split()) in text
        if api.needs_seeding:
            assert api.needs_seeding in text
    for href in ("docs/", "report?format=text", "requests", "health", "clock"):
        assert f'href="{href}"' in r.text


def test_the_landing_page_shows_only_the_enabled_apis_and_escapes_what_it_shows(make_server):
    server = make_server(apis=["statusbadge"])
    r = httpx.get(server.url + "/__mock/")
    assert "/api/heartbeat" in r.text and "/v2/general/servers" not in r.text
    assert "sk_live_&lt;uuid v4&gt;" in r.text and "<uuid" not in r.text


def test_the_landing_page_is_read_only_and_bare_mock_leads_to_it(http):
    head = http.head("/__mock/")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(http.get("/__mock/").content)
    post = http.post("/__mock/")
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"
    assert post.json()["error"]["status"] == 405
    bare = http.get("/__mock")
    assert bare.status_code == 308 and bare.headers["location"] == "/__mock/"


@pytest.mark.parametrize("api", [*api_names(), "control"])
@pytest.mark.parametrize("end", ["", "/"])
def test_an_api_docs_folder_leads_to_its_page(http, api, end):
    r = http.get(f"/__mock/docs/{api}{end}")
    assert r.status_code == 308 and r.headers["location"] == f"/__mock/docs/{api}.html"
    assert http.get(r.headers["location"]).status_code == 200


def test_the_landing_page_needs_the_control_token_when_one_is_set(make_server):
    server = make_server(control_token="s3cret-token")
    assert httpx.get(server.url + "/__mock/").status_code == 401
    ok = httpx.get(server.url + "/__mock/", headers={"X-Mock-Token": "s3cret-token"})
    assert ok.status_code == 200


def test_serve_summary_lists_every_native_route_and_what_needs_seeding():
    app = build_app()
    lines = serve_summary(app.ctx.apis, "http://h:1", app.settings)
    text = "\n".join(lines)
    for name in api_names():
        for method, path in native_routes(name):
            assert re.search(rf"{method} +http://h:1{re.escape(path)}", text), (name, path)
        assert api_routes(app.ctx.apis[name])[0][1] in next(
            line for line in lines if line.startswith(name)
        )  # the API's first line is its heartbeat, with its auth
    seeded = [name for name, api in app.ctx.apis.items() if api.needs_seeding]
    assert seeded and all(f"seeding: {app.ctx.apis[n].needs_seeding}" in text for n in seeded)
    assert lines[-2:] == [
        "control      http://h:1/__mock/  (landing page: routes, docs, report)",
        "docs         http://h:1/__mock/docs/",
    ]
    assert seeding_warnings(app.ctx.apis, app.settings) == []


def test_no_control_warns_for_each_api_that_needs_seeding():
    app = build_app()
    off = app.settings.replace(control=False)
    warnings = seeding_warnings(app.ctx.apis, off)
    seeded = [name for name, api in app.ctx.apis.items() if api.needs_seeding]
    assert len(warnings) == len(seeded) >= 1
    assert all(w.startswith("mockserver: warning: --no-control leaves ") for w in warnings)
    assert serve_summary(app.ctx.apis, "http://h:1", off)[-1] == "control      off"
