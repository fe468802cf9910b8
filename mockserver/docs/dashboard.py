"""`GET /__mock/ui/`: the live dashboard (issue 20).

A static page and a small hand-written script (`assets/dashboard.js`, served from the package,
never a CDN) that drive the mock only through the control API: the HTML report's timelines
refreshed every two seconds, the journal as a filterable table with each request's detail (its
violations, request and response side, listed first), proxied requests marked with the
upstream's status and time (issue 19) and filterable, the active faults (add, remove) and
the mock clock (advance, freeze, unfreeze).

The page and its script hold no state and no secret, so they are served without the control
token; with one set, every call the script makes sends it as `X-Mock-Token` (taken from a
`#token=` fragment or the page's token form, kept in the tab's sessionStorage).
"""

from __future__ import annotations

from pathlib import Path

from mockserver.control import render_control_error
from mockserver.core.errors import MockError

__all__ = ["DashboardApp", "dashboard_html"]

ASSETS = Path(__file__).parent / "assets"
HTML = "text/html; charset=utf-8"
FILES = {"dashboard.js": "text/javascript; charset=utf-8"}


def dashboard_html() -> str:
    return """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>heartbeat-mockserver dashboard</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1rem;color:#1b1b1b}
header{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
section{border:1px solid #d8dde3;margin:.8rem 0;padding:.3rem .8rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
tr.entry{cursor:pointer}tr.entry:hover{background:#f3f6fa}tr.invalid td{color:#c62828}
pre{background:#f6f8fa;padding:.5rem;max-height:24rem;overflow:auto;font-size:12px}
.badge{font-size:12px;padding:0 4px;border-radius:3px;border:1px solid #0d47a1;color:#0d47a1}
.badge.failed{border-color:#b71c1c;color:#b71c1c}#detail-violations li{color:#c62828}
</style></head><body>
<header><h1>heartbeat-mockserver</h1><a href="../">control home</a>
<a id="report-link" href="../report?format=html">report</a></header>
<form id="token-form" hidden><label>control token (X-Mock-Token)
<input id="token" type="password" autocomplete="off"></label> <button>use it</button>
<span id="token-error" role="alert"></span></form>
<section id="clock"><h2>Clock</h2><p>now <b id="clock-now">?</b>
<span id="clock-frozen"></span></p>
<label>advance by <input id="advance-seconds" type="number" value="60" min="0"> s</label>
<button id="advance">advance</button> <button id="freeze">freeze</button>
<button id="unfreeze">unfreeze</button></section>
<section id="timelines"><h2>Heartbeat timelines</h2><div id="report">loading…</div></section>
<section id="faults"><h2>Active faults</h2><table><thead><tr><th>id</th><th>api</th>
<th>operation</th><th>status</th><th>remaining</th><th></th></tr></thead>
<tbody id="fault-rows"></tbody></table>
<form id="fault-form"><input id="fault-api" placeholder="api" required>
<input id="fault-operation" placeholder="operation (optional)">
<input id="fault-status" type="number" placeholder="status" value="503">
<input id="fault-times" type="number" placeholder="times (optional)">
<button type="submit">add fault</button></form><p id="fault-error" role="alert"></p></section>
<section id="journal"><h2>Journal</h2>
<label>api <input id="filter-api" size="10"></label>
<label>status <input id="filter-status" size="4"></label>
<label>valid <select id="filter-valid"><option value="">any</option><option>true</option>
<option>false</option></select></label>
<label><input id="filter-fault" type="checkbox"> faulted only</label>
<label>proxied <select id="filter-proxied"><option value="">any</option>
<option value="proxied">proxied</option><option value="failed">upstream failed</option>
<option value="mocked">mocked here</option></select></label>
<table><thead><tr><th>id</th><th>at</th><th>api</th><th>request</th><th>status</th>
<th>valid</th><th>fault</th><th>proxied</th></tr></thead><tbody id="journal-rows"></tbody>
</table><div id="detail" hidden><ul id="detail-violations"></ul><pre id="detail-json"></pre>
</div></section>
<script src="dashboard.js"></script></body></html>
"""


async def _send(send, status: int, body: bytes, kind: str, headers=()) -> None:
    head = [(b"content-type", kind.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*head, *headers]})
    await send({"type": "http.response.body", "body": body})


class DashboardApp:
    """Serves `/__mock/ui/` and its script; everything it shows it reads from `/__mock`."""

    def __init__(self, prefix: str = "/__mock/ui") -> None:
        self.prefix = prefix

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http":
            return
        path = scope.get("path", "")
        if path == self.prefix:
            location = (scope.get("root_path", "") + self.prefix + "/").encode()
            await _send(send, 308, b"", HTML, [(b"location", location)])
            return
        name = path[len(self.prefix) + 1 :]
        if scope["method"] not in ("GET", "HEAD"):
            err = render_control_error(MockError(405, "method_not_allowed", "read-only page"))
            await _send(send, 405, err.encode(), err.media_type, [(b"allow", b"GET, HEAD")])
        elif name == "":
            await _send(send, 200, dashboard_html().encode(), HTML)
        elif name in FILES:
            await _send(send, 200, (ASSETS / name).read_bytes(), FILES[name])
        else:
            err = render_control_error(MockError(404, "not_found", f"no dashboard file {name!r}"))
            await _send(send, 404, err.encode(), err.media_type)
