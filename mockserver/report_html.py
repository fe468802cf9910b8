"""The report as one self-contained HTML document (`GET /__mock/report?format=html`, issue 20).

Inline CSS and SVG only: no script, no font, no request, so the file a CI run keeps opens
offline from disk. Per API the counts, the invalid requests with their violations, and per
client a timeline on the mock clock's axis: each heartbeat a mark coloured by the status it got
(every mark is a journal entry; a faulted one has a dashed outline), the documented interval
as guide ticks, and each silence past the stale timeout or TTL shaded with what it caused, in
the API document's own words. The control events (mockserver.events) are drawn on the same axis: a
clock jump as a hatched break labelled with the jump ("clock +250 s": the axis stays the mock
clock, so the time skipped is a stretch no heartbeat can fall in), each fault rule's active
window as a band labelled with what it did. Past `MAX_CLIENTS` clients per API, the rest are
summarised in a line. A proxied API (issue 19) also gets its drift table (mockserver.drift) and
its heartbeats outlined as proxied, an upstream that gave no answer told apart from its 5xx.
"""

from __future__ import annotations

from html import escape

from mockserver.core.clock import iso_utc
from mockserver.drift import drift_html

__all__ = ["MAX_CLIENTS", "MAX_INVALID", "render_html"]

MAX_CLIENTS = 200  # timelines drawn per API; the rest are counted
MAX_INVALID = 50  # invalid requests listed per API
WIDTH, ROW = 720, 22  # a timeline's size in SVG units
MAX_GUIDES = 120  # interval ticks per timeline; denser than this they are left out
MAX_EVENTS = 100  # jumps and fault windows drawn per API (the newest); the JSON has them all
EVENT_ROW = 34  # the height of an API's event strip
JUMPS = ("clock.advance", "clock.set", "clock.reset")

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1b1b1b;background:#fff}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:2px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}code{font-size:12px}
.client,.eventrow{display:grid;grid-template-columns:minmax(12rem,18rem) 1fr;gap:.2rem 1rem;
margin:.35rem 0;align-items:start}.who{font-family:monospace;font-size:12px;word-break:break-all}
.findings{margin:.1rem 0 0 1rem;padding:0;font-size:12px}.ok{color:#2e7d32}.bad{color:#c62828}
svg.timeline{width:100%;max-width:720px;height:auto;background:#fafafa;border:1px solid #e3e3e3}
.s2xx{fill:#2e7d32}.s429{fill:#ef6c00}.s4xx{fill:#c62828}.s5xx{fill:#6a1b9a}.s3xx{fill:#1565c0}
.mark.fault{stroke:#000;stroke-width:1.2;stroke-dasharray:2 1}
.mark.proxied{stroke:#0d47a1;stroke-width:1.4}.proxied-glyph{fill:#0d47a1}
.mark.upstream-failed{fill:#fff;stroke:#b71c1c;stroke-width:1.6}
.fail-cross{stroke:#b71c1c;stroke-width:1.2}tr.upstream-failure td{background:#fff3e0}
.jump{fill:url(#hatch);stroke:#455a64;stroke-width:.6}.jump.back{stroke:#b71c1c;stroke-width:2}
.fault-window{fill:#ce93d8;fill-opacity:.35}.events text{font-size:10px;fill:#37474f}
.gap.stale{fill:#ffe082}.gap.ttl{fill:#ef9a9a}
.guide{stroke:#9e9e9e;stroke-width:.6}.axis{font-size:12px;color:#555}
.legend span{display:inline-block;margin-right:1rem}.sw{display:inline-block;width:.8rem;
height:.8rem;vertical-align:middle;margin-right:.3rem;border:1px solid #999}
.sw.s2xx{background:#2e7d32}.sw.s429{background:#ef6c00}.sw.s4xx{background:#c62828}
.sw.s5xx{background:#6a1b9a}
"""


def _n(count: int, what: str) -> str:
    """`1 request`, `2 requests`: the count with its noun, singular for one."""
    return f"{count} {what}{'' if count == 1 else 's'}"


def _status_class(status: int) -> str:
    return "s429" if status == 429 else f"s{str(status)[0]}xx"


def _x(epoch: float, t0: float, span: float) -> float:
    return round((epoch - t0) / span * WIDTH, 2)


HATCH = (  # once per document: the fill of every clock break
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true">'
    '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="4" height="4" fill="#eceff1"/>'
    '<line x1="0" y1="0" x2="0" y2="4" stroke="#90a4ae" stroke-width="1.5"/></pattern></defs></svg>'
)


def _signed(seconds: float) -> str:
    text = f"{abs(seconds):.0f}" if abs(seconds) >= 10 else f"{abs(seconds):.3g}"
    return ("+" if seconds >= 0 else "-") + text + " s"


def _fault_label(fault: dict) -> str:
    """What a rule did, as its band says it: `fault-1: 503 on x_heartbeat`, `drop`, `delay`."""
    did = []
    if fault.get("status"):
        did.append(str(fault["status"]))
    if fault.get("drop"):
        did.append("drop")
    if fault.get("delay_ms") or fault.get("delay"):
        did.append(f"delay {fault['delay_ms']} ms" if fault.get("delay_ms") else "delay")
    where = f" on {fault['operation']}" if fault.get("operation") else ""
    return f"{fault['id']}: {' + '.join(did) or 'fault'}{where}"


def timeline_events(events: list[dict], now: float) -> dict[str, list[dict]]:
    """The events of one API (and the mock's) as what a timeline draws: `jumps` (each clock
    move with its label) and `faults` (each rule's active window, from its start or creation
    to the first of: its window's end, its removal, its last use, now)."""
    jumps, faults, ended = [], {}, {}
    for e in events:
        kind = e["kind"]
        if kind in JUMPS and abs(e.get("seconds") or 0) >= 0.5:
            label = f"clock {_signed(e['seconds'])}" + (" (reset)" if kind == "clock.reset" else "")
            jumps.append({"from": e["epoch"], "to": e["to"], "label": label, "id": e["id"]})
        elif kind == "fault.added":
            faults[e["fault"]["id"]] = e
        elif kind in ("fault.removed", "fault.expired"):
            ended.setdefault(e["fault"]["id"], e["epoch"])
    windows = []
    for fault_id, added in faults.items():
        rule, bounds = added["fault"], added["fault"].get("window") or {}
        start = max(added["epoch"], bounds.get("start") or added["epoch"])
        end = min(x for x in (bounds.get("end"), ended.get(fault_id), now) if x is not None)
        if end >= start:
            windows.append({"from": start, "to": end, "label": _fault_label(rule), "id": fault_id})
    return {"jumps": jumps[-MAX_EVENTS:], "faults": windows[-MAX_EVENTS:]}


def coalesced(drawn: dict, t0: float, now: float) -> dict:
    """The jumps as a heartbeat row draws them: forward jumps less than one axis unit apart
    become one break ("clock +500 s in 2 jumps"), so 200 rows of a clock driven by many
    advances stay small; the event strip above them keeps each jump with its own label."""
    span = max(now - t0, 1.0)
    unit = span / WIDTH
    merged: list[dict] = []
    for jump in (j for j in drawn["jumps"] if _clipped(j, t0, now, span) is not None):
        last = merged[-1] if merged else None
        forward = jump["to"] >= jump["from"]
        if (
            last
            and forward
            and last["to"] >= last["from"]
            and 0 <= jump["from"] - last["to"] < unit
        ):
            last.update(
                to=jump["to"], n=last["n"] + 1, seconds=last["seconds"] + jump["to"] - jump["from"]
            )
            last["label"] = f"clock {_signed(last['seconds'])} in {last['n']} jumps"
        else:
            merged.append({**jump, "n": 1, "seconds": jump["to"] - jump["from"]})
    return {"jumps": merged, "faults": drawn["faults"]}


def _clipped(item: dict, t0: float, now: float, span: float) -> tuple[float, float] | None:
    """The stretch's x range on the axis, or None when none of it is on the axis."""
    lo, hi = sorted((item["from"], item["to"]))
    if hi < t0 or lo > now or (hi == t0 and lo < hi):
        return None
    return _x(max(lo, t0), t0, span), _x(min(hi, now), t0, span)


class _Lane:
    """One line of labels in an event strip: a label is written at its band (one near the
    end of the axis ends there) where it does not run into the one before it (about 5.5
    units a character at 10 px); one that would keeps to its band's tooltip, so labels
    never pile up."""

    def __init__(self, y: float) -> None:
        self.y, self.free_from = y, 0.0

    def label(self, x: float, text: str) -> str:
        width = len(text) * 5.5
        start = round(min(x + 2, WIDTH + 2 - width), 2)  # near the end: ends at the axis end
        if start < self.free_from or start < 0:
            return ""
        self.free_from = start + width + 6
        return f'<text x="{start}" y="{self.y}">{escape(text)}</text>'


def _event_shapes(drawn: dict, t0: float, now: float, height: float, labels: bool) -> list[str]:
    """Clock breaks, then the fault bands over them (translucent); with `labels`, each with
    its text."""
    span, parts = max(now - t0, 1.0), []
    fault_lane, jump_lane = _Lane(height - 4), _Lane(11)
    for jump in drawn["jumps"]:
        xs = _clipped(jump, t0, now, span)
        if xs is None:
            continue
        back = " back" if jump["to"] < jump["from"] else ""
        x0, width = (xs[0], max(xs[1] - xs[0], 2))
        if back:  # a line where the clock was set back from
            x0, width = min(max(_x(jump["from"], t0, span), 0), WIDTH), 2
        label = escape(jump["label"])
        parts.append(
            f'<rect class="jump{back}" data-label="{label}" x="{x0}" y="0" width="{width}" '
            f'height="{height}"><title>{label}: {escape(iso_utc(jump["from"]))} to '
            f"{escape(iso_utc(jump['to']))}</title></rect>"
        )
        if labels:
            parts.append(jump_lane.label(x0, jump["label"]))
    for band in drawn["faults"]:
        xs = _clipped(band, t0, now, span)
        if xs is None:
            continue
        label = escape(band["label"])
        parts.append(
            f'<rect class="fault-window" data-fault="{escape(band["id"])}" data-label="{label}" '
            f'x="{xs[0]}" y="0" width="{max(xs[1] - xs[0], 1)}" height="{height}">'
            f"<title>{label}: {escape(iso_utc(band['from']))} to "
            f"{escape(iso_utc(band['to']))}</title></rect>"
        )
        if labels:
            parts.append(fault_lane.label(xs[0], band["label"]))
    return parts


def _events_row(drawn: dict, t0: float, now: float) -> str:
    if not drawn["jumps"] and not drawn["faults"]:
        return ""
    shapes = "".join(_event_shapes(drawn, t0, now, EVENT_ROW, labels=True))
    if not shapes:  # all of them before this API's first heartbeat
        return ""
    return (
        '<div class="eventrow"><div class="axis">clock jumps and fault windows</div>'
        f'<svg class="timeline events" viewBox="0 0 {WIDTH + 4} {EVENT_ROW}" role="img" '
        f'aria-label="clock jumps and fault windows">{shapes}</svg></div>'
    )


def _timeline_svg(client: dict, t0: float, now: float, drawn: dict) -> str:
    span = max(now - t0, 1.0)
    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH + 4} {ROW}" role="img" '
        f'aria-label="heartbeats of {escape(client["identity"])}">',
        *_event_shapes(drawn, t0, now, ROW, labels=False),
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
        parts.append(_mark(mark, _x(mark["epoch"], t0, span)))
    parts.append("</svg>")
    return "".join(parts)


def _mark(mark: dict, x: float) -> str:
    """One heartbeat: coloured by the status the client got; a proxied one (issue 19) outlined
    with a small triangle above it, its colour the upstream's status, or, when the upstream
    gave no answer (the proxy's own 502/504), hollow and crossed, never a 5xx of the upstream."""
    fault = " fault" if mark["fault"] else ""
    note = f"#{mark['id']} {mark['at']} → {mark['status']}{' (fault)' if fault else ''}"
    proxied, extra, attrs = mark.get("proxied"), "", ""
    if proxied:
        failed = proxied.get("error")
        fault += " proxied" + (" upstream-failed" if failed else "")
        attrs = f' data-upstream-status="{proxied.get("status") or ""}"'
        note += (
            f" (proxied: upstream failed: {failed})"
            if failed
            else f" (proxied: upstream {proxied.get('status')} in {proxied.get('ms')} ms)"
        )
        extra = f'<path class="proxied-glyph" d="M{x} 0h4l-2 2.6z"/>'
        if failed:
            extra += f'<path class="fail-cross" d="M{x} 3l4 {ROW - 9}M{x + 4} 3l-4 {ROW - 9}"/>'
    return (
        f'<rect class="mark {_status_class(mark["status"])}{fault}" '
        f'data-status="{mark["status"]}" data-at="{escape(mark["at"])}"{attrs} '
        f'x="{x}" y="3" width="4" height="{ROW - 9}"><title>{escape(note)}</title></rect>{extra}'
    )


def _client_row(api: str, client: dict, t0: float, now: float, drawn: dict) -> str:
    doc = client["documented"]
    facts = [_n(client["heartbeats"], "heartbeat")]
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
        f"{_timeline_svg(client, t0, now, drawn)}</div>"
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
    tail = f"<p>{_n(more, 'more invalid request')}: see GET /__mock/requests?valid=false</p>"
    return (
        "<h3>Invalid requests</h3><table><tr><th>id</th><th>at</th><th>request</th>"
        f"<th>status</th><th>violations</th></tr>{''.join(rows)}</table>"
        + (tail if more > 0 else "")
    )


def _clients(name: str, clients: list[dict], now: float, events: list[dict]) -> str:
    if not clients:
        return "<p>No heartbeats from an identified client.</p>"
    drawn = sorted(clients, key=lambda c: (not c["findings"], c["identity"]))[:MAX_CLIENTS]
    t0 = min(m["epoch"] for c in drawn for m in c["timeline"]["marks"])
    shown = timeline_events(events, now)
    rows = [_events_row(shown, t0, now)]
    per_row = coalesced(shown, t0, now)
    rows += [_client_row(name, c, t0, now, per_row) for c in drawn]
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
            f'<p class="more">{_n(rest, "more client")} not drawn ({with_findings} with findings, '
            f"{rest - with_findings} on cadence): GET /__mock/report lists them all</p>"
        )
    return axis + "".join(rows) + summary


def _api_section(name: str, r: dict, now: float, events: list[dict]) -> str:
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(r["statuses"].items())) or "none"
    return (
        f'<section class="api" id="api-{escape(name)}"><h2>{escape(name)}</h2>'
        f"<p>{_n(r['requests'], 'request')}: {r['valid']} valid, {r['invalid']} invalid, "
        f"{r['faulted']} faulted; statuses {escape(statuses)}</p>"
        f"{_invalid_table(r)}{drift_html(r)}<h3>Heartbeat timelines</h3>"
        f"{_clients(name, r['clients'], now, events)}"
        "</section>"
    )


LEGEND = (
    '<p class="legend"><span><i class="sw s2xx"></i>2xx</span><span><i class="sw s429"></i>429'
    '</span><span><i class="sw s4xx"></i>other 4xx</span><span><i class="sw s5xx"></i>5xx</span>'
    '<span><i class="sw" style="border:1.5px dashed #000"></i>faulted (dashed outline)</span>'
    '<span><i class="sw" style="background:#e1bee7"></i>a fault rule active</span>'
    '<span><i class="sw" style="border:1.5px solid #0d47a1"></i>proxied (outlined, ▾ above: '
    "the upstream's status)</span>"
    '<span><i class="sw" style="border:1.5px solid #b71c1c;background:#fff"></i>proxied, the '
    "upstream gave no answer (502/504 of the proxy, crossed)</span>"
    '<span><i class="sw" style="background:#cfd8dc"></i>clock jump (time skipped)</span>'
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
    events = report.get("events") or []
    sections = "".join(
        _api_section(n, r, now, [e for e in events if e.get("api") in (None, n)])
        for n, r in report["apis"].items()
        if r["requests"]
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>heartbeat-mockserver report</title>"
        f"<style>{CSS}</style></head><body>{HATCH}<h1>heartbeat-mockserver report</h1>"
        f'<p class="axis">at {escape(report["generated_at"])} on the mock clock</p>'
        "<table><tr><th>API</th><th>requests</th><th>invalid</th><th>faulted</th>"
        f"<th>clients</th></tr>{totals}</table>{LEGEND}"
        f"{sections or '<p>No requests yet.</p>'}</body></html>\n"
    )
