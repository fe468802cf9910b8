"""The HTML report as a file: for `mockserver report --out` and the pytest plugin's
`--mockserver-report PATH` (issue 20), so CI can keep the picture of a failed run as an artifact.

The plugin's fixture resets the mock before each test, so one report at the end would show only
the last test; instead each test's report (fetched before the next reset) becomes a section of
one document, headed by the test's node id. Under pytest-xdist each worker writes its own file,
`report.gw0.html`, since each worker has its own server.
"""

from __future__ import annotations

import os
import re
from html import escape
from pathlib import Path

__all__ = ["ReportSections", "add_parser", "fetch_report", "worker_path"]

_BODY = re.compile(r"<body>(.*)</body>", re.S)
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
EMPTY = "<p>No requests yet.</p>"


def fetch_report(url: str, fmt: str = "html", *, token: str | None = None, api=None) -> str:
    """The report of the mock at `url`, as the control API renders it; raises httpx errors."""
    import httpx

    params = {"format": fmt, **({"api": api} if api else {})}
    headers = {"X-Mock-Token": token} if token else {}
    r = httpx.get(f"{url.rstrip('/')}/__mock/report", params=params, headers=headers, timeout=30)
    r.raise_for_status()
    return r.text


def add_parser(sub) -> None:
    """`mockserver report --url URL [--out FILE] [--format json|text|html]`."""
    parser = sub.add_parser("report", help="fetch a running mock's report (json, text or html)")
    parser.add_argument("--url", required=True, help="the mock's base URL")
    parser.add_argument("--out", metavar="FILE", help="write it here (default: stdout)")
    parser.add_argument("--format", choices=("json", "text", "html"), default="html")
    parser.add_argument("--api", metavar="NAME", help="only this API")
    parser.add_argument("--token", help="the control token, if the mock has one")
    parser.set_defaults(func=_report_command)


def _report_command(args) -> int:
    import sys

    import httpx

    try:
        text = fetch_report(args.url, args.format, token=args.token, api=args.api)
    except httpx.HTTPStatusError as exc:
        print(
            f"mockserver report: {args.url} answered {exc.response.status_code}: "
            f"{exc.response.text[:300]}",
            file=sys.stderr,
        )
        return 1
    except (httpx.HTTPError, ValueError) as exc:
        print(f"mockserver report: could not reach {args.url}: {exc}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def worker_path(path: str | Path) -> Path:
    """`path` itself, or under an xdist worker `name.gwN.ext`."""
    path = Path(path)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return path.with_name(f"{path.stem}.{worker}{path.suffix}") if worker else path


class ReportSections:
    """Per-test HTML reports gathered into one document (same CSS, one section each)."""

    def __init__(self) -> None:
        self.style = ""
        self.sections: list[tuple[str, str]] = []

    def add(self, title: str, document: str) -> None:
        body, style = _BODY.search(document), _STYLE.search(document)
        if body is None or EMPTY in body.group(1):
            return  # a test that sent nothing to the mock
        self.style = self.style or (style.group(1) if style else "")
        self.sections.append((title, body.group(1)))

    def document(self) -> str:
        parts = [
            f'<section class="test"><h1>{escape(title)}</h1>{body}</section>'
            for title, body in self.sections
        ]
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>heartbeat-mockserver report</title>"
            f"<style>{self.style}</style></head><body>"
            f"{''.join(parts) or '<h1>heartbeat-mockserver report</h1>' + EMPTY}</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        target = worker_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.document(), encoding="utf-8")
        return target
