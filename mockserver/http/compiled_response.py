"""How a compiled operation turns what its handler returned, or raised, into the bytes connexion
would send: connexion's response decorator and Starlette's Response for the answer, connexion's
response validation when it is on, and the app's own on_error (through connexion's
ExceptionMiddleware wrapper) for every exception. See mockserver/http/compiled.py.
"""

from __future__ import annotations

import json
from typing import Any

from connexion.decorators.response import AsyncResponseDecorator
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.jsonifier import JSONEncoder
from connexion.lifecycle import ConnexionResponse
from connexion.utils import is_json_mimetype, is_nullable
from starlette.requests import Request as StarletteRequest

from mockserver.http.compiled_checks import NotCompiled, proven_valid, schema_validator

__all__ = ["ResponseCheck"]

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


async def _no_receive() -> dict:
    return {"type": "http.disconnect"}


class ResponseCheck:
    """One operation's answer side (see the module docstring)."""

    def __init__(self, op: Any, jsonifier: Any, on_error: Any, checker: Any | None) -> None:
        self.op = op
        self.on_error = on_error  # connexion_wrapper(on_error): Starlette request -> Response
        self.checker = checker  # connexion's ResponseValidationOperation, or None when off
        self.jsonifier = jsonifier
        # connexion's default Jsonifier is json.dumps(cls=JSONEncoder) + "\n"; JSONEncoder only
        # adds a `default` for dates, Decimal and UUID, so plain json.dumps gives the same bytes
        # for everything it can encode (and raises TypeError for the rest).
        self.plain_json = jsonifier.json is json and jsonifier.dumps_args == {"cls": JSONEncoder}
        self.decorator = AsyncResponseDecorator(framework=StarletteFramework, jsonifier=jsonifier)
        produces = list(set(op.produces))
        json_only = len(produces) == 1 and is_json_mimetype(produces[0])
        self.content_type = produces[0].encode("latin-1") if json_only else None
        self.fast_validators = self._fast_validators(produces[0]) if checker and json_only else {}
        self._plans: dict[tuple, tuple | None] = {}

    def _fast_validators(self, mime: str) -> dict[int, Any]:
        out = {}
        for status in self.op.responses:
            if str(status).isdigit():
                schema = self.op.response_schema(str(status), mime)
                try:
                    out[int(status)] = schema_validator(schema, request=False) if schema else None
                except NotCompiled:
                    pass  # connexion's own validator checks this status
        return out

    # --- the answer ------------------------------------------------------------------------
    def fast(self, result: Any) -> Answer | None:
        """`(dict | list, status)` with one JSON media type: the decorator's and Starlette's
        work, done directly (`Content-Type`, `Content-Length`, the jsonifier's text); else None."""
        if type(result) is not tuple or len(result) != 2 or self.content_type is None:
            return None
        data, status = result
        if type(status) is not int or type(data) not in (dict, list):
            return None
        if status < 200 or status in (204, 304):
            return None
        text = None
        if self.plain_json:
            try:
                text = json.dumps(data) + "\n"
            except TypeError:
                pass
        if text is None:
            text = self.jsonifier.dumps(data)
        body = text.encode("utf-8")
        length = str(len(body)).encode("latin-1")
        return status, [(b"content-type", self.content_type), (b"content-length", length)], body

    async def framework(self, scope: dict, result: Any) -> Answer:
        """Anything else, exactly as connexion's AsyncResponseDecorator and the Starlette
        response it builds (needs connexion's `operation` context variable set)."""
        if StarletteFramework.is_framework_response(result):
            response = result
        elif isinstance(result, ConnexionResponse):
            response = StarletteFramework.connexion_to_framework_response(result)
        else:
            response = self.decorator.build_framework_response(result)
        messages: list[dict] = []

        async def gather(message: dict) -> None:
            messages.append(message)

        await response(scope, _no_receive, gather)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        return start["status"], list(start.get("headers", [])), body

    async def render_exception(self, scope: dict, exc: Exception) -> Answer:
        response = await self.on_error(StarletteRequest(scope), exc)
        return response.status_code, list(response.raw_headers), response.body

    # --- response validation -----------------------------------------------------------------
    def validate(self, scope: dict, status: int, headers: list, body: bytes) -> None:
        """connexion's ResponseValidationOperation: raises its own errors (NonConforming...).
        The media type and required-header checks depend only on the status, the Content-Type
        and the header names, so they run once per such combination; a body jsonschema-rs
        proves valid skips connexion's slower validator, which otherwise runs to raise its
        exact error."""
        if self.checker is None:
            return
        content_type = next((v for k, v in headers if k == b"content-type"), None)
        key = (status, content_type, tuple(k for k, _ in headers))
        if key in self._plans:
            plan = self._plans[key]
        else:
            plan = self._plans[key] = self._plan(status, headers)  # raises: not cached
        if plan is None:
            return
        validator_cls, schema, nullable, encoding, fast = plan
        validator = validator_cls(scope, schema=schema, nullable=nullable, encoding=encoding)
        parsed = validator._parse(iter([body]))
        if parsed is None and nullable:
            return
        if fast is not None and proven_valid(fast, parsed):
            return
        validator._validate(parsed)

    def _plan(self, status: int, headers: list) -> tuple | None:
        checker = self.checker
        mime, encoding = checker.extract_content_type(headers)
        if status < 400:
            checker.validate_mime_type(mime)
        definition = self.op.response_definition(str(status), mime)
        checker.validate_required_headers(headers, definition)
        try:
            validator_cls = checker._validator_map["response"][mime]
        except KeyError:
            return None  # connexion skips validation for this media type
        fast = None
        if self.content_type is not None and mime.encode("latin-1") == self.content_type:
            fast = self.fast_validators.get(status)
        schema = self.op.response_schema(str(status), mime)
        return validator_cls, schema, is_nullable(definition), encoding, fast
