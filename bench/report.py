"""The one table: rows per target/API, ratios to Prism and the floor, the targets as columns.

Targets are reported, never asserted (issue 12): the machine is noisy, so only figures from the
same run are compared, which is why every ratio is computed within this run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["TARGETS", "evaluate", "format_table", "write_results"]

# Issue 12, "Targets, as ratios in the same run", with issue 16's floor ratio (was 25%).
MIN_X_PRISM = 2.0
MIN_X_FLOOR = 0.30
MAX_P99_MS = 15.0
MAX_STARTUP_S = 0.7
MAX_RSS_MB = 80.0
MAX_SCALE_RSS_GROWTH_MB = 60.0
MIN_SCALE_THROUGHPUT_RATIO = 0.90

TARGETS = {
    "x_prism": f">={MIN_X_PRISM:g}xPrism",
    "x_floor": f">={MIN_X_FLOOR:.0%}floor",
    "p99": f"p99<={MAX_P99_MS:g}ms",
    "startup": f"start<={MAX_STARTUP_S:g}s",
    "rss": f"RSS<={MAX_RSS_MB:g}MB",
    "scale_rss": f"+RSS<={MAX_SCALE_RSS_GROWTH_MB:g}MB",
    "scale_rps": f"rps>={MIN_SCALE_THROUGHPUT_RATIO:.0%}of10",
}


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return round(value / base, 3)


def evaluate(rows: list[dict]) -> None:
    """Fill each row's ratios and target verdicts (True/False; absent = not applicable)."""
    prism = next((r["rps"] for r in rows if r["kind"] == "prism" and r.get("rps")), None)
    floor = next((r["rps"] for r in rows if r["kind"] == "floor" and r.get("rps")), None)
    for row in rows:
        row["x_prism"] = _ratio(row.get("rps"), prism)
        row["x_floor"] = _ratio(row.get("rps"), floor)
        if not row["kind"].startswith("mock") or row.get("rps") is None:
            continue
        checks = row.setdefault("checks", {})
        if row["x_prism"] is not None:
            checks["x_prism"] = row["x_prism"] >= MIN_X_PRISM
        if row["x_floor"] is not None:
            checks["x_floor"] = row["x_floor"] >= MIN_X_FLOOR
        checks["p99"] = row["p99_ms"] <= MAX_P99_MS
        if row.get("startup_s") is not None:
            checks["startup"] = row["startup_s"] <= MAX_STARTUP_S
        if row["kind"] == "mock" and row.get("rss_mb") is not None:
            checks["rss"] = row["rss_mb"] <= MAX_RSS_MB
        if row.get("rss_growth_mb") is not None:
            checks["scale_rss"] = row["rss_growth_mb"] <= MAX_SCALE_RSS_GROWTH_MB
        if row.get("rps_vs_ten") is not None:
            checks["scale_rps"] = row["rps_vs_ten"] >= MIN_SCALE_THROUGHPUT_RATIO


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def format_table(rows: list[dict]) -> str:
    columns = [
        ("target / API", 30, lambda r: r["label"]),
        ("req/s", 8, lambda r: _num(r.get("rps"))),
        ("p50ms", 6, lambda r: _num(r.get("p50_ms"), 2)),
        ("p99ms", 6, lambda r: _num(r.get("p99_ms"), 1)),
        ("err", 5, lambda r: _num(r.get("errors"))),
        ("srv%", 4, lambda r: _num(r.get("server_cpu_pct"))),
        ("bg%", 4, lambda r: _num(r.get("other_cpu_pct"))),
        ("RSS MB", 7, lambda r: _num(r.get("rss_mb"), 1)),
        ("start s", 7, lambda r: _num(r.get("startup_s"), 2)),
        ("xPrism", 6, lambda r: _num(r.get("x_prism"), 2)),
        ("xfloor", 6, lambda r: _num(r.get("x_floor"), 2)),
    ]
    for key, title in TARGETS.items():
        columns.append((title, max(len(title), 4), _verdict(key)))
    lines = [
        " ".join(
            title.rjust(width) if i else title.ljust(width)
            for i, (title, width, _) in enumerate(columns)
        )
    ]
    lines.append("-" * len(lines[0]))
    for row in rows:
        cells = []
        for i, (_, width, cell) in enumerate(columns):
            text = cell(row)
            cells.append(text.ljust(width) if i == 0 else text.rjust(width))
        lines.append(" ".join(cells))
        for text in (row.get("warning"), row.get("note")):
            if text:
                lines.append("    " + text)
    return "\n".join(lines)


def _verdict(key: str):
    def cell(row: dict) -> str:
        value = row.get("checks", {}).get(key)
        return "" if value is None else ("pass" if value else "FAIL")

    return cell


def write_results(directory: Path, document: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{stamp}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path
