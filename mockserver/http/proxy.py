"""Proxy mode (issue 19): one API's native requests forwarded to a real service, both directions
checked against the hand-written spec.

The gate (mockserver.http.gate) does everything a mocked request gets first (the body limit,
faults, the journal entry), then asks connexion, the reference engine, whether the request is
valid without calling the handler (`stop_before_handlers`): so the verdict is the mock's own,
the Fakes are never touched, and `proxy_mode = "strict"` answers an invalid request exactly as
the mock would. Then `Upstream.forward` sends it to the service root + the native path, and the
answer goes back unchanged; `ResponseSpec` (mockserver.http.proxy_check) says where it drifts.

Core: nothing here names an API; the URL, mode and timeout are the generic settings every API's
Config has (mockserver.core.config.ProxySettings).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from connexion.middleware.request_validation import RequestValidationMiddleware

from mockserver.http.exchange import replay_body
from mockserver.http.proxy_check import ResponseSpec, _decoded

__all__ = [
    "GateProxy",
    "MAX_CONNECTIONS",
    "UPSTREAM_BODY_LIMIT",
    "Upstream",
    "UpstreamAnswer",
    "UpstreamFailure",
    "proxy_overrides",
    "proxy_summary",
    "redacted_url",
    "stop_before_handlers",
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
        headers = _without(list(scope["headers"]), _REQUEST_DROP)
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
        checked: dict[str, str] = {}
        for k, v in kept:
            checked.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
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


def stop_before_handlers(app: Any) -> None:
    """Make connexion's request validation (the reference engine's verdict: routing, security,
    parameters, body) stop before the handler when the gate asks (`state["validate_only"]`):
    then `state["request_valid"]` is set and nothing is answered, so no handler (and no Fake)
    runs. Every other request passes on untouched."""
    middleware = app.middleware
    if middleware.middleware_stack is None:  # built lazily by connexion's first request
        middleware.app, middleware.middleware_stack = middleware._build_middleware_stack()
    for layer in middleware.middleware_stack:
        if isinstance(layer, RequestValidationMiddleware):
            for apis in layer.apis.values():
                for api in apis:
                    for op in api.operations.values():
                        op.next_app = _stopping(op.next_app)


def _stopping(next_app):
    async def stop(scope, receive, send):
        state = scope.get("mockserver")
        if state is not None and state.get("validate_only"):
            state["request_valid"] = True
            return
        await next_app(scope, receive, send)

    return stop


# --- the command line and the console ------------------------------------------------------------


def proxy_overrides(values: list[str] | None) -> dict[str, dict[str, str]] | None:
    """`--proxy API=URL` (repeatable) as api_settings; SettingsError for one without `=`."""
    from mockserver.settings import SettingsError

    if not values:
        return None
    out: dict[str, dict[str, str]] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise SettingsError(f"--proxy expects API=URL, got {value!r}")
        out.setdefault(name.strip(), {})["proxy"] = url.strip()
    return out


def proxy_summary(apis: dict[str, Any], redactor: Any) -> list[str]:
    """One line per proxied API for `serve`: where its requests go and in which mode."""
    return [
        f"{name}: proxied to {redacted_url(api.config.proxy, redactor)} "
        f"({api.config.proxy_mode}; timeout {api.config.proxy_timeout_seconds:g} s)"
        for name, api in apis.items()
        if api.config.proxy
    ]


# --- the gate's proxy step ---------------------------------------------------------------------


class GateProxy:
    """What the gate does for a proxied API once the body limit and faults have had their say
    (mockserver.http.gate): the mock's verdict on the request, then the upstream's answer sent
    back unchanged and checked against the spec, or the API's own 502/504."""

    def __init__(self, api: Any, app: Any, respond: Any, redactor: Any, cors_raw: list) -> None:
        self.api, self.app, self.respond = api, app, respond
        self.redactor, self.cors_raw = redactor, cors_raw
        self.upstream = Upstream()
        self._spec: ResponseSpec | None = None
        stop_before_handlers(app)

    def active(self) -> bool:
        """Whether this API is proxied now (a setting that can change at run time)."""
        return bool(self.api.config.proxy)

    async def answer(self, x: Any, inner: dict, send) -> tuple[int, bytes]:
        config = self.api.config
        state, entry = x.state, x.entry
        preflight = self.cors_raw and x.scope["method"] == "OPTIONS"
        if not preflight:  # a CORS preflight is the upstream's to answer, not an operation
            refused = await self._verdict(inner, x.raw)
            if refused is not None and config.proxy_mode == "strict":
                return await _replay_answer(refused, send)
        url = redacted_url(
            upstream_url(
                config.proxy,
                x.scope.get("raw_path") or x.scope["path"].encode(),
                x.scope.get("query_string", b"").decode("latin-1"),
            ),
            self.redactor,
        )
        try:
            got = await self.upstream.forward(
                config.proxy, config.proxy_timeout_seconds, x.scope, x.raw
            )
        except UpstreamFailure as failure:
            cause = _without_userinfo(failure.cause, config.proxy)
            entry["proxied"] = {"url": url, "status": None, "ms": round(failure.ms, 1)}
            entry["proxied"]["error"] = cause
            violation = {"key": "upstream", "rule": failure.kind, "message": cause, "value": ""}
            state["violations"].append({**violation, "location": "response"})
            kind = "gateway_timeout" if failure.status == 504 else "bad_gateway"
            return await self.respond(
                send, self.api.render_error(_error(failure.status, kind, cause))
            )
        entry["proxied"] = {"url": url, "status": got.status, "ms": round(got.ms, 1)}
        state["violations"].extend(
            self.spec().violations(
                state["operation"], x.scope["method"], got.status, got.checked, got.body
            )
        )
        headers = [*got.headers, (b"content-length", str(len(got.body)).encode())]
        await send({"type": "http.response.start", "status": got.status, "headers": headers})
        await send({"type": "http.response.body", "body": got.body})
        shown = _decoded(got.body, got.checked.get("content-encoding", ""))
        return got.status, got.body if shown is None else shown

    def spec(self) -> ResponseSpec:
        if self._spec is None:  # resolved on first use: an API never proxied costs nothing
            self._spec = ResponseSpec(self.api.spec)
        return self._spec

    async def _verdict(self, inner: dict, raw: bytes) -> list[dict] | None:
        """Run the reference engine's request checks without the handler: None when the
        request is valid, else the messages of the answer the mock would have sent (its
        violations are in the state, as for a mocked request)."""
        state = inner["mockserver"]
        state["validate_only"] = True
        messages: list[dict] = []
        cors = self.cors_raw

        async def keep(message):
            if message["type"] == "http.response.start" and cors:
                message = {**message, "headers": list(message.get("headers", [])) + cors}
            messages.append(message)

        try:
            await self.app(inner, replay_body(raw), keep)
        finally:
            state.pop("validate_only", None)
        return None if state.pop("request_valid", False) else messages

    async def aclose(self) -> None:
        await self.upstream.aclose()


def _error(status: int, kind: str, cause: str):
    from mockserver.core.errors import MockError

    what = "the upstream did not answer in time" if status == 504 else "the upstream failed"
    return MockError(status, kind, f"{what}: {cause}")


def _without_userinfo(text: str, root: str) -> str:
    userinfo = urlsplit(root).netloc.rpartition("@")[0]
    return text.replace(userinfo, "***") if userinfo else text


async def _replay_answer(messages: list[dict], send) -> tuple[int, bytes]:
    status, body = 0, []
    for message in messages:
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))
        await send(message)
    return status, b"".join(body)
