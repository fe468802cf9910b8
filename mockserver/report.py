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
        if peak > limit or limited:
            out.append(
                f"{peak} requests in {_fmt(window)} (limit {limit}): rate-limited "
                f"{'once' if limited == 1 else f'{limited} times'}"
            )
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
    out = []
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
            tally.marks[identity].append({**mark, "fault": bool(e.get("fault"))})
        if not e.get("fault"):
            tally.beats[identity].append(
                {"epoch": e["epoch"], "at": e["at"], "status": e["status"]}
            )
            tally.newest[identity] = e

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
                    self._client(api, tally, identity, beats, now)
                    for identity, beats in sorted(tally.beats.items())
                ],
            }
            if tally.faults:  # present only when a fault applied
                report["apis"][name]["faults"] = list(tally.faults.values())
            if tally.drift:  # present only when the API was proxied
                report["apis"][name]["drift"] = tally.drift.build()
        return report

    def _client(self, api: MockApi, tally: _ApiTally, identity: str, beats, now) -> dict:
        beats = beats[:-1] + [tally.newest[identity]]
        policy = api.cadence(identity, beats) or CadencePolicy(interval=None)
        client = _cadence(policy, identity, beats, now)
        if self.timelines:
            times = [b["epoch"] for b in beats]
            client["timeline"] = {
                "marks": tally.marks[identity],
                "gaps": gaps_over_timeouts(policy, times, now),
                "effects": {"ttl": policy.ttl_effect, "stale": policy.stale_effect},
            }
        return client


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
        "first": beats[0]["at"],
        "last": beats[-1]["at"],
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
        "findings": _findings(policy, times, gaps, [b["status"] for b in beats], now),
    }


def build_report(apis: dict[str, MockApi], entries, now: float, *, timelines=False) -> dict:
    """The report over `entries` (any iterable, in id order)."""
    builder = ReportBuilder(apis, timelines=timelines)
    for e in entries:
        builder.add(e)
    return builder.build(now)


def render_text(report: dict) -> str:
    lines = [f"heartbeat-mockserver report at {report['generated_at']}"]
    for name, r in report["apis"].items():
        if not r["requests"]:
            continue
        lines.append("")
        lines.append(
            f"{name}: {r['requests']} requests, {r['invalid']} invalid, {r['faulted']} faulted; "
            + ", ".join(f"{s}: {n}" for s, n in sorted(r["statuses"].items()))
        )
        for bad in r["invalid_requests"]:
            why = "; ".join(f"{v['key'] or v['rule']}: {v['message']}" for v in bad["violations"])
            lines.append(
                f"  invalid #{bad['id']} {bad['method']} {bad['path']} -> {bad['status']}: {why}"
            )
        lines += drift_lines(r)
        for f in r.get("faults", []):
            step = f["scenario"]
            made = f" (scenario {step['name']} step {step['step']})" if step else ""
            lines.append(
                f"  fault {f['id']}{made}: {f['requests']} requests, {f['first']} .. {f['last']}"
            )
        for c in r["clients"]:
            iv = c["interval"]
            spread = (
                f"interval min/median/max {_fmt(iv['min'])}/{_fmt(iv['median'])}/{_fmt(iv['max'])}"
                if iv["min"] is not None
                else "one heartbeat"
            )
            doc = c["documented"]
            expected = f" (documented {_fmt(doc['interval'])})" if doc["interval"] else ""
            lines.append(f"  {c['identity']}: {c['heartbeats']} heartbeats, {spread}{expected}")
            for finding in c["findings"]:
                lines.append(f"    - {finding}")
            if not c["findings"]:
                lines.append("    - on cadence")
    for run in report.get("scenarios", []):
        lines += ["", f"scenario {run['name']} (started {run['started_at']})"]
        for step in run["steps"]:
            answer = f" -> {step['status']}" if step["status"] is not None else ""
            lines.append(
                f"  {step['due_at']} {step['method']} {step['path']}: {step['state']}{answer}"
            )
    return "\n".join(lines) + "\n"
