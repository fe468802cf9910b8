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

from typing import Any
from urllib.parse import urlsplit

from connexion.middleware.request_validation import RequestValidationMiddleware

from mockserver.core.errors import MockError
from mockserver.http.exchange import replay_body
from mockserver.http.proxy_check import ResponseSpec, decoded_body
from mockserver.http.upstream import (
    Upstream,
    UpstreamFailure,
    redacted_url,
    response_length,
    upstream_url,
)

__all__ = ["GateProxy", "proxy_overrides", "proxy_summary", "stop_before_handlers"]


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
        self.compiled: Any = None  # the gate's CompiledApi (engine "compiled"), set by the gate
        self._spec: ResponseSpec | None = None
        stop_before_handlers(app)

    def active(self) -> bool:
        """Whether this API is proxied now (a setting that can change at run time)."""
        return bool(self.api.config.proxy)

    async def answer(self, x: Any, inner: dict, send) -> tuple[int, bytes]:
        """Answer `x` (the gate's Exchange; `inner`, the scope the engine would get): strict
        mode's refusal, else the upstream's answer as it came, or the API's 502/504."""
        config = self.api.config
        state, entry = x.state, x.entry
        preflight = self.cors_raw and x.scope["method"] == "OPTIONS"
        if not preflight:  # a CORS preflight is the upstream's to answer, not an operation
            refused = await self._verdict(inner, x.raw, x.parsed)
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
            if self.upstream.loops(x.scope["headers"]):
                cause = "proxy loop: the upstream sent this mock's own request back"
                raise UpstreamFailure(502, "upstream_loop", cause, 0.0)
            got = await self.upstream.forward(
                config.proxy, config.proxy_timeout_seconds, x.scope, x.raw
            )
        except UpstreamFailure as failure:
            return await self._failed(x, url, failure, send)
        entry["proxied"] = {"url": url, "status": got.status, "ms": round(got.ms, 1)}
        state["violations"].extend(
            self.spec().violations(
                state["operation"], x.scope["method"], got.status, got.checked, got.body
            )
        )
        length = str(len(got.body)).encode()
        if x.scope["method"] == "HEAD":  # no body, but the length a GET would have
            length = response_length(got) or length
        headers = [*got.headers, (b"content-length", length)]
        await send({"type": "http.response.start", "status": got.status, "headers": headers})
        await send({"type": "http.response.body", "body": got.body})
        shown = decoded_body(got.body, got.checked.get("content-encoding", ""))
        return got.status, got.body if shown is None else shown

    async def _failed(self, x: Any, url: str, failure: UpstreamFailure, send) -> tuple[int, bytes]:
        """No answer to pass on: the API's own 502/504, journaled with the cause."""
        cause = _without_userinfo(failure.cause, self.api.config.proxy)
        x.entry["proxied"] = {
            "url": url,
            "status": None,
            "ms": round(failure.ms, 1),
            "error": cause,
        }
        violation = {"key": "upstream", "rule": failure.kind, "message": cause, "value": ""}
        x.state["violations"].append({**violation, "location": "response"})
        kind = "gateway_timeout" if failure.status == 504 else "bad_gateway"
        return await self.respond(send, self.api.render_error(_error(failure.status, kind, cause)))

    def spec(self) -> ResponseSpec:
        if self._spec is None:  # resolved on first use: an API never proxied costs nothing
            self._spec = ResponseSpec(self.api.spec)
        return self._spec

    async def _verdict(self, inner: dict, raw: bytes, parsed: Any) -> list[dict] | None:
        """Run the reference engine's request checks without the handler: None when the
        request is valid, else the messages of the answer the mock would have sent (its
        violations are in the state, as for a mocked request)."""
        if await self._proven(inner, raw, parsed):
            return None
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

    async def _proven(self, inner: dict, raw: bytes, parsed: Any) -> bool:
        """The compiled path's checks (route, parameters, body, credentials) prove the request
        valid, as they do before its handler (mockserver.http.compiled); anything they are not
        sure of goes to connexion, so the verdict is the same on both engines, only faster.
        `parsed`: the gate's parse of the body (the checks read it, nothing changes it)."""
        op = self.compiled and self.compiled.operations.get(inner["mockserver"]["operation"])
        if not op or inner.get("query_string") or inner["method"] != op.method:
            return False
        if inner.get("root_path") or op._arguments(inner, raw, parsed) is None:
            return False
        return op.security is None or await op.security(inner) is not None

    async def aclose(self) -> None:
        await self.upstream.aclose()


def _error(status: int, kind: str, cause: str) -> MockError:
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
