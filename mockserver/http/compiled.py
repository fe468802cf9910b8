"""The compiled request path: a faster way to answer a request connexion would accept.

Connexion stays the reference engine (DESIGN.md, "Two engines, one behaviour"): it resolves the
specs, defines what "valid" means, and answers every request this path does not prove valid, so
every error body keeps coming from one place. At start-up each native operation is compiled from
connexion's own resolved operation (connexion 3.3, after `_build_middleware_stack()`):

    RequestValidationMiddleware .apis[base][0].operations[id]._operation  the OpenAPIOperation:
        parameters, consumes/produces, body schema, security, responses
    SecurityMiddleware          .apis[base][0].security_handler_factory   the API's own functions
    ResponseValidationMiddleware.apis[base][0].operations[id]             its response checks
    AsyncASGIApp                .apis[base][0].operations[id]             ._fn (handler), .jsonifier
    ConnexionMiddleware.error_handlers                                    the app's one on_error

A compiled operation checks the path, header parameters, body and credentials with pure checks
(mockserver.http.compiled_checks); any check that is not sure returns None and the gate hands the
request to connexion unchanged. Only then does it call the same handler with the arguments
connexion would pass, and answer with the bytes connexion would send: the handler's exceptions
go through the same on_error, response validation (when on) through connexion's own checks.
An operation using anything the compiler does not support is left to connexion (logged at debug).
"""

from __future__ import annotations

import inspect
import logging
import sys
from typing import Any

from connexion.apps.asynchronous import AsyncASGIApp
from connexion.context import _operation
from connexion.decorators.parameter import CONTEXT_NAME, pythonic, sanitized, unwrap_decorators
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware, connexion_wrapper
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import (
    ResponseValidationMiddleware,
    ResponseValidationOperation,
)
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.utils import inspect_function_arguments, is_nullable, make_type

from mockserver.http.compiled_checks import (
    UNPARSED,
    NotCompiled,
    compile_route,
    compile_security,
    first_header,
    json_body,
    proven_valid,
    schema_validator,
)
from mockserver.http.compiled_response import ResponseCheck
from mockserver.http.validation import (
    StructuredJSONBodyValidator,
    StructuredParameterValidator,
)
from mockserver.spec.loader import Operation

__all__ = ["CompiledApi", "CompiledOperation", "NotCompiled"]

log = logging.getLogger("mockserver.compiled")


# The layers of a native API app (mockserver.http.apps): a layer the compiler does not know would
# be skipped by the compiled path, so an app with any other layer is not compiled at all.
_KNOWN_LAYERS = (
    ServerErrorMiddleware,
    ExceptionMiddleware,
    RoutingMiddleware,
    SecurityMiddleware,
    RequestValidationMiddleware,
    ResponseValidationMiddleware,
    ContextMiddleware,
    AsyncASGIApp,
)
# What connexion's request context holds; a handler that reads it cannot be called without it.
_CONTEXT_NAMES = ("request", "context", "operation", "scope", "receive")


def _uses_request_context(fn: Any) -> str | None:
    """The name through which a handler's module reaches connexion's request context, if any
    (`from connexion import request`, `import connexion`): such a handler is left to connexion."""
    import connexion
    import connexion.context as context_module

    proxies = {id(getattr(context_module, name)) for name in _CONTEXT_NAMES}
    modules = [fn.__globals__]
    package = fn.__module__ + "."
    modules += [vars(m) for name, m in list(sys.modules.items()) if name.startswith(package) and m]
    for namespace in modules:
        for name, value in namespace.items():
            if id(value) in proxies or value is connexion or value is context_module:
                return name
    return None


