"""A tiny stdlib HTTP client for the harness's own calls (probes, seeding, counting), not load."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

__all__ = ["request_json", "request_raw", "wait_for_status"]


def request_raw(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def request_json(
    method: str,
    url: str,
    document: object = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, object]:
    """Send ``document`` as JSON (if given); answer (status, parsed JSON or the text)."""
    all_headers = {"Accept": "application/json", **(headers or {})}
    body = None
    if document is not None:
        body = json.dumps(document).encode()
        all_headers["Content-Type"] = "application/json"
    status, raw = request_raw(method, url, body, all_headers, timeout)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_for_status(
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    timeout: float,
    alive: callable = lambda: True,
    interval: float = 0.005,
) -> float | None:
    """Poll until the request answers 200; returns the monotonic time it did, None on timeout.

    Bounded by ``timeout`` seconds; stops early when ``alive()`` says the server process died.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _ = request_raw(method, url, body, headers, timeout=2.0)
            if status == 200:
                return time.monotonic()
        except OSError:
            pass
        if not alive():
            return None
        time.sleep(interval)
    return None
