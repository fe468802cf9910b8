"""The docs generator: every operation, rule and assumption of every spec reaches the pages and
the README tables, and spec text is escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockserver.docs.model import SpecDoc, load_api_docs
from mockserver.docs.readme import README_END, README_START, readme_tables, update_readme
from mockserver.docs.static import build_site, esc, inline, render_site
from mockserver.spec.loader import SPEC_DIR

APIS, CONTROL = load_api_docs(SPEC_DIR)
PAGES = render_site(APIS, CONTROL)
API_IDS = [api.name for api in APIS]


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
        assert "<script" not in page, name
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
    assert {p.name for p in written} == set(PAGES)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert "<script" not in text and " src=" not in text
        assert not re.search(r'href="(https?:)?//', text), "a page must not load anything remote"
        if path.name != "index.html":
            assert f'href="{path.name}"' in index


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
