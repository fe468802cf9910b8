"""The conformance and cadence report (`GET /__mock/report`).

Per API: how many requests, which were invalid and why, and per client identity (key prefix,
session, system, device, public id) the heartbeat cadence against the documented one, with
findings in plain words. No other mock answers "did my client keep its heartbeat cadence?";
this one reads it off the journal. The documented numbers come from each API's `cadence()`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from mockserver.core.api import CadencePolicy, MockApi
from mockserver.core.clock import iso_utc
from mockserver.drift import DriftTally, drift_lines

__all__ = ["ReportBuilder", "build_report", "gaps_over_timeouts", "render_text"]


TEXT_EVENTS = 20  # control events the text form lists (the newest); the JSON has them all


def _fmt(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 or seconds == int(seconds) else f"{seconds:.1f} s"


def _max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def _findings(
    policy: CadencePolicy, times: list[float], gaps: list[float], statuses: list[int], now: float
) -> list[str]:
    out: list[str] = []
    if policy.rate_limit:
        limit, window = policy.rate_limit
        peak = _max_in_window(times, window)
        limited = sum(1 for s in statuses if s == 429)
        if limited:
            out.append(
                f"{peak} requests in {_fmt(window)} (limit {limit}): rate-limited "
                f"{'once' if limited == 1 else f'{limited} times'}"
            )
        elif peak > limit:  # e.g. a limit raised at run time: over the documented one, no 429
            out.append(f"{peak} requests in {_fmt(window)}, over the documented limit of {limit}")
    out.extend(_lapse_findings(policy, gaps))
    if policy.interval and gaps:
        timeout = min((limit for limit, _, _ in _timeouts(policy)), default=None)
        late = [g for g in gaps if g > policy.interval * 1.1 and not (timeout and g > timeout)]
        if late:
            out.append(
                f"{len(late)} interval(s) longer than the documented {_fmt(policy.interval)} "
                f"(longest {_fmt(max(late))})"
            )
        median = statistics.median(gaps)
        if median < policy.interval / 2:
            out.append(
                f"heartbeats every {_fmt(median)} (median), more than twice as often as the "
                f"documented {_fmt(policy.interval)}"
            )
    silence = now - times[-1] if times else 0.0
    for limit, name, effect in _timeouts(policy):
        if silence > limit:
            out.append(
                f"silent for {_fmt(silence)}: longer than the {_fmt(limit)} {name}, so {effect}"
            )
            break
    return out


def _timeouts(policy: CadencePolicy) -> list[tuple[float, str, str]]:
    """The policy's timeouts, longest first: (seconds, its name, what passing it causes)."""
    out = []
    if policy.ttl:
        out.append((policy.ttl, "TTL", policy.ttl_effect))
    if policy.stale and not (policy.ttl and policy.stale >= policy.ttl):
        out.append((policy.stale, "stale timeout", policy.stale_effect))
    return out


def _lapse_findings(policy: CadencePolicy, gaps: list[float]) -> list[str]:
    """Each gap counted once, under the longest timeout it passed."""
    out, counted = [], set()
    for limit, name, effect in _timeouts(policy):
        lapses = [i for i, g in enumerate(gaps) if g > limit and i not in counted]
        counted.update(lapses)
        if lapses:
            word = "once" if len(lapses) == 1 else f"{len(lapses)} times"
            longest = max(gaps[i] for i in lapses)
            out.append(
                f"interval {_fmt(longest)} exceeds the {_fmt(limit)} {name}: {effect} {word}"
            )
    return out


def gaps_over_timeouts(policy: CadencePolicy, times: list[float], now: float) -> list[dict]:
    """The stretches of silence (between beats, and from the last beat to now) longer than a
    timeout, each with the part past the timeout and what it caused, for the timeline."""
    out: list[dict] = []
    if not times:
        return out
    for start, end in zip(times, [*times[1:], now], strict=True):
        for limit, name, effect in _timeouts(policy):
            if end - start > limit:
                out.append({"from": start + limit, "to": end, "timeout": name, "effect": effect})
    return out


class _ApiTally:
    """What the report keeps of one API's entries: counts, the invalid ones, and per client
    each heartbeat's time and status plus its newest heartbeat whole."""

    def __init__(self) -> None:
        self.requests = 0
        self.faulted = 0
        self.statuses: dict[str, int] = defaultdict(int)
        self.invalid: list[dict] = []
        self.beats: dict[str, list[dict]] = defaultdict(list)
        self.newest: dict[str, dict] = {}
        self.marks: dict[str, list[dict]] = defaultdict(list)  # faulted heartbeats too
        self.faults: dict[str, dict] = {}  # fault id -> requests it applied to, first and last
        # Clients whose heartbeats were faulted: the first time, the newest entry, how many.
        self.faulted_beats: dict[str, dict] = {}
        self.drift = DriftTally()  # proxied answers off the spec (issue 19)


