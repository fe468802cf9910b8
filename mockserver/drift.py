"""The report's `drift` section (issue 19): where a proxied upstream's answers left the spec.

Per API, the response-side violations of its proxied requests (mockserver.http.proxy_check) and
its upstream failures (refused, dropped, TLS, timeout), grouped by operation and kind: how many
answers, the first and last, and a few examples with their precise reason. It is read off the
journal one entry at a time, like the rest of the report (mockserver.report.ReportBuilder).
"""

from __future__ import annotations

__all__ = ["EXAMPLES", "DriftTally", "drift_lines"]

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