class CompiledOperation:
    """One native operation, compiled (see the module docstring)."""

    def __init__(self, *, template: str, op: Any, async_op: Any, security: Any, response) -> None:
        self.op = op
        self.operation_id = op.operation_id
        self.method = op.method.upper()
        if self.method == "TRACE":
            raise NotCompiled("TRACE")
        self.response = response
        fn = async_op._fn
        if not _is_async(fn):
            raise NotCompiled("sync handler (connexion runs it in a worker thread)")
        context_name = _uses_request_context(unwrap_decorators(fn))
        if context_name is not None:
            raise NotCompiled(f"its module reads connexion's request context ({context_name})")
        self.fn = fn
        arguments, has_kwargs = inspect_function_arguments(unwrap_decorators(fn))
        if CONTEXT_NAME in arguments:
            raise NotCompiled("context_ argument")
        sanitize = pythonic if async_op.pythonic_params else sanitized
        self.template = template
        self.regex, self.converts = compile_route(template, op.get_path_parameter_types())
        self.path_checks = self._path_checks(sanitize, arguments, has_kwargs)
        self.header_checks = self._header_checks()
        self.security = security
        self.pass_user = has_kwargs or "user" in arguments
        self.pass_token_info = has_kwargs or "token_info" in arguments
        self.body_validator, self.body_name = self._body(sanitize, arguments, has_kwargs)
        self.answered = 0  # requests this operation answered (tests hold the two engines alike)

    # --- compile time ----------------------------------------------------------------------
    def _path_checks(self, sanitize, arguments, has_kwargs) -> list[tuple]:
        checks = []
        kinds = {"query": 0, "cookie": 0}
        for p in self.op.parameters:
            if p["in"] in kinds:
                raise NotCompiled(f"{p['in']} parameter {p['name']!r}")
            if p["in"] != "path":
                continue
            schema = p.get("schema", p)
            if is_nullable(schema) or is_nullable(p) or schema.get("type") not in self._kinds():
                raise NotCompiled(f"path parameter {p['name']!r}")
            arg = sanitize(p["name"])
            if arg not in arguments and not has_kwargs:
                raise NotCompiled("the handler does not take a path parameter (connexion: 500)")
            validator = schema_validator(schema, request=True)
            checks.append((p["name"], arg, schema["type"], schema.get("format"), validator))
        if {c[0] for c in checks} != set(self.converts):
            raise NotCompiled("path parameters and the template disagree")
        return checks

    @staticmethod
    def _kinds() -> tuple[str, ...]:
        return ("integer", "string")

    def _header_checks(self) -> list[tuple]:
        checks = []
        for p in self.op.parameters:
            if p["in"] != "header":
                continue
            schema = p.get("schema", p)
            if is_nullable(schema) or is_nullable(p) or schema.get("type") != "string":
                raise NotCompiled(f"header parameter {p['name']!r}")
            name = p["name"].lower().encode("latin-1")
            checks.append((name, bool(p.get("required")), schema_validator(schema, request=True)))
        return checks

    def _body(self, sanitize, arguments, has_kwargs) -> tuple[Any, str | None]:
        op = self.op
        if not op.request_body:
            return None, None
        if op.consumes != ["application/json"]:
            raise NotCompiled(f"request media types {op.consumes}")
        schema = op.body_schema("application/json")
        definition = op.body_definition("application/json")
        if not schema or not op.request_body.get("required", False):
            raise NotCompiled("an optional body, or one without a schema")
        if is_nullable(definition) or is_nullable(schema) or "default" in schema:
            raise NotCompiled("a nullable or defaulted body")
        name = sanitize(op.body_name("application/json"))
        passed = bool(arguments or has_kwargs) and (name in arguments or has_kwargs)
        return schema_validator(schema, request=True), (name if passed else None)

    # --- request time: everything before the handler is pure; None = not proven ------------
    def _arguments(self, scope: dict, raw: bytes, parsed: Any = UNPARSED) -> dict | None:
        kwargs: dict[str, Any] = {}
        if self.regex is None:
            if scope["path"] != self.template:
                return None
        else:
            m = self.regex.fullmatch(scope["path"])
            if m is None:
                return None
            for name, arg, type_, format_, validator in self.path_checks:
                try:
                    value = self.converts[name](m.group(name))
                except ValueError:  # e.g. more digits than int() takes: connexion decides
                    return None
                if not proven_valid(validator, value):
                    return None
                kwargs[arg] = make_type(value, type_, format_)
        headers = scope["headers"]
        for name, required, validator in self.header_checks:
            value, count = first_header(headers, name)
            if value is None:
                if required:
                    return None
            elif count != 1 or not proven_valid(validator, value):
                return None
        if self.body_validator is not None:
            body = json_body(headers, raw, parsed)
            if body is None or not proven_valid(self.body_validator, body):
                return None
            if self.body_name:
                kwargs[self.body_name] = body
        return kwargs

    async def answer(
        self, scope: dict, raw: bytes, send, cors: list, parsed: Any = UNPARSED
    ) -> tuple[int, bytes] | None:
        """Answer a request this operation proves valid, or None (nothing happened: connexion
        must answer it). `scope` is what connexion would get, headers as the gate left them;
        `parsed` is the body as the gate parsed it (`gate._parsed`), which the handler gets."""
        if scope.get("query_string") or scope["method"] != self.method:
            return None  # query strings: connexion's parameter handling (and its log line)
        kwargs = self._arguments(scope, raw, parsed)
        if kwargs is None:
            return None
        if self.security is not None:
            info = await self.security(scope)
            if info is None:
                return None
            if self.pass_user:
                kwargs["user"] = info.get("sub", info.get("uid"))
            if self.pass_token_info:
                kwargs["token_info"] = info
        # The point of no return: from here on this request is answered here.
        try:
            status, headers, body = await self._handle(scope, kwargs)
        except Exception as exc:  # every exception, as connexion's ExceptionMiddleware
            status, headers, body = await self.response.render_exception(scope, exc)
        await send({"type": "http.response.start", "status": status, "headers": headers + cors})
        await send({"type": "http.response.body", "body": body})
        self.answered += 1
        return status, body

    async def _handle(self, scope: dict, kwargs: dict) -> tuple[int, list, bytes]:
        result = await self.fn(**kwargs)
        answer = self.response.fast(result)
        if answer is None:
            _operation.set(self.op)  # connexion's response decorator reads operation.produces
            answer = await self.response.framework(scope, result)
        self.response.validate(scope, *answer)
        return answer


