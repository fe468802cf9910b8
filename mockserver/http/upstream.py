"""The upstream side of proxy mode (issue 19): one pooled HTTP client per proxied API, the
request forwarded as the client sent it (minus hop-by-hop fields), the answer read whole and
bounded, and every way that can fail said in a few words (mockserver.http.proxy uses it).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

__all__ = [
    "MAX_CONNECTIONS",
    "UPSTREAM_BODY_LIMIT",
    "Upstream",
    "UpstreamAnswer",
    "UpstreamFailure",
    "redacted_url",
    "response_length",
    "upstream_url",
]

MAX_CONNECTIONS = 20  # per proxied API: a bounded pool, like a client's own
UPSTREAM_BODY_LIMIT = 16 * 1024 * 1024  # an answer larger than this is a 502, not memory gone

# RFC 9110 7.6.1: hop-by-hop fields belong to one connection, never forwarded. Host and the
# framing (Content-Length) are the new connection's own.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_REQUEST_DROP = HOP_BY_HOP | {"host", "content-length"}
# The server in front adds its own Date (a second one would make the answer invalid).
_RESPONSE_DROP = HOP_BY_HOP | {"content-length", "date"}


@dataclass
class UpstreamAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]  # as received, minus hop-by-hop fields
    body: bytes  # as received (still Content-Encoded)
    ms: float
    checked: dict[str, str] = field(default_factory=dict)  # lower-case name -> first value


class UpstreamFailure(Exception):
    """No usable answer: 502 (refused, reset, TLS, a broken answer) or 504 (too slow)."""

    def __init__(self, status: int, kind: str, cause: str, ms: float) -> None:
        super().__init__(cause)
        self.status, self.kind, self.cause, self.ms = status, kind, cause, ms


def _without(headers: list[tuple[bytes, bytes]], drop: frozenset[str]) -> list[tuple[bytes, bytes]]:
    """`headers` without the `drop` names and without those the Connection header names."""
    named = {
        token.strip().lower()
        for k, v in headers
        if k.lower() == b"connection"
        for token in v.decode("latin-1").split(",")
    }
    return [
        (k, v)
        for k, v in headers
        if (name := k.decode("latin-1").lower()) not in drop and name not in named
    ]


def _cause(exc: BaseException) -> str:
    """The failure in a few words, with the innermost reason (`Connection refused`, a
    certificate), which httpx's own message ("All connection attempts failed") hides."""
    seen, inner = [], exc
    while inner is not None and len(seen) < 8:
        seen.append(inner)
        inner = inner.__cause__ or inner.__context__
    reasons = [getattr(e, "strerror", None) or getattr(e, "reason", None) or str(e) for e in seen]
    detail = "; ".join(dict.fromkeys(r for r in reasons if r)) or type(exc).__name__
    return detail[:200]


