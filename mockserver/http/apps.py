"""The connexion apps: one per native API, one for the control API (`/__mock`).

Connexion is the reference engine (DESIGN.md, "Two engines, one behaviour"): it resolves every
spec, defines what "valid" means and writes every error answer. One `on_error` turns whatever
connexion or a handler raises into the error format of the API it belongs to (DESIGN.md, "Each
API speaks its own errors"), never connexion's problem+json.

Connexion's routing is adjusted in three ways (`_Routing`): a path with a stray trailing slash is
no route (the API's own 404), not Starlette's bare 307 to the path without it; an integer path
parameter too long for `int()` reaches validation (the API's 400) instead of failing the router;
and an operation that declares no request body ignores the body it is sent (`_RoutingAPI`).
Every operationId resolves to a method of the API (or of the control handlers), except those of
the operations the gate answers itself (`gate_methods`), which share one that is never reached.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import starlette.convertors
from connexion import AsyncApp
from connexion.exceptions import ProblemException, ResolverError
from connexion.frameworks.starlette import FloatConverter, IntegerConverter
from connexion.lifecycle import ConnexionResponse
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.routing import RoutingAPI, RoutingMiddleware, RoutingOperation
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolution, Resolver
from connexion.spec import OpenAPISpecification
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Router

from mockserver.core.api import ErrorBody, MockApi
from mockserver.core.errors import MockError, classify
from mockserver.http.body import read_whole_body
from mockserver.http.validation import VALIDATOR_MAP, request_headers
from mockserver.settings import Settings
from mockserver.spec.loader import SPEC_DIR, Operation, allowed_methods, load_spec
from mockserver.store import StoreUnavailable

__all__ = [
    "bundled_specs_trusted",
    "classify_error",
    "error_response",
    "gate_methods",
    "api_app",
    "control_app",
]

log = logging.getLogger("mockserver")

_NO_UI = SwaggerUIOptions(swagger_ui=False, serve_spec=False)


class _IntegerConverter(IntegerConverter):
    """Connexion's converter for integer path parameters, except that a number too long for
    `int()` (over 4300 digits) stays text: the parameter validator then answers the API's 400,
    where connexion's router raised and the API answered 500."""

    def convert(self, value: str) -> int | str:
        try:
            return int(value)
        except ValueError:
            return value


def _register_convertors() -> None:
    # Starlette's convertor registry is global and routes bind a convertor when compiled, so
    # this runs before every add_api (and `_Routing` never registers connexion's own).
    starlette.convertors.register_url_convertor("int", _IntegerConverter())
    starlette.convertors.register_url_convertor("float", FloatConverter())


def _no_slash_redirects(router: Router) -> None:
    """Starlette answers `/api/heartbeat/` with a bare 307 to `/api/heartbeat`, outside the API's
    format and spec; without it the path is no route, answered by the API's own 404."""
    router.redirect_slashes = False
    for route in router.routes:
        if isinstance(route, Mount) and isinstance(route.app, Router):
            _no_slash_redirects(route.app)


class _Routing(RoutingMiddleware):
    """Connexion's routing middleware with `_IntegerConverter` and no slash redirects. Its
    `__init__` is connexion's without the global registration of connexion's own converters."""

    def __init__(self, app) -> None:
        self.app = app
        self.router = Router(default=RoutingOperation(None, self.app))
        _no_slash_redirects(self.router)
        _register_convertors()

    def add_api(self, specification, base_path=None, arguments=None, **kwargs) -> None:
        """Connexion's `add_api`, with `_RoutingAPI` for its RoutingAPI."""
        api = _RoutingAPI(
            specification, base_path=base_path, arguments=arguments, next_app=self.app, **kwargs
        )
        for route in self.router.routes:  # a second API at one base path: tried after the first
            if isinstance(route, Mount) and route.path == api.base_path:
                route.app.default = api.router
        self.router.mount(api.base_path, app=api.router)
        _no_slash_redirects(self.router)