class ReportBuilder:
    """The report, built one journal entry at a time (`add`, in id order), so it costs the
    memory of what it reports, not of the journal it reads (issue 23, item 14). An API's
    `cadence()` gets each client's heartbeats slim (`epoch`, `at`, `status`) and the newest
    one whole. With `timelines`, each client also gets its `timeline`: every heartbeat's mark
    (faulted ones included, flagged) and the silences past a timeout, for the HTML report."""

    def __init__(self, apis: dict[str, MockApi], *, timelines: bool = False) -> None:
        self.apis = apis
        self.timelines = timelines
        self._tally = {name: _ApiTally() for name in apis}

    def add(self, e: dict) -> None:
        tally = self._tally.get(e["api"])
        if tally is None:
            return
        tally.requests += 1
        tally.statuses[str(e["status"])] += 1
        tally.drift.add(e)
        if e.get("fault"):
            tally.faulted += 1
            _tally_fault(tally.faults, e)
        if not e["valid"]:
            keys = ("id", "at", "operation", "method", "path", "status", "violations")
            tally.invalid.append({k: e[k] for k in keys})
        api = self.apis[e["api"]]
        identity = e.get("identity")
        if not identity or e["operation"] != api.heartbeat_operation:
            return
        if self.timelines:
            mark = {"id": e["id"], "epoch": e["epoch"], "at": e["at"], "status": e["status"]}
            if e.get("proxied"):  # the upstream's status, ms, and its failure if it had one
                mark["proxied"] = e["proxied"]
            tally.marks[identity].append({**mark, "fault": bool(e.get("fault"))})
        if not e.get("fault"):
            beat = {"epoch": e["epoch"], "at": e["at"], "status": e["status"]}
            stop = _told_to_stop(api, e)
            if stop:
                beat["stop"] = stop
            tally.beats[identity].append(beat)
            tally.newest[identity] = e
        else:
            seen = tally.faulted_beats.setdefault(identity, {"first": e["at"], "n": 0})
            seen.update(newest=e, n=seen["n"] + 1)

    def build(self, now: float) -> dict:
        report: dict = {"generated_at": iso_utc(now), "apis": {}}
        for name, api in self.apis.items():
            tally = self._tally[name]
            report["apis"][name] = {
                "requests": tally.requests,
                "valid": tally.requests - len(tally.invalid),
                "invalid": len(tally.invalid),
                "faulted": tally.faulted,
                "statuses": dict(tally.statuses),
                "invalid_requests": tally.invalid,
                "clients": [
                    self._client(api, tally, identity, tally.beats.get(identity, []), now)
                    for identity in sorted(set(tally.beats) | set(tally.faulted_beats))
                ],
            }
            if tally.faults:  # present only when a fault applied
                report["apis"][name]["faults"] = list(tally.faults.values())
            if tally.drift:  # present only when the API was proxied
                report["apis"][name]["proxied"] = tally.drift.proxied
                report["apis"][name]["drift"] = tally.drift.build()
        return report

    def _client(self, api: MockApi, tally: _ApiTally, identity: str, beats, now) -> dict:
        """A client's cadence; one whose every heartbeat was faulted has none to measure, but
        its row (the faulted marks) all the same."""
        if beats:
            beats = beats[:-1] + [{**tally.newest[identity], **beats[-1]}]
            policy = api.cadence(identity, beats) or CadencePolicy(interval=None)
            client = _cadence(policy, identity, beats, now)
        else:
            faulted = tally.faulted_beats[identity]
            policy = api.cadence(identity, [faulted["newest"]]) or CadencePolicy(interval=None)
            client = _cadence(policy, identity, [], now)
            client.update(first=faulted["first"], last=faulted["newest"]["at"])
        if self.timelines:
            times = [b["epoch"] for b in beats]
            client["timeline"] = {
                "marks": tally.marks[identity],
                "gaps": gaps_over_timeouts(policy, times, now),
                "effects": {"ttl": policy.ttl_effect, "stale": policy.stale_effect},
            }
        return client


def _told_to_stop(api: MockApi, e: dict) -> str | None:
    """The answer in words when it was one after which the API's document says the client
    stops heartbeating (the API's `stop_answers`)."""
    body = (e.get("response") or {}).get("body")
    for answer in api.stop_answers:
        told = answer.told(e["status"], body)
        if told:
            return told
    return None


def _kept_beating(beats: list[dict]) -> list[str]:
    """Heartbeats after the first answer that told the client to stop (issue 17)."""
    first = next((i for i, b in enumerate(beats) if b.get("stop")), None)
    if first is None or first == len(beats) - 1:
        return []
    stop, more = beats[first], len(beats) - 1 - first
    return [
        f"kept heartbeating after the API told it to stop: {more} more "
        f"heartbeat{'' if more == 1 else 's'} after {stop['stop']} at {stop['at']}"
    ]


def _tally_fault(faults: dict[str, dict], e: dict) -> None:
    """Which rule faulted which requests, when (its window as seen), and the scenario step
    that made it, from the journal entry's `fault` mark."""
    mark = e["fault"]
    seen = faults.get(mark.get("id"))
    if seen is None:
        seen = faults[mark.get("id")] = {
            "id": mark.get("id"),
            "requests": 0,
            "first": e["at"],
            "last": e["at"],
            "scenario": mark.get("scenario"),
        }
    seen["requests"] += 1
    seen["last"] = e["at"]


