"""The API docs, generated from the specs: HTML, one stylesheet and two small scripts of our own
(search, and on the live pages "try it"), all written beside the pages, so the site opens from
disk with the network off and reads the same with scripts off.

`build_site(out_dir)` writes index.html, one page per API (`<api>.html`), control.html and
assets/. Each page has a navigation column (APIs; its operations, behaviour and schemas) beside
the content on wide screens, folded behind a "Contents" button on narrow ones (CSS only); then a
one-paragraph summary and the operations: parameters, body, code samples (mockserver.docs
.samples and .vendor), every response with an example; then "Behaviour": the rules the source
document states (`info.x-mock-behaviour`) and every `x-mock-assumed` choice with its place in the
spec, so documented and assumed stay apart; then the schemas. The running mock serves the same
pages under `/__mock/docs/` with "try it" and the journal (mockserver.docs.live). Same specs in,
same bytes out: nothing here reads a clock or the environment.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from mockserver.docs.html import esc, first_paragraph, inline, prose
from mockserver.docs.model import ApiDoc, SpecDoc, anchor_id, load_api_docs
from mockserver.docs.samples import DEFAULT_ORIGIN
from mockserver.docs.search import search_index
from mockserver.docs.spec_page import PageContext, SpecPage
from mockserver.docs.vendor import load_vendor

__all__ = ["ASSETS", "build_site", "esc", "inline", "render_site", "site_files"]

ASSETS = Path(__file__).resolve().parent / "assets"
STATIC_ASSETS = ("docs.css", "search.js")
LIVE_ASSETS = ("live.js",)
BRAND = "heartbeat-mockserver API docs"


def _page(title: str, nav: str, body: str, live: bool) -> str:
    scripts = ["assets/search-index.js", "assets/search.js"] + (["assets/live.js"] if live else [])
    tags = "".join(f'<script src="{src}" defer></script>' for src in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{esc(title)}</title>'
        f'<link rel="stylesheet" href="assets/docs.css">{tags}</head><body>'
        '<input type="checkbox" id="nav-toggle" class="nav-toggle" aria-label="Show the contents">'
        '<header class="top"><label for="nav-toggle" class="nav-button">Contents</label>'
        f'<a class="brand" href="index.html">{BRAND}</a><div class="search" hidden>'
        '<input type="search" placeholder="Search operations, schemas, rules" '
        'aria-label="Search the docs"><ol class="results"></ol></div></header>'
        f'<div class="layout"><nav class="side" aria-label="Contents">{nav}</nav>'
        f"<main>{body}</main></div></body></html>\n"
    )


def _site_nav(apis: list[ApiDoc], current: str) -> str:
    links = [("index.html", "Overview")] + [(f"{a.name}.html", a.name) for a in apis]
    links.append(("control.html", "control API"))
    items = "".join(
        f'<li><a href="{esc(href)}"'
        + (' aria-current="page"' if href == current else "")
        + f">{esc(text)}</a></li>"
        for href, text in links
    )
    return f'<p class="nav-h">APIs</p><ul class="nav-apis">{items}</ul>'


def _page_nav(pages: list[tuple[str, SpecPage]], behaviour: str) -> str:
    """ "On this page": each spec's operations, the behaviour, each spec's schemas."""
    grouped = len(pages) > 1  # the control page: one group per spec, paths below its base
    ops = "".join(
        (
            f'<li class="nav-group">{esc(title or "core")} <code>{esc(page.doc.base)}</code></li>'
            if grouped
            else ""
        )
        + page.nav_operations(relative=grouped)
        for title, page in pages
    )
    schemas = "".join(page.nav_schemas() for _, page in pages)
    return (
        '<p class="nav-h">On this page</p><ul class="nav-page">'
        f'<li><a href="#operations">Operations</a><ul class="nav-ops">{ops}</ul></li>'
        f'<li><a href="#behaviour">Behaviour</a>{behaviour}</li>'
        + (f'<li><a href="#schemas">Schemas</a><ul>{schemas}</ul></li>' if schemas else "")
        + '<li><a href="#about">About this spec</a></li></ul>'
    )


CONTROL_AUTH = "none, or <code>X-Mock-Token</code> when the mock runs with a control token"


def _facts(doc: SpecDoc, origin: str, extra: list[str], auth: str | None = None) -> str:
    auth = auth or "; ".join(inline(line) for line in doc.auth())
    facts = [f"Base URL on the mock: <code>{esc(origin + doc.base)}</code>", f"Auth: {auth}"]
    if doc.source:
        facts.append(f"Source document: <code>{esc(doc.source)}</code>")
    return '<ul class="facts">' + "".join(f"<li>{f}</li>" for f in facts + extra) + "</ul>"


def _about(doc: SpecDoc) -> str:
    servers = "".join(
        f"<li><code>{esc(s.get('url'))}</code> {inline(s.get('description', ''))}</li>"
        for s in doc.servers
    )
    return (
        f"{prose(doc.info.get('description'))}<table><tr><th>Spec</th><td><code>{esc(doc.file)}"
        f"</code> (version {esc(doc.info.get('version', '?'))})</td></tr><tr><th>Servers</th>"
        f"<td><ul>{servers}</ul>The paths above start with the first server's path: "
        f"<code>{esc(doc.base or '/')}</code></td></tr></table>"
    )


def render_api_page(api: ApiDoc, apis: list[ApiDoc], live: bool, origin: str) -> str:
    ui = f"{api.name}/ui/" if live else None
    ctx = PageContext(origin, live, True, api.name, ui, load_vendor(api.name))
    page, doc = SpecPage(api.spec, ctx), api.spec
    extra = [f'<a href="{esc(ui)}">Swagger UI</a>'] if ui else []
    if api.control:
        extra.append(
            f'Seeding and inspection: <a href="control.html#control-{anchor_id(api.name)}">'
            "its control routes</a>"
        )
    summary = inline(first_paragraph(doc.info.get("description")))
    body = (
        f'<h1>{esc(doc.title)}</h1><p class="summary">{summary}</p>'
        + _facts(doc, origin, extra)
        + f'<h2 id="operations">Operations</h2>{page.operations()}'
        + f'<h2 id="behaviour">Behaviour</h2>{page.documented()}{page.assumed_table()}'
        + (f'<h2 id="schemas">Schemas</h2>{page.schemas()}' if doc.schemas() else "")
        + f'<h2 id="about">About this spec</h2>{_about(doc)}'
    )
    behaviour = (
        f'<ul><li><a href="#{page.prefix}-documented">Documented</a></li>'
        f'<li><a href="#{page.prefix}-assumed">Assumed</a></li></ul>'
    )
    nav = _site_nav(apis, f"{api.name}.html") + _page_nav([("", page)], behaviour)
    return _page(f"{doc.title} · {BRAND}", nav, body, live)


def render_control_page(apis: list[ApiDoc], control: SpecDoc, live: bool, origin: str) -> str:
    """The control API, then each API's own routes under `/__mock/<api>/`; one title."""
    own = [api for api in apis if api.control]
    pages = [("", SpecPage(control, PageContext(origin, live, ui="control/ui/" if live else None)))]
    for api in own:
        picker = quote(f"{api.name} control routes")
        ui = f"control/ui/?urls.primaryName={picker}" if live else None
        pages.append(
            (f"{api.name} routes", SpecPage(api.control, PageContext(origin, live, ui=ui)))
        )
    sections = pages[0][1].operations() + "".join(
        f'<h3 class="group" id="control-{anchor_id(api.name)}">{esc(api.name)} routes: '
        f"<code>/__mock/{esc(api.name)}/</code></h3>"
        f'<p class="summary">{inline(first_paragraph(api.control.info.get("description")))}</p>'
        + page.operations()
        for api, (_, page) in zip(own, pages[1:], strict=True)
    )
    assumed = "".join(page.assumed_table() for _, page in pages if page.doc.assumptions)
    schemas = "".join(
        f"<h3>{esc(title or 'Core routes')}</h3>{page.schemas()}"
        for title, page in pages
        if page.doc.schemas()
    )
    ui = ['<a href="control/ui/">Swagger UI</a>'] if live else []
    body = (
        f'<h1>{esc(control.title)}</h1><p class="summary">'
        f"{inline(first_paragraph(control.info.get('description')))}</p>"
        + _facts(control, origin, ui, CONTROL_AUTH)
        + f'<h2 id="operations">Operations</h2>{sections}'
        + '<h2 id="behaviour">Behaviour</h2><p>Not a vendor API: every route here is the mock\'s '
        "own design, so nothing is documented elsewhere. Each API's own routes sit below "
        "<code>/__mock/&lt;api&gt;/</code>.</p>"
        + assumed
        + f'<h2 id="schemas">Schemas</h2>{schemas}'
        + '<h2 id="about">About this spec</h2>'
        + "".join(_about(page.doc) for _, page in pages)
    )
    nav = _site_nav(apis, "control.html") + _page_nav(pages, "")
    return _page(f"{control.title} · {BRAND}", nav, body, live)