class _RoutingAPI(RoutingAPI):
    """An operation that declares no request body ignores the body it is sent, as the compiled
    path does: connexion reads a form body for every operation (its parameter decorator asks
    for `request.files()`), so a GET sent with a malformed multipart body was answered 400
    "Invalid multipart data.", a status its spec does not list."""

    def make_operation(self, operation) -> RoutingOperation:
        routed = super().make_operation(operation)
        if not operation.request_body:
            routed.next_app = _without_content_type(routed.next_app)
        return routed


def _without_content_type(app):
    async def bodyless(scope, receive, send) -> None:
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
        await app({**scope, "headers": headers}, receive, send)

    return bodyless


def gate_methods(api: MockApi) -> frozenset[str]:
    """The methods the gate answers itself, before either engine: the CORS preflight of an
    API that documents CORS (`cors_headers`)."""
    return frozenset({"OPTIONS"} if api.cors_headers() is not None else ())


async def _answered_by_gate(**_params) -> None:
    """The handler of an operation the gate answers itself (`gate_methods`): connexion needs a
    function for every operation it routes, and no request reaches this one."""
    raise RuntimeError("an operation the gate answers reached its connexion app")


class _Handlers(Resolver):
    """operationId -> the method of that name on `target` (an API, or the control handlers);
    an operation whose method the gate answers gets `_answered_by_gate` instead, so the class
    carries no placeholder for it. Any other operationId without a method (or naming an
    attribute that is not one) fails the build."""

    def __init__(self, target: object, gated: frozenset[str] = frozenset()) -> None:
        super().__init__(function_resolver=self._method)
        self.target = target
        self.gated = gated

    def _method(self, operation_id: str) -> Callable:
        method = getattr(self.target, operation_id)
        if not callable(method):  # connexion would route to it and fail at the first request
            raise ResolverError(f"{operation_id} is not a method of {type(self.target).__name__}")
        return method

    def resolve(self, operation) -> Resolution:
        if operation.method.upper() in self.gated:
            return Resolution(_answered_by_gate, self.resolve_operation_id(operation))
        return super().resolve(operation)


def _middlewares(drop: tuple = ()) -> list:
    return [
        _Routing if m is RoutingMiddleware else m
        for m in ConnexionMiddleware.default_middlewares
        if m not in drop
    ]


# A native API needs no Swagger UI (docs live under /__mock/docs) and no lifespan of its own (the
# dispatcher answers it): two fewer layers on every heartbeat.
_API_MIDDLEWARES = _middlewares(drop=(SwaggerUIMiddleware, LifespanMiddleware))


@contextlib.contextmanager
def bundled_specs_trusted():
    """Connexion re-validates every spec against the OpenAPI meta-schema on each start (~0.4 s
    for the eleven here, four fifths of build_app). The bundled specs are validated by the test
    suite (tests/unit/test_specs.py, openapi-spec-validator), so the mock skips that while it
    builds."""
    own = OpenAPISpecification.__dict__.get("_validate_spec")  # inherited in connexion 3.3
    OpenAPISpecification._validate_spec = classmethod(lambda cls, spec: None)
    try:
        yield
    finally:
        if own is None:
            del OpenAPISpecification._validate_spec
        else:
            OpenAPISpecification._validate_spec = own


def classify_error(exc: BaseException) -> MockError:
    """`classify`, plus the shared store going away mid-request: the API's own 503."""
    if isinstance(exc, StoreUnavailable):
        log.warning("%s", exc)
        return MockError(503, "unavailable", "state store unavailable")
    return classify(exc)


def error_response(err: ErrorBody) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=err.status,
        content_type=err.media_type,
        body=err.encode(),
        headers=err.headers,
    )


