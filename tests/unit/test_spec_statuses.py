"""Every status the mock can send for an operation is in that operation's spec, with its body.

An outside validator (a validating proxy in front of the mock) flags any answer whose status the
spec does not list. The statuses below come from the mock's generic machinery, whatever the
handler does: the body limit (413) and a store outage (503) and an unexpected error (500) on every
operation, a failed or slow upstream in proxy mode (502, 504) on every native operation,
validation (400) where there is anything to validate, the media type (415) where there
is a body, auth (401) where there is security, the rate limit (429) where the API has one, and the
control token (401) on every control route. Each is rendered by the API's own `render_error`, so
an API that answers e.g. a 415 as its 400 must list 400. Handler-specific statuses (404, 409, 410,
422 ...) are checked by the contract suites (schemathesis' status_code_conformance).
"""

from __future__ import annotations

import pytest

from mockserver.app import build_app
from mockserver.control import render_control_error
from mockserver.core.errors import MockError
from mockserver.settings import Settings
from mockserver.spec.loader import HTTP_METHODS, parsed_spec

APP = build_app(Settings())


def _generic(
    op: dict, spec: dict, *, rate_limited: bool, control: bool, preflight: bool
) -> dict[str, int]:
    """kind -> requested status, for the generic errors this operation can meet."""
    # Proxy mode (issue 19): any native operation, a preflight too, can meet a failed upstream.
    upstream = {} if control else {"bad_gateway": 502, "gateway_timeout": 504}
    if preflight:  # the gate answers a CORS preflight itself: after the body limit and the clock
        return {"payload_too_large": 413, "unavailable": 503, **upstream}
    kinds = {"payload_too_large": 413, "internal": 500, "unavailable": 503, **upstream}
    if op.get("parameters") or op.get("requestBody"):
        kinds["validation"] = 400
    if op.get("requestBody"):
        kinds["unsupported_media_type"] = 415
    if op.get("security", spec.get("security")):
        kinds["auth"] = 401
    if rate_limited:
        kinds["rate_limited"] = 429
    if control:
        kinds["auth"] = 401  # X-Mock-Token, when the control API has a token
    return kinds


def _cases():
    for name, api in APP.ctx.apis.items():
        cadence = api.cadence()
        limited = bool(cadence and cadence.rate_limit)
        cors = api.cors_headers() is not None
        yield name, api.spec, api.render_error, limited, False, cors
        if api.control_spec:
            yield name, f"control/{api.control_spec}", render_control_error, False, True, False
    yield "control", "control.yaml", render_control_error, False, True, False


def _operations(spec_file: str):
    spec = parsed_spec(spec_file)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS and isinstance(op, dict):
                yield spec, path, method, op


CASES = [
    pytest.param(spec_file, render, limited, control, cors, id=spec_file)
    for _, spec_file, render, limited, control, cors in _cases()
]


def _emitted(spec_file, render, limited, control, cors):
    """(spec, method, path, operation, status, kind) for each generic status an operation can
    get, as its API renders it."""
    heartbeat = {a.heartbeat_operation for a in APP.ctx.apis.values()}
    for spec, path, method, op in _operations(spec_file):
        rate = limited and op.get("operationId") in heartbeat
        preflight = cors and method == "options"
        kinds = _generic(op, spec, rate_limited=rate, control=control, preflight=preflight)
        for kind, status in kinds.items():
            yield spec, method, path, op, render(MockError(status, kind, "x")).status, kind


def missing_statuses(spec_file, render, limited, control, cors) -> list[tuple[str, str, int, str]]:
    """(method, path, status, kind) the mock can send for an operation but its spec omits."""
    return [
        (method, path, sent, kind)
        for _, method, path, op, sent, kind in _emitted(spec_file, render, limited, control, cors)
        if str(sent) not in op.get("responses", {})
    ]


@pytest.mark.parametrize(("spec_file", "render", "limited", "control", "cors"), CASES)
def test_every_generic_status_is_in_the_spec(spec_file, render, limited, control, cors):
    missing = []
    for spec, method, path, op, sent, kind in _emitted(spec_file, render, limited, control, cors):
        response = op.get("responses", {}).get(str(sent))
        if response is None:
            missing.append(f"{method.upper()} {path}: {sent} ({kind})")
            continue
        if "$ref" in response:
            response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
        if sent not in (204, 304) and method != "head" and not response.get("content"):
            missing.append(f"{method.upper()} {path}: {sent} ({kind}) has no body schema")
    assert not missing, f"{spec_file} omits statuses the mock sends:\n  " + "\n  ".join(missing)
