"""The request log: one line per native request, written from its journal entry.

Like Prism's log (one line per request with its validation verdict) and WireMock's `--verbose`,
so a person watching `mockserver serve` sees at once what their client sent and whether the mock
took it (issue 17, item 4). Each line is built from the journal entry only, never from the raw
request: the entry's headers and query are already redacted and its violations masked, so no
credential can reach the log. The line is one line whatever the client sent: control characters
(a `%0A` in the path, a newline in a value quoted by a violation) are escaped, long messages cut.

The lines go to the `mockserver.requests` logger at INFO. `mockserver serve` gives that logger a
stderr handler (unless `--quiet`); in-process servers (the pytest plugin, BackgroundServer) add
no handler, so they show only where the integrator's own logging asks for INFO.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from mockserver.core.clock import iso_utc
from mockserver.core.redaction import current_secrets

__all__ = ["LOGGER", "MESSAGE_CAP", "format_line", "log_request", "log_unrouted", "request_log"]

LOGGER = "mockserver.requests"
request_log = logging.getLogger(LOGGER)

MESSAGE_CAP = 200  # characters of the first violation's message shown on the line
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _printable(text: Any) -> str:
    """`text` on one line: control characters, line separators and lone surrogates escaped."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _verdict(entry: dict) -> str:
    violations = entry.get("violations") or []
    if entry.get("valid", True) or not violations:
        return "valid"
    first = violations[0]
    message = str(first.get("message", ""))
    if len(message) > MESSAGE_CAP:
        message = message[:MESSAGE_CAP] + "..."
    return f"invalid: {first.get('key') or '(request)'}: {message}"


def _fault(fault: dict) -> str:
    what = []
    if fault.get("delay_ms"):
        what.append(f"delay {fault['delay_ms']} ms")
    if fault.get("drop"):
        what.append("drop")
    elif fault.get("status"):
        what.append(f"status {fault['status']}")
    return f" [{fault.get('id')}: {', '.join(what) or 'applied'}]"  # ids read `fault-<n>`


def _upstream(proxied: Any) -> str:
    """The upstream's status when the request was passed on (proxy mode: the entry's
    `proxied` is {"url", "status" (None: no answer), "ms", "error"?}), and how long it took."""
    status = proxied.get("status") if isinstance(proxied, dict) else proxied
    took = proxied.get("ms") if isinstance(proxied, dict) else None
    took = f" in {took}ms" if isinstance(took, (int, float)) else ""
    if status in (None, False):
        return f" [upstream: no answer{took}]"
    return f" [upstream {status}{took}]"


def format_line(entry: dict, duration_ms: float) -> str:
    """`<mock time> <api> <METHOD> <path?query> <status> <ms>ms <verdict> [fault] [upstream]`;
    status `dropped` when no answer went out (a `drop` fault, a client gone mid-body). The path is
    decoded (as the journal has it) but for its spaces, so each field stays one word."""
    path = str(entry.get("path", "")).replace(" ", "%20")  # one field, as the client wrote it
    if entry.get("query"):
        path = f"{path}?{entry['query']}"
    status = entry.get("status") or "dropped"
    line = (
        f"{iso_utc(entry['epoch'])} {entry.get('api')} {entry.get('method')} {path} {status} "
        f"{duration_ms:.1f}ms {_verdict(entry)}"
    )
    if entry.get("fault"):
        line += _fault(entry["fault"])
    if entry.get("proxied") is not None:
        line += _upstream(entry["proxied"])
    return current_secrets().scrub(_printable(line))


def log_request(api: str, entry: dict | None, duration_ms: float, scope: dict) -> None:
    """Write the line for one finished request; one without an entry (the store did not answer
    before the request could be journaled) still gets a line, without a verdict."""
    if entry is None:
        path = _printable(scope.get("path", "")).replace(" ", "%20")
        line = f"- {api} {scope.get('method')} {path} - {duration_ms:.1f}ms"
        request_log.info("%s not journaled (state store unavailable)", line)
        return
    request_log.info("%s", format_line(entry, duration_ms))


def log_unrouted(at: float | None, method: str, path: str) -> None:
    """The line for a request no mocked API serves (the dispatcher's 404, not journaled)."""
    when = "-" if at is None else iso_utc(at)
    where = _printable(path).replace(" ", "%20")
    what = _printable(method)
    request_log.info("%s - %s %s 404 - no mocked API serves this path", when, what, where)
