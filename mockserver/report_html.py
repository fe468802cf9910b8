"""The report as one self-contained HTML document (`GET /__mock/report?format=html`, issue 20).

Inline CSS and SVG only: no script, no font, no request, so the file a CI run keeps opens
offline from disk. Per API the counts, the invalid requests with their violations, and per
client a timeline on the mock clock's axis: each heartbeat a mark coloured by the status it got
(every mark is a journal entry; a faulted one is hollow), the documented interval as guide
ticks, and each silence past the stale timeout or TTL shaded with what it caused, in the API
document's own words. Past `MAX_CLIENTS` clients per API, the rest are summarised in a line.
"""

from __future__ import annotations

from html import escape

from mockserver.core.clock import iso_utc

__all__ = ["MAX_CLIENTS", "MAX_INVALID", "render_html"]

MAX_CLIENTS = 200  # timelines drawn per API; the rest are counted
MAX_INVALID = 50  # invalid requests listed per API
WIDTH, ROW = 720, 22  # a timeline's size in SVG units
MAX_GUIDES = 120  # interval ticks per timeline; denser than this they are left out

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1b1b1b;background:#fff}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:2px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}code{font-size:12px}
.client{display:grid;grid-template-columns:minmax(12rem,18rem) 1fr;gap:.2rem 1rem;
margin:.35rem 0;align-items:start}.who{font-family:monospace;font-size:12px;word-break:break-all}
.findings{margin:.1rem 0 0 1rem;padding:0;font-size:12px}.ok{color:#2e7d32}.bad{color:#c62828}
svg.timeline{width:100%;max-width:720px;height:auto;background:#fafafa;border:1px solid #e3e3e3}
.s2xx{fill:#2e7d32}.s429{fill:#ef6c00}.s4xx{fill:#c62828}.s5xx{fill:#6a1b9a}.s3xx{fill:#1565c0}
.mark.fault{fill:#fff;stroke:#555;stroke-width:1}.gap.stale{fill:#ffe082}.gap.ttl{fill:#ef9a9a}
.guide{stroke:#9e9e9e;stroke-width:.6}.axis{font-size:12px;color:#555}
.legend span{display:inline-block;margin-right:1rem}.sw{display:inline-block;width:.8rem;
height:.8rem;vertical-align:middle;margin-right:.3rem;border:1px solid #999}
.sw.s2xx{background:#2e7d32}.sw.s429{background:#ef6c00}.sw.s4xx{background:#c62828}
.sw.s5xx{background:#6a1b9a}
"""


def _status_class(status: int) -> str:
    return "s429" if status == 429 else f"s{str(status)[0]}xx"


def _x(epoch: float, t0: float, span: float) -> float:
    return round((epoch - t0) / span * WIDTH, 2)


def _timeline_svg(client: dict, t0: float, now: float) -> str:
    span = max(now - t0, 1.0)
    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH + 4} {ROW}" role="img" '
        f'aria-label="heartbeats of {escape(client["identity"])}">'
    ]
    for gap in client["timeline"]["gaps"]:
        x0, x1 = _x(gap["from"], t0, span), _x(gap["to"], t0, span)
        kind = "ttl" if gap["timeout"] == "TTL" else "stale"
        what = f"{gap['effect']} (past the {gap['timeout']}) {iso_utc(gap['from'])} to "
        parts.append(
            f'<rect class="gap {kind}" data-effect="{escape(gap["effect"])}" x="{x0}" y="0" '
            f'width="{max(x1 - x0, 0.5)}" height="{ROW}"><title>{escape(what)}'
            f"{escape(iso_utc(gap['to']))}</title></rect>"
        )
    interval = client["documented"].get("interval")
    marks = client["timeline"]["marks"]
    if interval and marks and (now - marks[0]["epoch"]) / interval <= MAX_GUIDES:
        t = marks[0]["epoch"]
        while t <= now:
            x = _x(t, t0, span)
            parts.append(f'<line class="guide" x1="{x}" x2="{x}" y1="{ROW - 5}" y2="{ROW}"/>')
            t += interval
    for mark in marks:
        x = _x(mark["epoch"], t0, span)
        fault = " fault" if mark["fault"] else ""
        note = f"#{mark['id']} {mark['at']} → {mark['status']}{' (fault)' if fault else ''}"
        parts.append(
            f'<rect class="mark {_status_class(mark["status"])}{fault}" '
            f'data-status="{mark["status"]}" data-at="{escape(mark["at"])}" '
            f'x="{x}" y="3" width="4" height="{ROW - 9}"><title>{escape(note)}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _client_row(api: str, client: dict, t0: float, now: float) -> str:
    doc = client["documented"]
    facts = [f"{client['heartbeats']} heartbeat{'s' if client['heartbeats'] != 1 else ''}"]
    for key, label in (("interval", "interval"), ("stale", "stale timeout"), ("ttl", "TTL")):
        if doc.get(key):
            facts.append(f"{label} {doc[key]:g} s")
    if doc.get("rate_limit"):
        facts.append(f"limit {doc['rate_limit'][0]} per {doc['rate_limit'][1]:g} s")
    findings = "".join(f'<li class="bad">{escape(f)}</li>' for f in client["findings"])
    findings = findings or '<li class="ok">on cadence</li>'
    return (
        f'<div class="client" data-api="{escape(api)}" '
        f'data-identity="{escape(client["identity"])}">'
        f'<div><div class="who">{escape(client["identity"])}</div>'
        f'<div class="axis">{escape(", ".join(facts))}</div>'
        f'<ul class="findings">{findings}</ul></div>'
        f"{_timeline_svg(client, t0, now)}</div>"
    )


def _invalid_table(r: dict) -> str:
    if not r["invalid_requests"]:
        return ""
    rows = []
    for bad in r["invalid_requests"][:MAX_INVALID]:
        why = "; ".join(
            f"{v.get('key') or v.get('rule')}: {v['message']}" for v in bad["violations"]
        )
        rows.append(
            f'<tr class="invalid"><td>#{bad["id"]}</td><td>{escape(bad["at"])}</td>'
            f"<td><code>{escape(bad['method'])} {escape(bad['path'])}</code></td>"
            f"<td>{bad['status']}</td><td>{escape(why)}</td></tr>"
        )
    more = len(r["invalid_requests"]) - MAX_INVALID
    tail = f"<p>{more} more invalid requests: see GET /__mock/requests?valid=false</p>"
    return (
        "<h3>Invalid requests</h3><table><tr><th>id</th><th>at</th><th>request</th>"
        f"<th>status</th><th>violations</th></tr>{''.join(rows)}</table>"
        + (tail if more > 0 else "")
    )


def _clients(name: str, clients: list[dict], now: float) -> str:
    if not clients:
        return "<p>No heartbeats from an identified client.</p>"
    drawn = sorted(clients, key=lambda c: (not c["findings"], c["identity"]))[:MAX_CLIENTS]
    t0 = min(m["epoch"] for c in drawn for m in c["timeline"]["marks"])
    rows = [_client_row(name, c, t0, now) for c in drawn]
    axis = (
        f'<p class="axis">mock clock: {escape(iso_utc(t0))} (left) to {escape(iso_utc(now))} '
        f"(right, now); {len(clients)} client{'s' if len(clients) != 1 else ''}</p>"
    )
    rest = len(clients) - len(drawn)
    summary = ""
    if rest > 0:
        hidden = {c["identity"] for c in clients} - {c["identity"] for c in drawn}
        with_findings = sum(1 for c in clients if c["identity"] in hidden and c["findings"])
        summary = (
            f'<p class="more">{rest} more clients not drawn ({with_findings} with findings, '
            f"{rest - with_findings} on cadence): GET /__mock/report lists them all</p>"
        )
    return axis + "".join(rows) + summary


def _api_section(name: str, r: dict, now: float) -> str:
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(r["statuses"].items())) or "none"
    return (
        f'<section class="api" id="api-{escape(name)}"><h2>{escape(name)}</h2>'
        f"<p>{r['requests']} requests: {r['valid']} valid, {r['invalid']} invalid, "
        f"{r['faulted']} faulted; statuses {escape(statuses)}</p>"
        f"{_invalid_table(r)}<h3>Heartbeat timelines</h3>{_clients(name, r['clients'], now)}"
        "</section>"
    )


LEGEND = (
    '<p class="legend"><span><i class="sw s2xx"></i>2xx</span><span><i class="sw s429"></i>429'
    '</span><span><i class="sw s4xx"></i>other 4xx</span><span><i class="sw s5xx"></i>5xx</span>'
    '<span><i class="sw" style="background:#fff"></i>faulted (hollow)</span>'
    '<span><i class="sw" style="background:#ffe082"></i>silent past the stale timeout'
    '</span><span><i class="sw" style="background:#ef9a9a"></i>silent past the TTL</span>'
    "<span>ticks: the documented interval from the first heartbeat</span></p>"
)


def render_html(report: dict, now: float) -> str:
    """The document for a report built with `timelines=True`; `now` is the mock clock's."""
    totals = "".join(
        f'<tr><td><a href="#api-{escape(n)}">{escape(n)}</a></td><td>{r["requests"]}</td>'
        f"<td>{r['invalid']}</td><td>{r['faulted']}</td><td>{len(r['clients'])}</td></tr>"
        for n, r in report["apis"].items()
    )
    sections = "".join(_api_section(n, r, now) for n, r in report["apis"].items() if r["requests"])
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>heartbeat-mockserver report</title>"
        f"<style>{CSS}</style></head><body><h1>heartbeat-mockserver report</h1>"
        f'<p class="axis">at {escape(report["generated_at"])} on the mock clock</p>'
        "<table><tr><th>API</th><th>requests</th><th>invalid</th><th>faulted</th>"
        f"<th>clients</th></tr>{totals}</table>{LEGEND}"
        f"{sections or '<p>No requests yet.</p>'}</body></html>\n"
    )
