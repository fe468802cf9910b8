"""`/__mock/docs` on the running app: the same pages, each API's spec and Swagger UI, under the
control token, on paths no native API can use."""

from __future__ import annotations

import pytest

from mockserver.apis import api_names
from mockserver.docs.model import load_api_docs
from mockserver.docs.static import render_site
from mockserver.spec.loader import SPEC_DIR


@pytest.fixture
def client(asgi_client):
    return asgi_client()


def test_docs_index_lists_every_enabled_api(client):
    response = client.get("/__mock/docs/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for name in api_names():
        assert f'href="{name}.html"' in response.text
        assert f'href="{name}/ui/"' in response.text


def test_docs_pages_match_the_static_site_with_links_to_the_ui(client):
    apis, control = load_api_docs(SPEC_DIR)
    static = render_site(apis, control)
    for name in static:
        response = client.get(f"/__mock/docs/{name}")
        assert response.status_code == 200, name
        assert response.text.count('class="op"') == static[name].count('class="op"')


def test_docs_without_trailing_slash_redirect_so_relative_links_work(client):
    response = client.get("/__mock/docs", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/__mock/docs/"
    name = api_names()[0]
    response = client.get(f"/__mock/docs/{name}/ui", follow_redirects=False)
    assert response.headers["location"] == f"/__mock/docs/{name}/ui/"


def test_openapi_json_puts_this_mock_first_for_try_it_out(client):
    apis, _ = load_api_docs(SPEC_DIR)
    for api in apis:
        spec = client.get(f"/__mock/docs/{api.name}/openapi.json").json()
        assert spec["servers"][0] == {"url": api.spec.base or "/", "description": "this mock"}
        assert spec["servers"][1:] == api.spec.servers
        assert set(spec["paths"]) == set(api.spec.spec["paths"])


def test_control_specs_are_served_for_the_control_ui(client):
    assert client.get("/__mock/docs/control/openapi.json").json()["servers"] == [{"url": "/__mock"}]
    ui = client.get("/__mock/docs/control/ui/").text
    for api in load_api_docs(SPEC_DIR)[0]:
        if api.control:
            url = f"/__mock/docs/control/{api.name}/openapi.json"
            assert client.get(url).json()["servers"][0]["url"] == f"/__mock/{api.name}"
            assert f"../{api.name}/openapi.json" in ui


def test_swagger_ui_assets_come_from_the_installed_bundle(client):
    page = client.get(f"/__mock/docs/{api_names()[0]}/ui/").text
    assert "../../swagger-ui/swagger-ui-bundle.js" in page and "//cdn" not in page
    asset = client.get("/__mock/docs/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith("text/javascript")
    assert len(asset.content) > 100_000


@pytest.mark.parametrize(
    "path",
    [
        "/__mock/docs/nope.html",
        "/__mock/docs/swagger-ui/index.j2",
        "/__mock/docs/swagger-ui/%2e%2e",
        "/__mock/docs/swagger-ui/vendor/x.js",
        "/__mock/docsx",
    ],
)
def test_unknown_docs_paths_get_the_control_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["kind"] == "not_found"


def test_docs_are_read_only(client):
    response = client.post("/__mock/docs/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"]["kind"] == "method_not_allowed"


def test_docs_need_the_control_token_when_one_is_set(asgi_client):
    client = asgi_client(control_token="s3cret")
    assert client.get("/__mock/docs/").status_code == 401
    assert client.get("/__mock/docs/", headers={"X-Mock-Token": "s3cret"}).status_code == 200


def test_docs_list_only_the_enabled_apis(asgi_client):
    first, *others = api_names()
    client = asgi_client(apis=[first])
    index = client.get("/__mock/docs/").text
    assert f'href="{first}.html"' in index
    for name in others:
        assert f'href="{name}.html"' not in index
        assert client.get(f"/__mock/docs/{name}.html").status_code == 404


def test_docs_are_off_with_the_control_api(asgi_client):
    client = asgi_client(control=False)
    assert client.get("/__mock/docs/").status_code == 404


# --- Swagger UI reads descriptions as Markdown (issue 17, item 11) --------------------------


def test_swagger_ui_gets_descriptions_whose_angle_brackets_survive_markdown(client):
    served = client.get("/__mock/docs/control/openapi.json").json()["info"]["description"]
    # Markdown with HTML would swallow `<api>` as a tag: "(specs/control/.yaml)"
    assert "(specs/control/&lt;api>.yaml)" in served
    assert "`/__mock/<api>/`" in served  # code spans show `<` as it is


def test_markdown_safe_changes_descriptions_only():
    from mockserver.docs.live import markdown_safe

    spec = {
        "description": "a <b> and `<c>`",
        "paths": {"/x": {"get": {"description": "<y>", "summary": "<s>"}}},
        "components": {
            "schemas": {
                "T": {
                    "properties": {"description": {"type": "string", "description": "<d>"}},
                    "example": {"description": "<keep>"},
                    "enum": ["<keep>"],
                    "default": "<keep>",
                }
            }
        },
    }
    safe = markdown_safe(spec)
    assert safe["description"] == "a &lt;b> and `<c>`"
    assert safe["paths"]["/x"]["get"] == {"description": "&lt;y>", "summary": "<s>"}
    t = safe["components"]["schemas"]["T"]
    assert t["properties"]["description"] == {"type": "string", "description": "&lt;d>"}
    assert t["example"] == {"description": "<keep>"} and t["enum"] == ["<keep>"]
    assert t["default"] == "<keep>"
    assert spec["description"] == "a <b> and `<c>`"  # the loaded spec is not changed


# --- try it, the journal, and samples at the reader's address -------------------------------


def _section(page: str, anchor: str) -> str:
    start = page.index(f' id="{anchor}"')
    return page[start : page.index("</section>", start)]


def test_every_vendor_operation_links_to_swagger_ui_and_carries_its_sample_request(client):
    import html
    import json
    import re

    from mockserver.docs.spec_page import SpecPage

    apis, _ = load_api_docs(SPEC_DIR)
    for api in apis:
        page = client.get(f"/__mock/docs/{api.name}.html").text
        assert '<script src="assets/live.js" defer></script>' in page
        for op in api.spec.operations:
            section = _section(page, SpecPage(api.spec).op_anchor(op))
            tag = (op.op.get("tags") or ["default"])[0]
            assert f'href="{api.name}/ui/#/{tag}/{op.op["operationId"]}"' in section
            data = re.search(r'data-request="([^"]+)"', section).group(1)
            request = json.loads(html.unescape(data))
            assert request["method"] == op.method
            assert request["url"].split("?")[0].count("/") == op.native.count("/")
            assert not request["url"].startswith("http")  # this origin: same-origin fetch
            assert f'data-api="{api.name}" data-operation="{op.op["operationId"]}"' in section


def test_control_operations_link_to_their_spec_in_the_control_swagger_ui(client):
    from mockserver.docs.spec_page import SpecPage

    apis, control = load_api_docs(SPEC_DIR)
    page = client.get("/__mock/docs/control.html").text
    for op in control.operations:
        section = _section(page, SpecPage(control).op_anchor(op))
        assert f'href="control/ui/#/default/{op.op["operationId"]}"' in section
    for api in apis:
        for op in api.control.operations if api.control else []:
            section = _section(page, SpecPage(api.control).op_anchor(op))
            picker = f"{api.name}%20control%20routes"
            assert f'href="control/ui/?urls.primaryName={picker}#/default/' in section
            assert "data-request" not in section  # the mock's own routes: no journal, no send


def test_live_samples_name_the_mock_at_the_address_the_reader_used(client):
    page = client.get("/__mock/docs/sonoran.html", headers={"host": "mock.test:9000"}).text
    assert "http://mock.test:9000/v2/general/servers/1/heartbeat" in page
    assert "127.0.0.1:8080" not in page
    index = client.get("/__mock/docs/", headers={"host": "[::1]:8080"})
    assert index.status_code == 200


@pytest.mark.parametrize(
    "host", ['evil"><script>x</script>', "a b", "", "x" * 300, "h:99999999", "h/../p"]
)
def test_a_strange_host_header_gets_the_default_address(client, host):
    page = client.get("/__mock/docs/sonoran.html", headers={"host": host})
    assert page.status_code == 200
    assert "http://127.0.0.1:8080/v2/general/servers/1/heartbeat" in page.text
    assert "<script>x" not in page.text


def test_the_site_assets_are_served_with_their_types(client):
    for name, kind in [
        ("assets/docs.css", "text/css"),
        ("assets/search.js", "text/javascript"),
        ("assets/search-index.js", "text/javascript"),
        ("assets/live.js", "text/javascript"),
    ]:
        response = client.get(f"/__mock/docs/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(kind), name


def test_past_a_few_addresses_the_pages_use_the_default_one_without_rendering_again():
    from starlette.testclient import TestClient

    from mockserver.apis import api_class
    from mockserver.docs.live import MAX_ORIGINS, DocsApp

    docs = DocsApp(
        SPEC_DIR, [(n, api_class(n).spec, api_class(n).control_spec) for n in api_names()]
    )
    renders: list[str] = []
    render = docs._render
    docs._render = lambda origin: renders.append(origin) or render(origin)
    client = TestClient(docs)
    for i in range(MAX_ORIGINS + 5):
        page = client.get("/__mock/docs/sonoran.html", headers={"host": f"h{i}:8080"}).text
        shown = f"http://h{i}:8080/v2/" if i < MAX_ORIGINS else "http://127.0.0.1:8080/v2/"
        assert shown in page, i
    assert renders == [f"http://h{i}:8080" for i in range(MAX_ORIGINS)] + ["http://127.0.0.1:8080"]