class Upstream:
    """One pooled `httpx.AsyncClient` for one API's upstream, made on first use (a mock that
    is never proxied opens nothing) and made anew when its URL or timeout change at run time."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._key: tuple[str, float] | None = None
        self._old: list[httpx.AsyncClient] = []
        # RFC 9110 7.6.3: a proxy adds Via; its own token coming back is a loop (a proxy URL
        # that names this mock), refused at once instead of filling the pool with itself.
        self.via = f"1.1 mockserver-{secrets.token_hex(6)}"

    def loops(self, headers: list[tuple[bytes, bytes]]) -> bool:
        token = self.via.split(" ", 1)[1].encode()
        return any(k.lower() == b"via" and token in v for k, v in headers)

    def _pool(self, root: str, timeout: float) -> httpx.AsyncClient:
        if self._client is None or self._key != (root, timeout):
            if self._client is not None:
                self._old.append(self._client)  # closed at shutdown: requests may be in flight
            limits = httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            )
            # trust_env=False: the upstream is the URL the settings name, not one that an
            # HTTP(S)_PROXY variable of the machine redirects (or leaks credentials) to.
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(timeout), limits=limits, trust_env=False
            )
            self._key = (root, timeout)
        return self._client

    async def forward(self, root: str, timeout: float, scope: dict, raw: bytes) -> UpstreamAnswer:
        """The request as the client sent it (method, path, query, headers minus hop-by-hop,
        body) to `root` + its native path; the whole exchange within `timeout` seconds."""
        client = self._pool(root, timeout)
        query = scope.get("query_string", b"").decode("latin-1")
        url = upstream_url(root, scope.get("raw_path") or scope["path"].encode(), query)
        headers = [*_without(list(scope["headers"]), _REQUEST_DROP), (b"via", self.via.encode())]
        loop = asyncio.get_running_loop()
        started = loop.time()  # real elapsed time of the upstream's answer, not the mock clock
        try:
            async with asyncio.timeout(timeout):
                request = client.build_request(scope["method"], url, headers=headers, content=raw)
                response = await client.send(request, stream=True)
                try:
                    body = await _read_capped(response)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException) as exc:
            ms = (loop.time() - started) * 1000
            cause = f"no answer within {timeout:g} s"
            detail = _cause(exc)
            if detail and detail not in ("TimeoutError", "CancelledError"):
                cause += f": {detail}"
            raise UpstreamFailure(504, "upstream_timeout", cause, ms) from None
        except (httpx.HTTPError, ssl.SSLError, OSError, ValueError) as exc:
            ms = (loop.time() - started) * 1000
            kind, words = _kind(exc)
            raise UpstreamFailure(502, kind, f"{words}: {_cause(exc)}", ms) from None
        ms = (loop.time() - started) * 1000
        kept = _without(list(response.headers.raw), _RESPONSE_DROP)
        length = response.headers.get("content-length")
        checked: dict[str, str] = {}
        for k, v in kept:
            checked.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
        if length is not None:
            checked["content-length"] = length
        return UpstreamAnswer(response.status_code, kept, body, ms, checked)

    async def aclose(self) -> None:
        clients = [c for c in [self._client, *self._old] if c is not None]
        self._client, self._key, self._old = None, None, []
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()


def _kind(exc: BaseException) -> tuple[str, str]:
    """(the violation's rule, the cause in words) for a failed exchange."""
    text = f"{exc} {exc.__cause__ or exc.__context__ or ''}".lower()
    if isinstance(exc, httpx.ConnectError) and ("ssl" in text or "certificate" in text):
        return "upstream_tls", "TLS error"
    if isinstance(exc, httpx.ConnectError) and _refused(exc):
        return "upstream_refused", "connection refused"
    if isinstance(exc, httpx.ConnectError):
        return "upstream_unreachable", "connection failed"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return "upstream_dropped", "connection dropped before a whole answer"
    if isinstance(exc, _TooLarge):
        return "upstream_too_large", "answer refused"
    return "upstream_error", "upstream error"


class _TooLarge(ValueError):
    pass


def _refused(exc: BaseException | None) -> bool:
    for _ in range(8):
        if exc is None:
            return False
        if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == 111:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


async def _read_capped(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > UPSTREAM_BODY_LIMIT:
            raise _TooLarge(f"the answer is over {UPSTREAM_BODY_LIMIT} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def response_length(got: UpstreamAnswer) -> bytes | None:
    """The upstream's own Content-Length, when it is a plain number."""
    value = got.checked.get("content-length", "").strip()
    return value.encode() if value.isascii() and value.isdigit() else None


def upstream_url(root: str, raw_path: bytes, query: str) -> str:
    """The service root + the native path as the client sent it (still percent-encoded)."""
    url = root.rstrip("/") + raw_path.decode("latin-1")
    return f"{url}?{query}" if query else url


def redacted_url(url: str, redactor: Any) -> str:
    """`url` for the journal and the console: no user:password, secret query values masked."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    if "@" in parts.netloc:
        netloc = "***@" + netloc
    return urlunsplit((parts.scheme, netloc, parts.path, redactor.query(parts.query), ""))
