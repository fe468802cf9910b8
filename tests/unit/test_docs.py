"""The docs generator: every operation, response, rule and assumption of every spec reaches the
pages (with anchors, code samples and an example per response) and the README tables; spec text
is escaped; the site is self-contained and the same specs give the same bytes."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from mockserver.docs.model import SpecDoc, load_api_docs
from mockserver.docs.readme import README_END, README_START, readme_tables, update_readme
from mockserver.docs.spec_page import PageContext, SpecPage
from mockserver.docs.static import build_site, esc, inline, render_site
from mockserver.spec.loader import SPEC_DIR

APIS, CONTROL = load_api_docs(SPEC_DIR)
PAGES = render_site(APIS, CONTROL)
API_IDS = [api.name for api in APIS]
# Every spec with the page it is shown on.
DOCS = [(api.spec, f"{api.name}.html") for api in APIS] + [
    (doc, "control.html") for doc in [CONTROL] + [api.control for api in APIS if api.control]
]
OUR_SCRIPTS = ("assets/search-index.js", "assets/search.js")


def test_every_vendor_spec_is_documented():
    names = sorted(p.stem for p in SPEC_DIR.glob("*.yaml") if p.stem != "control")
    assert sorted(API_IDS) == names
    assert set(PAGES) == {"index.html", "control.html", *(f"{name}.html" for name in names)}


@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_every_operation_appears_on_its_page(api):
    page = PAGES[f"{api.name}.html"]
    assert api.spec.operations
    for op in api.spec.operations:
        assert f'id="{api.name}-{op.anchor}"' in page
        assert f"{op.method}</span> <code>{esc(op.native)}</code>" in page


def test_every_control_operation_appears_on_the_control_page():
    page = PAGES["control.html"]
    for doc in [CONTROL] + [api.control for api in APIS if api.control]:
        assert doc.operations
        for op in doc.operations:
            assert f"{op.method}</span> <code>{esc(op.native)}</code>" in page, op.native
            assert op.native.startswith("/__mock/")


@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_the_index_lists_each_api_with_its_endpoints_auth_and_source(api):
    index = PAGES["index.html"]
    assert f'href="{api.name}.html"' in index
    assert esc(api.spec.title) in index
    assert f"<code>{esc(api.spec.source)}</code>" in index
    for line in api.spec.auth():
        assert inline(line) in index
    for op in api.spec.operations:
        assert f"<code>{op.method} {esc(op.native)}</code>" in index


@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_every_assumption_appears_with_its_place_and_reason(api):
    raw = (SPEC_DIR / api.spec.file).read_text(encoding="utf-8")
    written = len(re.findall(r"(?m)(^\s*(- )?|[{,]\s*)x-mock-assumed\s*:", raw))
    assert len(api.spec.assumptions) == written
    page = PAGES[f"{api.name}.html"]
    for item in api.spec.assumptions:
        assert inline(item.reason) in page
        assert esc(item.location) in page


@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_documented_rules_appear_with_the_source_document(api):
    assert api.spec.source, f"{api.spec.file} has no info.x-mock-source"
    assert api.spec.rules, f"{api.spec.file} has no info.x-mock-behaviour"
    page = PAGES[f"{api.name}.html"]
    assert f"Stated in the source document <code>{esc(api.spec.source)}</code>" in page
    for rule in api.spec.rules:
        assert f"<li>{inline(rule)}</li>" in page


def test_documented_examples_are_shown():
    api = APIS[0]
    page = PAGES[f"{api.name}.html"]
    shown = 0
    for op in api.spec.operations:
        body = api.spec.resolve(op.op.get("requestBody")) or {}
        for media in (body.get("content") or {}).values():
            if isinstance(media.get("example"), dict):
                for key in media["example"]:
                    assert esc(f'"{key}"') in page
                shown += 1
    assert shown


HOSTILE = "<script>alert('x')</script> & \"quoted\""


def hostile_spec() -> SpecDoc:
    spec = {
        "openapi": "3.0.3",
        "info": {
            "title": HOSTILE,
            "version": HOSTILE,
            "description": HOSTILE,
            "x-mock-source": HOSTILE,
            "x-mock-behaviour": [HOSTILE],
        },
        "servers": [{"url": "https://example.test/base", "description": HOSTILE}],
        "paths": {
            "/things/{id}": {
                "post": {
                    "operationId": "hostile_op",
                    "summary": HOSTILE,
                    "description": HOSTILE,
                    "x-mock-assumed": HOSTILE,
                    "parameters": [
                        {
                            "name": HOSTILE,
                            "in": "query",
                            "description": HOSTILE,
                            "schema": {"type": "string", "enum": [HOSTILE], "pattern": HOSTILE},
                        },
                    ],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Thing"},
                                "example": {"name": HOSTILE},
                            }
                        }
                    },
                    "responses": {"200": {"description": HOSTILE, "x-mock-assumed": HOSTILE}},
                }
            }
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {HOSTILE: {"type": "string", "description": HOSTILE}},
                }
            }
        },
    }
    return SpecDoc("hostile", spec, "hostile.yaml")


def test_spec_text_is_escaped_in_every_page():
    from mockserver.docs.model import ApiDoc

    doc = hostile_spec()
    pages = render_site([ApiDoc("hostile", doc, None)], CONTROL)
    for name, page in pages.items():
        assert "<script>" not in page, name
        assert page.count("<script") == len(OUR_SCRIPTS), name  # only the site's own scripts
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in pages["hostile.html"]
    assert "&lt;script&gt;" in pages["index.html"]


def test_assumption_locations_read_as_method_native_path_and_names():
    spec = {
        "info": {"title": "t", "version": "1", "x-mock-assumed": "info-level"},
        "servers": [{"url": "https://vendor.test/api"}],
        "paths": {
            "/things": {
                "get": {
                    "parameters": [{"name": "limit", "in": "query", "x-mock-assumed": "why"}],
                    "responses": {"404": {"description": "d", "x-mock-assumed": "why"}},
                }
            }
        },
        "components": {"schemas": {"Thing": {"x-mock-assumed": "why"}}},
    }
    places = [a.location for a in SpecDoc("t", spec, "t.yaml").assumptions]
    assert places == [
        "info",
        "GET /api/things › parameters › limit",
        "GET /api/things › responses › 404",
        "components › schemas › Thing",
    ]


def test_readme_tables_list_endpoints_auth_rules_and_assumptions():
    tables = readme_tables(APIS)
    for api in APIS:
        assert f"### {api.name}:" in tables
        for op in api.spec.operations:
            assert f"| endpoint | `{op.method} {op.native}`" in tables
        for line in api.spec.auth():
            assert f"| auth | {line.replace('|', chr(92) + '|')} |" in tables
        assert tables.count("| documented |") >= len(api.spec.rules)
        for item in api.spec.assumptions:
            assert f"| assumed | `{item.location}`:" in tables


def test_readme_cells_keep_pipes_and_tags_from_breaking_the_table():
    from mockserver.docs.model import ApiDoc

    tables = readme_tables([ApiDoc("hostile", hostile_spec(), None)])
    assert "<script>" not in re.sub(r"`[^`]*`", "", tables)  # code spans show tags as text
    row = next(line for line in tables.splitlines() if line.startswith("| documented |"))
    assert row.count(" | ") == 1  # the two columns, no stray cell


def test_update_readme_appends_the_markers_once_and_replaces_between_them():
    first = update_readme("# Title\n\nText.\n", "| table v1 |\n")
    assert first == f"# Title\n\nText.\n\n{README_START}\n| table v1 |\n{README_END}\n"
    second = update_readme(first + "\nAfter.\n", "| table v2 |\n")
    assert second.count(README_START) == 1
    assert "| table v2 |" in second and "v1" not in second
    assert second.endswith(f"{README_END}\n\nAfter.\n")
    assert update_readme(second, "| table v2 |\n") == second


def test_readme_tables_are_current(repo_root):
    readme = Path(repo_root) / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    assert update_readme(text, readme_tables(APIS)) == text, (
        "README.md's API tables are stale: run `python -m mockserver docs --readme README.md`"
    )


def test_build_site_writes_linked_self_contained_pages(tmp_path):
    written = build_site(tmp_path)
    pages = {p.name for p in written if p.suffix == ".html"}
    assert pages == set(PAGES)
    assets = {p.relative_to(tmp_path).as_posix() for p in written if p.suffix != ".html"}
    assert assets == {"assets/docs.css", *OUR_SCRIPTS}
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'(href|src)="(https?:)?//', text), (
            f"{path.name} loads something remote"
        )
        if path.suffix != ".html":
            assert "://" not in text and "@import" not in text, path.name
        else:
            sources = re.findall(r'<script src="([^"]+)"', text)
            assert sources == list(OUR_SCRIPTS), path.name
            assert '<link rel="stylesheet" href="assets/docs.css">' in text
            if path.name != "index.html":
                assert f'href="{path.name}"' in index


def test_the_same_specs_build_the_same_bytes(tmp_path):
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in build_site(tmp_path / "a")}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in build_site(tmp_path / "b")}
    assert first == second


def test_cli_docs_check_readme_fails_on_a_stale_file(tmp_path, capsys):
    from mockserver.cli import main

    readme = tmp_path / "README.md"
    readme.write_text("# Project\n", encoding="utf-8")
    assert main(["docs", "--check-readme", str(readme)]) == 1
    assert main(["docs", "--readme", str(readme)]) == 0
    assert README_START in readme.read_text(encoding="utf-8")
    assert main(["docs", "--check-readme", str(readme)]) == 0
    assert main(["docs", "--out", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "index.html").is_file()


# --- layout: summary first, a navigation column, anchors --------------------------------------


def _ids(page: str) -> list[str]:
    return re.findall(r' id="([^"]+)"', page)


def _nav(page: str) -> str:
    return page.split('<nav class="side"', 1)[1].split("</nav>", 1)[0]


def _block(page: str, anchor: str, end: str) -> str:
    """The HTML from the element with `anchor` up to the next `end`."""
    start = page.index(f' id="{anchor}"')
    stop = page.find(end, start + 1)
    return page[start : stop if stop != -1 else len(page)]


@pytest.mark.parametrize(("doc", "page_name"), DOCS, ids=[d.key for d, _ in DOCS])
def test_every_operation_response_and_schema_has_an_anchor(doc, page_name):
    ids, view = set(_ids(PAGES[page_name])), SpecPage(doc)
    for op in doc.operations:
        assert view.op_anchor(op) in ids
        for status in op.op["responses"]:
            assert view.response_anchor(op, status) in ids, (op.native, status)
    for name in doc.schemas():
        assert view.schema_anchor(name) in ids


@pytest.mark.parametrize("name", sorted(PAGES))
def test_anchors_are_unique_and_every_link_on_the_page_lands(name):
    page = PAGES[name]
    ids = _ids(page)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for target in re.findall(r'href="#([^"]+)"', page):
        assert target in ids, f"{name}: #{target} goes nowhere"
    for other, target in re.findall(r'href="([a-z]+\.html)#([^"]+)"', page):
        assert target in _ids(PAGES[other]), f"{name}: {other}#{target} goes nowhere"


@pytest.mark.parametrize(("doc", "page_name"), DOCS, ids=[d.key for d, _ in DOCS])
def test_the_navigation_links_every_operation_and_schema(doc, page_name):
    nav, view = _nav(PAGES[page_name]), SpecPage(doc)
    for op in doc.operations:
        assert f'href="#{view.op_anchor(op)}"' in nav
    for schema in doc.schemas():
        assert f'href="#{view.schema_anchor(schema)}"' in nav
    for section in ("operations", "behaviour", "about"):
        assert f'href="#{section}"' in nav


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_navigation_reaches_every_page_and_marks_this_one(name):
    nav = _nav(PAGES[name])
    for other in PAGES:
        assert f'href="{other}"' in nav
    assert f'href="{name}" aria-current="page"' in nav


@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_operations_come_first_after_a_one_paragraph_summary(api):
    main = PAGES[f"{api.name}.html"].split("<main>", 1)[1]
    before = main.split('<h2 id="operations">', 1)[0]
    assert before.count("<p") == 1 and '<p class="summary">' in before
    assert "<section" not in before and "<table" not in before
    assert main.index('id="operations"') < main.index('id="behaviour"') < main.index('id="about"')


def test_the_control_page_shows_its_title_once():
    main = PAGES["control.html"].split("<main>", 1)[1]
    assert main.count(f">{esc(CONTROL.title)}</h") == 1
    for api in APIS:
        if api.control:
            assert f'id="control-{api.name}"' in main


# --- code samples -------------------------------------------------------------------------------

VENDOR_OPS = [(api, op) for api in APIS for op in api.spec.operations]
DOCUMENT_LANGUAGES = {  # the tabs of each vendor document's samples
    "sonoran": ["Sonoran.lua", "Sonoran.js", "Sonoran.py", "Sonoran.Net", "cURL"],
    "lucit": ["Bash (cURL)", "JavaScript (Fetch API)", "PHP (Guzzle)", "Python (Requests)"],
    "playwave": ["Luau"],
    "collect": ["cURL"],
    "statusbadge": ["cURL"],
}


def _labels(section: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<label for="[^"]+">([^<]+)</label>', section)]


@pytest.mark.parametrize(
    ("api", "op"), VENDOR_OPS, ids=[f"{a.name}-{o.anchor}" for a, o in VENDOR_OPS]
)
def test_every_vendor_operation_shows_curl_python_and_javascript_samples(api, op):
    from mockserver.docs.samples import build_request, curl, fetch_js, httpx_py
    from mockserver.docs.vendor import load_vendor

    view = SpecPage(api.spec)
    section = _block(PAGES[f"{api.name}.html"], view.op_anchor(op), "</section>")
    assert _labels(section)[-3:] == ["cURL", "Python (httpx)", "JavaScript (fetch)"]
    req = build_request(api.spec, op, overrides=load_vendor(api.name).overrides)
    assert req.url.startswith("http://127.0.0.1:8080" + api.spec.base + "/")
    for code in (curl(req), httpx_py(req), fetch_js(req)):
        assert esc(code) in section


@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_the_vendor_documents_own_languages_are_shown_pointed_at_the_mock(api):
    from mockserver.docs.vendor import load_vendor

    heartbeat = next(op for op in api.spec.operations if op.op.get("requestBody"))
    view = SpecPage(api.spec)
    section = _block(PAGES[f"{api.name}.html"], view.op_anchor(heartbeat), "</section>")
    group = section.split("From the document</span>", 1)[1].split("Generated from the spec", 1)[0]
    assert _labels(group) == DOCUMENT_LANGUAGES[api.name]
    vendor_host = re.sub(r"^https?://([^/]+).*", r"\1", api.spec.servers[0]["url"])
    page = SpecPage(api.spec, PageContext(samples=True, vendor=load_vendor(api.name)))
    own = [s for s in page.sample_list(heartbeat) if s.source == "document"]
    assert [s.label for s in own] == DOCUMENT_LANGUAGES[api.name]
    for sample in own:
        assert "{{" not in sample.code and vendor_host not in sample.code, sample.label
        assert "http://127.0.0.1:8080" in sample.code, sample.label
        assert esc(sample.code) in section


def test_every_samples_file_belongs_to_an_api_and_names_its_operations():
    from mockserver.docs.vendor import VENDOR_DIR, load_vendor

    files = sorted(p.stem for p in VENDOR_DIR.glob("*.yaml"))
    assert files == sorted(API_IDS)
    for api in APIS:
        vendor = load_vendor(api.name)
        op_ids = {op.op["operationId"] for op in api.spec.operations}
        assert set(vendor.samples) <= op_ids and set(vendor.overrides.bodies) <= op_ids
        params = {p["name"] for op in api.spec.operations for p in api.spec.parameters(op)}
        assert set(vendor.overrides.parameters) <= params
        schemes = set((api.spec.spec.get("components") or {}).get("securitySchemes") or {})
        assert set(vendor.overrides.credentials) <= schemes


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("operations: {op: {samples: [{label: a, lang: shell, code: '{{host}}'}]}}", "placeholder"),
        ("operations: {op: {samples: [{label: a, lang: cobol, code: x}]}}", "lang"),
        ("operations: {op: {sample: []}}", "keys"),
        ("credential: {}", "top-level"),
        ("operations: {op: {samples: [{label: a, lang: shell}]}}", "required"),
    ],
)
def test_a_samples_file_with_a_typo_is_refused(tmp_path, text, why):
    from mockserver.docs.vendor import load_vendor

    (tmp_path / "thing.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=why):
        load_vendor("thing", tmp_path)


@pytest.mark.parametrize(
    ("api", "op"), VENDOR_OPS, ids=[f"{a.name}-{o.anchor}" for a, o in VENDOR_OPS]
)
def test_samples_carry_placeholder_credentials_only(api, op):
    from mockserver.docs.samples import build_request
    from mockserver.docs.vendor import load_vendor

    req = build_request(api.spec, op, overrides=load_vendor(api.name).overrides)
    assert req.basic in (None, ("username", "password"))
    for name, value in req.headers:
        if name.lower() in ("authorization", "x-api-key"):
            assert re.fullmatch(r"(Bearer )?YOUR_[A-Z_]+", value), (name, value)


def test_generated_samples_survive_quotes_newlines_and_markup():
    import ast
    import shlex

    from mockserver.docs.samples import SampleRequest, curl, fetch_js, httpx_py

    body = {"it's": 'a "quote"\nand </script> and \\ and ünï'}
    req = SampleRequest("POST", "http://127.0.0.1:8080/a?b=c&d=e", (("X-K", "v'1"),), body, True)
    words = shlex.split(curl(req).replace("\\\n", " "))
    assert words[words.index("--data") + 1] == json.dumps(body, indent=2, ensure_ascii=False)
    assert words[words.index("--url") + 1] == req.url and "X-K: v'1" in words
    call = ast.parse(httpx_py(req)).body[1].value
    assert ast.literal_eval(next(k.value for k in call.keywords if k.arg == "json")) == body
    script = fetch_js(req)
    literal = script.split("JSON.stringify(", 1)[1].rsplit("),\n});", 1)[0]
    assert json.loads(literal) == body


def test_sample_values_prefer_the_spec_s_example_default_and_enum():
    from mockserver.docs.samples import sample_value

    doc = SpecDoc("t", {"components": {"schemas": {"N": {"type": "integer", "minimum": 5}}}}, "t")
    schema = {
        "type": "object",
        "required": ["a", "b", "c", "n", "s"],
        "properties": {
            "a": {"type": "string", "example": "ex"},
            "b": {"type": "integer", "default": 3},
            "c": {"type": "string", "enum": ["x", "y"]},
            "n": {"$ref": "#/components/schemas/N"},
            "s": {"type": "string"},
            "optional": {"type": "string"},
        },
    }
    assert sample_value(doc, schema) == {"a": "ex", "b": 3, "c": "x", "n": 5, "s": "string"}


# --- every response shows an example --------------------------------------------------------------


@pytest.mark.parametrize(("doc", "page_name"), DOCS, ids=[d.key for d, _ in DOCS])
def test_every_response_shows_an_example_or_says_it_has_no_body(doc, page_name):
    page, view = PAGES[page_name], SpecPage(doc)
    missing = []
    for op in doc.operations:
        for status, raw in op.op["responses"].items():
            block = _block(page, view.response_anchor(op, status), '<div class="response"')
            content = doc.resolve(raw).get("content")
            if not content:
                assert "No body." in block
            elif block.count('class="example"') < len(content) or "No example." in block:
                missing.append(f"{op.method} {op.native} {status}")
    assert not missing, f"{doc.file}: responses without an example:\n" + "\n".join(missing)


def test_the_build_opens_no_connection(tmp_path, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the docs build tried to open a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert build_site(tmp_path)


def test_the_readme_shows_a_desktop_and_a_phone_screenshot(repo_root):
    readme = (Path(repo_root) / "README.md").read_text(encoding="utf-8")
    shots = re.findall(r'<img src="(docs/screenshots/[^"]+\.png)"', readme)
    assert {"docs-desktop", "docs-phone"} <= {Path(s).stem for s in shots}
    for shot in shots:
        assert (Path(repo_root) / shot).stat().st_size > 10_000, shot


def test_cli_docs_counts_the_pages_it_wrote(tmp_path, capsys):
    from mockserver.cli import main

    assert main(["docs", "--out", str(tmp_path / "site")]) == 0
    assert f"wrote {len(PAGES)} pages to" in capsys.readouterr().out


def test_samples_send_each_kind_of_credential_where_its_scheme_says():
    from mockserver.docs.samples import build_request, curl

    schemes = {
        "q": {"type": "apiKey", "in": "query", "name": "key"},
        "c": {"type": "apiKey", "in": "cookie", "name": "sid"},
        "h": {"type": "apiKey", "in": "header", "name": "X-Key"},
        "b": {"type": "http", "scheme": "bearer"},
        "u": {"type": "http", "scheme": "basic"},
    }
    spec = {
        "servers": [{"url": "https://vendor.test/v1"}],
        "components": {"securitySchemes": schemes},
        "paths": {
            "/a/{id}": {
                "get": {
                    "security": [{"q": [], "c": [], "h": [], "b": [], "u": []}],
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                        {"name": "n", "in": "query", "required": True, "example": "a b"},
                        {"name": "opt", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {"204": {"description": "ok"}},
                }
            }
        },
    }
    doc = SpecDoc("t", spec, "t.yaml")
    req = build_request(doc, doc.operations[0], "http://mock:1")
    assert req.url == "http://mock:1/v1/a/1?n=a+b&key=YOUR_API_KEY"
    assert dict(req.headers) == {
        "Cookie": "sid=YOUR_API_KEY",
        "X-Key": "YOUR_API_KEY",
        "Authorization": "Bearer YOUR_TOKEN",
    }
    assert req.basic == ("username", "password") and req.expect == 204 and not req.has_body
    assert "--user 'username:password'" in curl(req)
