"""The report's `drift` section (issue 19): where a proxied upstream's answers left the spec.

Per API, the response-side violations of its proxied requests (mockserver.http.proxy_check) and
its upstream failures (refused, dropped, TLS, timeout), grouped by operation and kind: how many
answers, the first and last, and a few examples with their precise reason. It is read off the
journal one entry at a time, like the rest of the report (mockserver.report.ReportBuilder).
"""

from __future__ import annotations

from html import escape

__all__ = ["EXAMPLES", "DriftTally", "drift_html", "drift_lines"]

EXAMPLES = 3  # per group: enough to see the reason, not a second journal


class DriftTally:
    """Response violations of one API's proxied entries, by (operation, kind)."""

    def __init__(self) -> None:
        self.proxied = 0
        self._groups: dict[tuple[str, str], dict] = {}

    def add(self, e: dict) -> None:
        if not e.get("proxied"):
            return
        self.proxied += 1
        seen: set[tuple[str, str]] = set()
        for v in e.get("violations") or []:
            if v.get("location") != "response":
                continue
            key = (e.get("operation") or "", str(v.get("rule") or ""))
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = {
                    "operation": e.get("operation"),
                    "kind": key[1],
                    "answers": 0,
                    "first": e["at"],
                    "last": e["at"],
                    "examples": [],
                }
            if key not in seen:  # an answer counts once per kind, however many fields
                seen.add(key)
                group["answers"] += 1
                group["last"] = e["at"]
            if len(group["examples"]) < EXAMPLES:
                group["examples"].append(
                    {
                        "id": e["id"],
                        "status": e["status"],
                        "key": v.get("key", ""),
                        "message": v.get("message", ""),
                    }
                )

    def __bool__(self) -> bool:
        return bool(self.proxied)

    def build(self) -> list[dict]:
        return [self._groups[k] for k in sorted(self._groups)]


def drift_lines(api_report: dict) -> list[str]:
    """The text report's lines for one API's drift section (none when it was not proxied)."""
    lines = []
    for group in api_report.get("drift", []):
        where = group["operation"] or "(no operation)"
        lines.append(f"  drift {where} {group['kind']}: {group['answers']} answer(s)")
        lines += [f"    #{x['id']} -> {x['status']}: {x['message']}" for x in group["examples"]]
    return lines


def _reason(example: dict) -> str:
    where = f"{example['key']}: " if example.get("key") else ""
    return f"#{example['id']} -> {example['status']}: {where}{example['message']}"


def drift_html(api_report: dict) -> str:
    """The HTML report's drift section for one API (issue 20: "drift, if the proxy exists"):
    nothing for an API that was not proxied; else each (operation, kind) group with how many
    answers, the first and last (mock clock) and one example reason. A group of upstream
    failures (no answer: the proxy's own 502/504, key `upstream`) is its own kind of row, so it
    is never read as the upstream's 5xx."""
    if "drift" not in api_report:
        return ""
    groups = api_report["drift"]
    if not groups:
        return (
            '<h3>Drift</h3><p class="ok drift-none">Proxied: every upstream answer matched '
            "the spec.</p>"
        )
    rows = []
    for g in groups:
        first = (g["examples"] or [{}])[0]
        failed = first.get("key") == "upstream"
        kind = "upstream failure" if failed else "response drift"
        rows.append(
            f'<tr class="drift{" upstream-failure" if failed else ""}" '
            f'data-operation="{escape(g["operation"] or "")}" data-kind="{escape(g["kind"])}" '
            f'data-answers="{g["answers"]}"><td>{escape(g["operation"] or "(no operation)")}</td>'
            f"<td>{escape(g['kind'])} <small>({kind})</small></td><td>{g['answers']}</td>"
            f"<td>{escape(g['first'])}</td><td>{escape(g['last'])}</td>"
            f'<td class="reason">{escape(_reason(first)) if first else ""}</td></tr>'
        )
    return (
        '<h3>Drift</h3><p class="axis">where the upstream\'s answers left the spec (a failure: '
        'no answer, the proxy\'s own 502/504)</p><table class="drift-groups"><tr><th>operation</th>'
        "<th>kind</th><th>answers</th><th>first</th><th>last</th><th>example</th></tr>"
        f"{''.join(rows)}</table>"
    )
