"""The README's Performance tables from one run's JSON, ready to paste (`make bench` also writes
them beside the JSON as `bench/results/<stamp>.md`).

    .venv/bin/python bench/readme_table.py [bench/results/<stamp>.json]   # default: the newest
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from report import TARGETS

__all__ = ["markdown", "main"]

RESULTS = Path(__file__).resolve().parent / "results"
_INPROCESS = ("connexion", "compiled", "connexion+vr", "compiled+vr", "floor")


def _num(value, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _verdicts(row: dict) -> str:
    failed = [TARGETS.get(name, name) for name, ok in (row.get("checks") or {}).items() if not ok]
    return "all met" if row.get("checks") and not failed else ", ".join(failed)


def _header(document: dict, name: str) -> str:
    m = document.get("machine", {})
    alone = (
        f" {document['isolation']}; bg% is what other processes used meanwhile."
        if document.get("isolation")
        else " bg% is what other processes used during a row."
    )
    return (
        f"Run `bench/results/{name}` (commit "
        f"{m.get('git_commit')}): {m.get('cpus')} × {m.get('cpu_model')}, "
        f"{m.get('memory_gib')} GiB, Python {m.get('python')}, Prism {m.get('prism')} on Node "
        f"{m.get('node')}, {document.get('load_generator')}, bytecode precompiled; machine "
        f"{m.get('busy_pct_before_start')}% busy before the start, steal "
        f"{m.get('steal_pct_during_run')}% during the run.{alone}"
    )


def _rows_table(rows: list[dict]) -> list[str]:
    out = [
        "| target / API | req/s | p50 ms | p99 ms | bg% | RSS MB | start-up s | × Prism "
        "| × floor | targets missed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.get("rps") is None:
            continue
        out.append(
            f"| {row['label']} | {_num(row.get('rps'))} | {_num(row.get('p50_ms'), 1)} "
            f"| {_num(row.get('p99_ms'), 1)} | {_num(row.get('other_cpu_pct'))} "
            f"| {_num(row.get('rss_mb'), 1)} | {_num(row.get('startup_s'), 2)} "
            f"| {_num(row.get('x_prism'), 2)} | {_num(row.get('x_floor'), 2)} "
            f"| {_verdicts(row) if row['kind'].startswith('mock') else ''} |"
        )
    return out


def _inprocess_table(inprocess: dict) -> list[str]:
    out = [
        "| API | " + " | ".join(_INPROCESS) + " |",
        "|---|" + "---|" * len(_INPROCESS),
    ]
    for api, row in inprocess.items():
        out.append(f"| {api} | " + " | ".join(_num(row.get(v)) for v in _INPROCESS) + " |")
    return out


def markdown(document: dict, name: str) -> str:
    """`name`: the JSON file's name in bench/results/."""
    lines = [_header(document, name), "", *_rows_table(document.get("rows", []))]
    notes = [
        f"- {row['label']}: {row['note']}"
        for row in document.get("rows", [])
        if row.get("note") and row.get("rps") is not None
    ]
    if notes:
        lines += ["", *notes]
    if document.get("inprocess"):
        lines += [
            "",
            "In process (`bench/inprocess.py`: CPU µs per valid heartbeat, memory store; "
            "`+vr` = response validation on; floor = the engine replaced by a fixed answer):",
            "",
            *_inprocess_table(document["inprocess"]),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else max(RESULTS.glob("*.json"), default=None)
    if path is None:
        print("no bench/results/*.json yet: run `make bench`", file=sys.stderr)
        return 1
    print(markdown(json.loads(path.read_text()), path.name), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