def _cadence(policy: CadencePolicy, identity: str, beats: list[dict], now: float) -> dict:
    times = [b["epoch"] for b in beats]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return {
        "identity": identity,
        "heartbeats": len(beats),
        "first": beats[0]["at"] if beats else None,
        "last": beats[-1]["at"] if beats else None,
        "interval": {
            "min": min(gaps) if gaps else None,
            "median": statistics.median(gaps) if gaps else None,
            "max": max(gaps) if gaps else None,
        },
        "documented": {
            "interval": policy.interval,
            "ttl": policy.ttl,
            "rate_limit": list(policy.rate_limit) if policy.rate_limit else None,
            "stale": policy.stale,
        },
        "findings": _findings(policy, times, gaps, [b["status"] for b in beats], now)
        + _kept_beating(beats),
    }


def build_report(apis: dict[str, MockApi], entries, now: float, *, timelines=False) -> dict:
    """The report over `entries` (any iterable, in id order)."""
    builder = ReportBuilder(apis, timelines=timelines)
    for e in entries:
        builder.add(e)
    return builder.build(now)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _client_line(c: dict) -> str:
    iv, doc = c["interval"], c["documented"]
    expected = f" (documented {_fmt(doc['interval'])})" if doc["interval"] else ""
    if iv["min"] is not None:
        spread = f"interval min/median/max {_fmt(iv['min'])}/{_fmt(iv['median'])}/{_fmt(iv['max'])}"
        return (
            f"  {c['identity']}: {_plural(c['heartbeats'], 'heartbeat')} from {c['first']} to "
            f"{c['last']}, {spread}{expected}"
        )
    if c["heartbeats"]:
        return f"  {c['identity']}: 1 heartbeat at {c['first']}{expected}"
    return f"  {c['identity']}: every heartbeat faulted, {c['first']} .. {c['last']}{expected}"


def _event_line(e: dict) -> str:
    what = e["kind"]
    if e["kind"] in ("clock.advance", "clock.set", "clock.reset"):
        what += f" {e['seconds']:+.0f} s to {iso_utc(e['to'])}"
    if e.get("fault"):
        fault = e["fault"]
        did = [str(fault["status"])] if fault.get("status") else []
        did += ["drop"] if fault.get("drop") else []
        what += f" {fault['id']}" + (f" ({', '.join(did)})" if did else "")
    if e.get("name"):
        what += f" {e['name']}"
    return f"  {e['at']} {what}" + (f" [{e['api']}]" if e.get("api") else "")


def one_line(text: str) -> str:
    """`text` with every character that could break or disguise a line (CR, LF, U+2028, other
    control and format characters such as a bidi override, escape codes, lone surrogates)
    written as an escape: a client's id or path shows as sent but forges no report line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(c: str) -> str:
    code = ord(c)
    if c in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def render_text(report: dict) -> str:
    """The report as text, every time an ISO instant on the mock clock; every line through
    `one_line`, since ids, paths and names in it are what clients and tests sent."""
    lines = [f"heartbeat-mockserver report at {report['generated_at']}"]
    for name, r in report["apis"].items():
        if not r["requests"]:
            continue
        lines.append("")
        lines.append(
            f"{name}: {_plural(r['requests'], 'request')}, {r['invalid']} invalid, "
            f"{r['faulted']} faulted; "
            + ", ".join(f"{s}: {n}" for s, n in sorted(r["statuses"].items()))
        )
        for bad in r["invalid_requests"]:
            why = "; ".join(f"{v['key'] or v['rule']}: {v['message']}" for v in bad["violations"])
            lines.append(
                f"  invalid #{bad['id']} at {bad['at']} {bad['method']} {bad['path']} -> "
                f"{bad['status']}: {why}"
            )
        lines += drift_lines(r)
        for f in r.get("faults", []):
            step = f["scenario"]
            made = f" (scenario {step['name']} step {step['step']})" if step else ""
            lines.append(
                f"  fault {f['id']}{made}: {_plural(f['requests'], 'request')}, "
                f"{f['first']} .. {f['last']}"
            )
        for c in r["clients"]:
            lines.append(_client_line(c))
            lines += [f"    - {finding}" for finding in c["findings"]]
            if not c["findings"]:
                lines.append("    - on cadence")
    events = report.get("events") or []
    if events:
        lines += ["", "events (mock clock)"]
        if len(events) > TEXT_EVENTS:
            lines.append(f"  ({len(events) - TEXT_EVENTS} earlier: GET /__mock/events)")
        lines += [_event_line(e) for e in events[-TEXT_EVENTS:]]
    for run in report.get("scenarios", []):
        lines += ["", f"scenario {run['name']} (started {run['started_at']})"]
        for step in run["steps"]:
            answer = f" -> {step['status']}" if step["status"] is not None else ""
            lines.append(
                f"  {step['due_at']} {step['method']} {step['path']}: {step['state']}{answer}"
            )
    return "\n".join(one_line(line) for line in lines) + "\n"