def render_index(apis: list[ApiDoc], control: SpecDoc, live: bool) -> str:
    def endpoints(doc: SpecDoc) -> str:
        return "<br>".join(f"<code>{op.method} {esc(op.native)}</code>" for op in doc.operations)

    rows = []
    for api in apis:
        doc = api.spec
        ui = f'<br><a href="{esc(api.name)}/ui/">Swagger UI</a>' if live else ""
        rows.append(
            f'<tr><td><a href="{esc(api.name)}.html">{esc(doc.title)}</a><br>'
            f"<code>{esc(api.name)}</code>{ui}</td><td>{endpoints(doc)}</td>"
            f"<td>{'<br>'.join(inline(line) for line in doc.auth())}</td>"
            f"<td><code>{esc(doc.source or '—')}</code></td>"
            f'<td><a href="{esc(api.name)}.html#behaviour">{len(doc.rules)} documented, '
            f"{len(doc.assumptions)} assumed</a></td></tr>"
        )
    ui = '<br><a href="control/ui/">Swagger UI</a>' if live else ""
    rows.append(
        f'<tr><td><a href="control.html">{esc(control.title)}</a>{ui}</td>'
        f"<td>{endpoints(control)}<br>+ each API's routes under <code>/__mock/&lt;api&gt;/</code>"
        f"</td><td>{CONTROL_AUTH}</td>"
        "<td>— (the mock's own)</td><td>—</td></tr>"
    )
    body = (
        f'<h1>{BRAND}</h1><p class="summary">Generated from the OpenAPI specs the mock serves. '
        "Each API is served at its native paths, so a client only changes its base URL. Every "
        "page separates the rules its source document states from the choices the mock assumes, "
        "and shows each operation's request in cURL, Python and JavaScript, and in the vendor "
        'document\'s own languages.</p><div class="scroll"><table><tr><th>API</th>'
        "<th>Native endpoints</th><th>Auth</th><th>Source document</th><th>Behaviour</th></tr>"
        f"{''.join(rows)}</table></div>"
    )
    return _page(BRAND, _site_nav(apis, "index.html"), body, live)