def _install_on_error(
    app: AsyncApp, name: str, ops: list[Operation], render: Callable[[MockError], ErrorBody]
) -> None:
    """One error handler for an app: classify, fill `Allow` from the spec, record the request's
    violations for the journal, render in the API's format."""

    async def on_error(request, exc: BaseException) -> ConnexionResponse:
        err = classify_error(exc)
        if err.status >= 500 and not isinstance(exc, (MockError, StoreUnavailable)):
            log.error("%s: unexpected error", name, exc_info=exc)
        if err.kind == "method_not_allowed":
            allow = allowed_methods(ops, request.scope["path"])
            err.headers["Allow"] = allow or err.headers.get("Allow", "")
        # Some formats name the request in their errors (Laravel's 404/405: "The GET method is
        # not supported for route api/v3/...").
        err.data.setdefault("method", request.scope.get("method"))
        err.data.setdefault("path", request.scope.get("path"))
        state = request.scope.get("mockserver")
        if state is not None and err.violation:
            state["violations"].extend(
                [f.as_dict() for f in err.fields]
                or [
                    {
                        "key": "",
                        "rule": err.kind,
                        "message": err.message,
                        "value": "",
                        "location": "request",
                    }
                ]
            )
        return error_response(render(err))

    for key in (Exception, HTTPException, ProblemException, MockError):
        app.add_error_handler(key, on_error)


def api_app(api: MockApi, settings: Settings, ops: list[Operation]) -> AsyncApp:
    """The reference engine for one native API: its spec, handlers, security and errors."""
    _register_convertors()
    app = AsyncApp(
        f"mockserver.{api.name}",
        specification_dir=str(SPEC_DIR),
        validator_map=VALIDATOR_MAP,
        swagger_ui_options=_NO_UI,
        middlewares=list(_API_MIDDLEWARES),
    )
    app.add_api(
        load_spec(api.spec),
        resolver=_Handlers(api, gate_methods(api)),
        security_map=api.security_map(),
        validate_responses=settings.validate_responses,
        pythonic_params=False,
    )
    _no_slash_redirects(app._middleware_app.router)  # the app's own router, behind the middlewares
    _install_on_error(app, api.name, ops, api.render_error)
    return app


def control_app(
    handlers: object,
    apis: dict[str, MockApi],
    settings: Settings,
    ops: list[Operation],
    render: Callable[[MockError], ErrorBody],
) -> AsyncApp:
    """`/__mock`: specs/control.yaml served by `handlers`, and each API's control spec at
    `/__mock/<api>` served by the API object itself."""
    _register_convertors()
    app = AsyncApp(
        "mockserver.control",
        specification_dir=str(SPEC_DIR),
        validator_map=VALIDATOR_MAP,
        swagger_ui_options=_NO_UI,
        middlewares=_middlewares(),
    )
    app.add_api(
        load_spec("control.yaml"),
        base_path="/__mock",
        resolver=_Handlers(handlers),
        validate_responses=settings.validate_responses,
        pythonic_params=False,
    )
    for name, api in apis.items():
        if api.control_spec:
            app.add_api(
                load_spec(f"control/{api.control_spec}"),
                base_path=f"/__mock/{name}",
                resolver=_Handlers(api),
                validate_responses=settings.validate_responses,
                pythonic_params=False,
            )
    _no_slash_redirects(app._middleware_app.router)
    _install_on_error(app, "control", ops, render)
    return _control_bodies(app, settings.max_body_bytes, render)


def _control_bodies(app: AsyncApp, limit: int, render: Callable[[MockError], ErrorBody]):
    """The control API reads its body once, bounded like the native APIs' (413 in the control
    format over `max_body_bytes`), reads a body sent without Content-Type as JSON, as the
    native APIs do (specs/control.yaml, x-mock-assumed), and any case of `application/json` as
    JSON. The body is read whole first, so connexion, which goes by Content-Length, sees a
    chunked one too, and a call whose client left before its body ended changes nothing."""

    async def control(scope, receive, send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        raw, too_large, complete = await read_whole_body(scope, receive, limit)
        if not complete:  # the client left mid-body: nothing of it is acted on, nobody to answer
            return
        if too_large:
            err = render(MockError(413, "payload_too_large", f"request body exceeds {limit} bytes"))
            body = err.encode()
            headers = [
                (b"content-type", err.media_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ]
            await send({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        headers = [(k, v) for k, v in scope["headers"] if k not in _FRAMING]
        headers.append((b"content-length", str(len(raw)).encode()))
        scope = {**scope, "headers": request_headers(headers, json_default=bool(raw))}
        await app(scope, _replay(raw, receive), send)

    return control


_FRAMING = (b"content-length", b"transfer-encoding")


def _replay(raw: bytes, receive):
    """The body read whole, then the client's own channel (its disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return replay
