"""Fuzz every API's heartbeat over real HTTP (issue 11): whatever arrives, the answer is never a
5xx, never connexion's problem+json, and a rejected request leaves the API's state as it was.

Credentials are derived from each spec's security schemes so requests reach validation; bodies
are arbitrary JSON values, JSON-shaped mutations of the documented example, and raw bytes.
Bounded: a fixed number of derandomized examples per API.
"""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.apis import REGISTRY, api_class
from mockserver.spec.loader import heartbeat_route, load_spec
from tests.conftest import store_snapshot


def heartbeat_target(name: str):
    cls = api_class(name)
    spec = load_spec(cls.spec)
    method, template = heartbeat_route(cls.spec, cls.heartbeat_operation)
    for item in spec["paths"].values():
        op = item.get(method.lower())
        if isinstance(op, dict) and op.get("operationId") == cls.heartbeat_operation:
            return spec, template, method, op
    raise AssertionError(f"{name}: heartbeat operation not in its spec")


def auth_headers(spec: dict, op: dict) -> dict:
    headers = {}
    for requirement in op.get("security", spec.get("security", [])):
        for scheme_name in requirement:
            scheme = spec["components"]["securitySchemes"][scheme_name]
            if scheme.get("scheme") == "bearer":
                headers["Authorization"] = "Bearer fuzz-token-1234"
            elif scheme.get("scheme") == "basic":
                headers["Authorization"] = "Basic " + base64.b64encode(b"fuzz:fuzz").decode()
            elif scheme["type"] == "apiKey" and scheme["in"] == "header":
                headers[scheme["name"]] = "fuzz-key-1234"
    for param in op.get("parameters", []):
        if "$ref" in param:
            continue
        if param["in"] == "header" and param.get("required") and "example" in param:
            headers[param["name"]] = str(param["example"])
    return headers


def fill_path(path: str, op: dict) -> str:
    examples = {
        p["name"]: p.get("example", 1)
        for p in op.get("parameters", [])
        if "$ref" not in p and p["in"] == "path"
    }
    return re.sub(r"\{([^}]+)\}", lambda m: str(examples.get(m.group(1), 1)), path)


def documented_example(op: dict):
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    return content.get("example", {})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def mutations(example):
    if not isinstance(example, dict) or not example:
        return json_values
    keys = sorted(example)
    return st.one_of(
        st.builds(lambda k, v: {**example, k: v}, st.sampled_from(keys), json_values),
        st.builds(lambda k: {x: y for x, y in example.items() if x != k}, st.sampled_from(keys)),
        st.builds(
            lambda extra: {**example, **extra},
            st.dictionaries(st.text(max_size=8), json_values, max_size=3),
        ),
    )


def snapshot(server, name: str) -> dict:
    return store_snapshot(server, name)  # the records on either store, read between requests


@pytest.mark.parametrize("name", list(REGISTRY))
def test_fuzzed_heartbeats_never_5xx_and_rejections_change_nothing(name, make_server):
    # Sonoran's rate limit off, or the fuzzer would mostly see 429s.
    server = make_server(
        apis=[name],
        api_settings={"sonoran": {"rate_limit_per_minute": 0}} if name == "sonoran" else {},
    )
    spec, path, method, op = heartbeat_target(name)
    url = server.url + fill_path(path, op)
    headers = auth_headers(spec, op)
    example = documented_example(op)
    httpx.post(server.url + "/__mock/clock/freeze")
    bodies = st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        mutations(example).map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=64),
    )
    content_types = st.sampled_from(["application/json", "application/json", "text/plain", None])

    @settings(
        max_examples=40,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=bodies, ctype=content_types)
    def probe(body, ctype):
        before = snapshot(server, name)
        h = dict(headers)
        if ctype:
            h["Content-Type"] = ctype
        r = httpx.request(method, url, content=body, headers=h, timeout=10)
        assert r.status_code < 500, (r.status_code, body, r.text)
        assert "problem+json" not in r.headers.get("content-type", ""), r.text
        if r.status_code >= 400 and r.status_code != 429:
            assert snapshot(server, name) == before, (r.status_code, body, r.text)

    probe()
