"""The connexion apps: one per native API, one for the control API (`/__mock`).

Connexion is the reference engine (DESIGN.md, "Two engines, one behaviour"): it resolves every
spec, defines what "valid" means and writes every error answer. One `on_error` turns whatever
connexion or a handler raises into the error format of the API it belongs to (DESIGN.md, "Each
API speaks its own errors"), never connexion's problem+json.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionResponse
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from connexion.spec import OpenAPISpecification
from starlette.exceptions import HTTPException

from mockserver.core.api import ErrorBody, MockApi
from mockserver.core.errors import MockError, classify
from mockserver.http.validation import VALIDATOR_MAP
from mockserver.settings import Settings
from mockserver.spec.loader import SPEC_DIR, Operation, allowed_methods, load_spec
from mockserver.store import StoreUnavailable

__all__ = ["bundled_specs_trusted", "classify_error", "error_response", "api_app", "control_app"]

log = logging.getLogger("mockserver")

_NO_UI = SwaggerUIOptions(swagger_ui=False, serve_spec=False)

# A native API needs no Swagger UI (docs live under /__mock/docs) and no lifespan of its own (the
# dispatcher answers it): two fewer layers on every heartbeat.
_API_MIDDLEWARES = [
    m
    for m in ConnexionMiddleware.default_middlewares
    if m not in (SwaggerUIMiddleware, LifespanMiddleware)
]


@contextlib.contextmanager
def bundled_specs_trusted():
    """Connexion re-validates every spec against the OpenAPI meta-schema on each start (~0.3 s
    for the eleven here, half of build_app). The bundled specs are validated by the test suite
    (tests/unit/test_specs.py, openapi-spec-validator), so the mock skips that while it builds."""
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
    app = AsyncApp(
        f"mockserver.{api.name}",
        specification_dir=str(SPEC_DIR),
        validator_map=VALIDATOR_MAP,
        swagger_ui_options=_NO_UI,
        middlewares=list(_API_MIDDLEWARES),
    )
    app.add_api(
        load_spec(api.spec),
        resolver=Resolver(function_resolver=lambda op_id: getattr(api, op_id)),
        security_map=api.security_map(),
        validate_responses=settings.validate_responses,
        pythonic_params=False,
    )
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
    app = AsyncApp(
        "mockserver.control",
        specification_dir=str(SPEC_DIR),
        validator_map=VALIDATOR_MAP,
        swagger_ui_options=_NO_UI,
    )
    app.add_api(
        load_spec("control.yaml"),
        base_path="/__mock",
        resolver=Resolver(function_resolver=lambda op_id: getattr(handlers, op_id)),
        validate_responses=settings.validate_responses,
        pythonic_params=False,
    )
    for name, api in apis.items():
        if api.control_spec:
            app.add_api(
                load_spec(f"control/{api.control_spec}"),
                base_path=f"/__mock/{name}",
                resolver=Resolver(function_resolver=lambda op_id, api=api: getattr(api, op_id)),
                validate_responses=settings.validate_responses,
                pythonic_params=False,
            )
    _install_on_error(app, "control", ops, render)
    return app