def render_site(
    apis: list[ApiDoc], control: SpecDoc, live: bool = False, origin: str = DEFAULT_ORIGIN
) -> dict[str, str]:
    """File name -> HTML for the index, each API's page and the control page."""
    pages = {"index.html": render_index(apis, control, live)}
    for api in apis:
        pages[f"{api.name}.html"] = render_api_page(api, apis, live, origin)
    pages["control.html"] = render_control_page(apis, control, live, origin)
    return pages


def site_files(
    apis: list[ApiDoc], control: SpecDoc, live: bool = False, origin: str = DEFAULT_ORIGIN
) -> dict[str, bytes]:
    """Every file of the site: the pages, the search index and the assets."""
    files = {name: text.encode() for name, text in render_site(apis, control, live, origin).items()}
    files["assets/search-index.js"] = search_index(apis, control).encode()
    for name in STATIC_ASSETS + (LIVE_ASSETS if live else ()):
        files[f"assets/{name}"] = (ASSETS / name).read_bytes()
    return files


def _default_spec_dir() -> Path:
    from mockserver.spec.loader import SPEC_DIR

    return SPEC_DIR


def build_site(out_dir: str | Path, spec_dir: Path | None = None) -> list[Path]:
    """Write the static site for every `specs/*.yaml`; returns the files written."""
    apis, control = load_api_docs(spec_dir or _default_spec_dir())
    out = Path(out_dir)
    written = []
    for name, data in site_files(apis, control).items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