def _is_async(fn: Any) -> bool:
    return inspect.iscoroutinefunction(unwrap_decorators(fn)) or inspect.iscoroutinefunction(fn)


class CompiledApi:
    """The compiled operations of one API's connexion app, by operationId, for the gate."""

    def __init__(
        self,
        app: Any,
        *,
        name: str,
        gate_operations: list[Operation],
        validate_responses: bool,
        gate_methods: frozenset[str] = frozenset(),
    ) -> None:
        """`gate_methods`: methods the gate answers itself (CORS preflights), never compiled."""
        self.operations: dict[str, CompiledOperation] = {}
        self.skipped: dict[str, str] = {}
        try:
            layers = _layers(app)
        except NotCompiled as exc:
            self.skipped["*"] = str(exc)
            log.debug("%s: nothing compiled: %s", name, exc)
            return
        templates = _unambiguous_templates(gate_operations)
        for op_id, make in _operation_makers(layers, templates, validate_responses):
            method = next((o.method for o in gate_operations if o.operation_id == op_id), None)
            if method in gate_methods:
                self.skipped[op_id] = f"the gate answers {method} itself"
                continue
            try:
                self.operations[op_id] = make()
            except NotCompiled as exc:
                self.skipped[op_id] = str(exc)
                log.debug("%s: %s not compiled: %s", name, op_id, exc)

    async def answer(
        self, scope: dict, raw: bytes, send, cors: list, parsed: Any = UNPARSED
    ) -> tuple[int, bytes] | None:
        """`scope["mockserver"]["operation"]` names the operation (the gate's one lookup)."""
        compiled = self.operations.get(scope["mockserver"]["operation"])
        if compiled is None or scope.get("root_path"):
            return None
        return await compiled.answer(scope, raw, send, cors, parsed)


def _layers(app: Any) -> dict[type, Any]:
    middleware = app.middleware
    if middleware.middleware_stack is None:  # built lazily by connexion's first request
        middleware.app, middleware.middleware_stack = middleware._build_middleware_stack()
    layers: dict[type, Any] = {}
    for layer in middleware.middleware_stack:
        # A subclass of a known layer (the mock's own routing, say) counts as that layer: the
        # compiled path only answers what it proves the whole stack would accept, and the
        # differential test holds the two engines to the same answers.
        kind = next((k for k in _KNOWN_LAYERS if isinstance(layer, k)), None)
        if kind is None or kind in layers:
            raise NotCompiled(f"unknown middleware {type(layer).__name__}")
        layers[kind] = layer
    layers[ConnexionMiddleware] = middleware
    if len({id(fn) for _, fn in middleware.error_handlers}) != 1:
        raise NotCompiled("several error handlers")
    apis = layers[RequestValidationMiddleware].apis
    if len(apis) != 1 or len(next(iter(apis.values()))) != 1:
        raise NotCompiled("several APIs in one app")
    return layers


def _unambiguous_templates(ops: list[Operation]) -> dict[str, str]:
    """operationId -> template, for the operations no other operation of the same method could
    also match (so the gate's lookup and connexion's router cannot pick different ones)."""

    def overlap(a: str, b: str) -> bool:
        sa, sb = a.split("/"), b.split("/")
        return len(sa) == len(sb) and all(
            x == y or x.startswith("{") or y.startswith("{") for x, y in zip(sa, sb, strict=True)
        )

    return {
        op.operation_id: op.template
        for op in ops
        if not any(
            o is not op and o.method == op.method and overlap(o.template, op.template) for o in ops
        )
    }


def _operation_makers(layers: dict, templates: dict[str, str], validate_responses: bool):
    """(operationId, a function compiling it) for every operation of the app."""
    ((base, (request_api,)),) = layers[RequestValidationMiddleware].apis.items()
    security_api = layers[SecurityMiddleware].apis[base][0]
    handler_api = layers[AsyncASGIApp].apis[base][0]
    response_api = layers[ResponseValidationMiddleware].apis[base][0]
    on_error = connexion_wrapper(layers[ConnexionMiddleware].error_handlers[0][1])
    for op_id, validation in request_api.operations.items():

        def make(op_id=op_id, validation=validation) -> CompiledOperation:
            op = validation._operation
            template = templates.get(op_id)
            if template is None or template != base + op.path:
                raise NotCompiled("its path may also match another operation")
            if validation.strict_validation:
                raise NotCompiled("strict validation")
            validators = validation._validator_map
            if validators["parameter"] is not StructuredParameterValidator or (
                validators["body"].get("*/*json") is not StructuredJSONBodyValidator
            ):
                raise NotCompiled("validators other than the mock's")
            async_op = handler_api.operations[op_id]
            checker = response_api.operations.get(op_id)
            if validate_responses and not isinstance(checker, ResponseValidationOperation):
                raise NotCompiled("no response validation")
            response = ResponseCheck(
                op,
                async_op.jsonifier,
                on_error,
                checker if validate_responses else None,
            )
            security = compile_security(op, security_api.security_handler_factory)
            return CompiledOperation(
                template=template, op=op, async_op=async_op, security=security, response=response
            )

        yield op_id, make
