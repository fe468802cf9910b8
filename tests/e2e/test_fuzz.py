"""Fuzz every API's heartbeat and every control route with a body over real HTTP (issues 11 and
23): whatever arrives, the answer is never a 5xx, a redirect or connexion's problem+json, and a
rejected request leaves the stored state as it was.

What arrives: arbitrary JSON values, JSON-shaped mutations of a valid body, raw bytes; raw JSON
literals no Python value serialises to (numbers of 5000 digits, 1e400, lone surrogate escapes,
64-bit edges, out-of-range times); media types in any case, with parameters, malformed, missing
or not UTF-8; odd header bytes on the credential and other headers; huge or signed integers in
integer path parameters; a trailing slash. Each raw literal is also swept through every field
of a valid body once. Credentials come from each spec's security schemes so requests reach
validation. Bounded: the sweep plus a fixed number of derandomized examples per target, on each
store.
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
from mockserver.spec.loader import heartbeat_route, load_spec, spec_files
from tests.conftest import store_snapshot

EXAMPLES = 40
CONTROL_EXAMPLES = 25


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


def path_params(op: dict) -> dict[str, dict]:
    return {p["name"]: p for p in op.get("parameters", []) if "$ref" not in p and p["in"] == "path"}


def fill_path(path: str, op: dict, values: dict | None = None) -> str:
    params, values = path_params(op), values or {}

    def value(m: re.Match) -> str:
        name = m.group(1)
        return str(values.get(name, params.get(name, {}).get("example", 1)))

    return re.sub(r"\{([^}]+)\}", value, path)


def path_values(op: dict):
    """Integer path parameters get any integer text (signed, 64-bit edges, 5000 digits), the
    others their example."""
    integers = st.one_of(
        st.integers(-(2**70), 2**70).map(str),
        st.sampled_from(["+5", "007", "-0", str(2**63), str(2**31)]),
        st.integers(4290, 5000).map(lambda n: "9" * n),
    )
    strategies = {}
    for name, param in path_params(op).items():
        if param.get("schema", {}).get("type") == "integer":
            strategies[name] = st.one_of(st.just(param.get("example", 1)), integers)
    return st.fixed_dictionaries(strategies)


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

# JSON text no Python value serialises to, spliced into a body as one field's value.
RAW_LITERALS = [
    b"9" * 5000,
    b"-" + b"9" * 4301,
    b"1e400",
    b"-1e400",
    b"1" + b"0" * 400 + b".5",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"18446744073709551616",
    b"1e308",
    b"-0.0",
    b"NaN",
    b"-Infinity",
    b'"\\ud800"',
    b'"tail \\udfff"',
    b'"\\uDBFF\\u0041"',
    b'"\\ud83d\\ude00"',
    b'"9999-12-31T23:59:58Z"',
    b'"9001-01-01T00:00:00Z"',
    b'"0001-01-01T00:00:00Z"',
    b'"1969-12-31T23:59:59Z"',
    b'"2026-02-30T00:00:00Z"',
    b'"0001-01-01T00:00:00+05:00"',
    b"[" * 70 + b"]" * 70,
]

MEDIA_TYPES = [
    None,
    "application/json",
    "application/json",
    "Application/JSON",
    "APPLICATION/JSON; charset=UTF-8",
    "application/json;charset=latin-1",
    "application/json; charset=bogus",
    "application/vnd.api+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "*/*",
    "",
    "json",
    "a/b/c",
    b"application/\xff\xfejson",
    b"\xc3\x28",
]

# bytes h11 sends in a header value: no NUL and no whitespace (a single token)
_HEADER_BYTES = [b for b in range(0x21, 0x100) if b != 0x7F]
odd_header_values = st.lists(st.sampled_from(_HEADER_BYTES), min_size=1, max_size=12).map(bytes)


def splice(body, key: str, literal: bytes) -> bytes:
    """`body` (a JSON object) as text, with `key`'s value replaced by the raw `literal`."""
    base = dict(body) if isinstance(body, dict) else {}
    base[key] = "\x00splice\x00"
    return json.dumps(base).encode().replace(b'"\\u0000splice\\u0000"', literal)


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


def bodies(example):
    keys = sorted(example) if isinstance(example, dict) and example else ["x"]
    spliced = st.builds(
        splice, st.just(example), st.sampled_from([*keys, "extra"]), st.sampled_from(RAW_LITERALS)
    )
    return st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        mutations(example).map(lambda v: json.dumps(v).encode()),
        spliced,
        spliced,  # twice as likely: the literals are what a Python client never sends
        st.binary(max_size=64),
    )


def literal_sweep(example) -> list[bytes]:
    """Every raw literal as the value of every field of `example` and of an extra one: the
    cases a random draw may miss, each sent once before the random ones."""
    keys = sorted(example) if isinstance(example, dict) and example else []
    return [splice(example, key, lit) for key in [*keys, "extra"] for lit in RAW_LITERALS]


def strict_json(r: httpx.Response):
    """The answer parsed as standard JSON: NaN and Infinity are not (RFC 8259), nor is text
    that a lone surrogate made unencodable."""
    assert r.status_code == 200, (r.request.url, r.status_code, r.text[:300])

    def refuse(name):
        raise AssertionError(f"{r.request.url}: {name} in the answer")

    return json.loads(r.content.decode("utf-8"), parse_constant=refuse)


def assert_everything_shows(client: httpx.Client) -> None:
    """Whatever the fuzz got stored and journaled can still be shown, as standard JSON: the
    journal, the report (JSON and text), health, the clock, and every API's inspection routes
    that need no id."""
    for route in ("/__mock/requests", "/__mock/report", "/__mock/clock"):
        strict_json(client.get(route))
    assert client.get("/__mock/report", params={"format": "text"}).status_code == 200
    for api in strict_json(client.get("/__mock/health"))["apis"]:
        control_spec = api_class(api).control_spec
        for path, item in load_spec(f"control/{control_spec}")["paths"].items():
            if "get" in item and "{" not in path:
                strict_json(client.get(f"/__mock/{api}{path}"))


def headers_with(base: dict, media_type, odd: tuple | None) -> dict:
    h = dict(base)
    if media_type is not None:
        h["Content-Type"] = media_type
    if odd is not None:
        name, value = odd
        h[name] = value
    return h


def assert_answer_is_sound(r: httpx.Response, sent) -> None:
    assert r.status_code < 500, (r.status_code, sent, r.text[:300])
    assert not 300 <= r.status_code < 400, (r.status_code, sent, dict(r.headers))
    assert "problem+json" not in r.headers.get("content-type", ""), r.text[:300]


def bounded(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.mark.parametrize("name", list(REGISTRY))
def test_fuzzed_heartbeats_never_5xx_and_rejections_change_nothing(name, make_server):
    # Sonoran's rate limit off, or the fuzzer would mostly see 429s.
    server = make_server(
        apis=[name],
        api_settings={"sonoran": {"rate_limit_per_minute": 0}} if name == "sonoran" else {},
    )
    spec, path, method, op = heartbeat_target(name)
    headers = auth_headers(spec, op)
    client = httpx.Client(base_url=server.url, timeout=10)
    client.post("/__mock/clock/freeze")
    odd_headers = st.tuples(
        st.sampled_from([*headers, "Accept", "Origin", "Cookie", "X-Odd"]), odd_header_values
    )

    @bounded(EXAMPLES)
    @given(
        body=bodies(documented_example(op)),
        ctype=st.sampled_from(MEDIA_TYPES),
        odd=st.none() | odd_headers,
        params=path_values(op),
        slash=st.sampled_from([False, False, False, True]),
    )
    def probe(body, ctype, odd, params, slash):
        check(body, ctype, odd, params, slash)

    def check(body, ctype="application/json", odd=None, params=None, slash=False):
        before = store_snapshot(server, name)
        url = fill_path(path, op, params) + ("/" if slash else "")
        h = headers_with(headers, ctype, odd)
        r = client.request(method, url, content=body, headers=h)
        sent = (url[-80:], body[:120], h)
        assert_answer_is_sound(r, sent)
        if r.status_code >= 400 and r.status_code != 429:
            assert store_snapshot(server, name) == before, (r.status_code, sent, r.text[:300])

    try:
        for body in literal_sweep(documented_example(op)):
            check(body)
        probe()
        assert_everything_shows(client)
    finally:
        client.close()


# --- the control API -----------------------------------------------------------------------------

# A valid body per control operation that takes one; the fuzz mutates it.
CONTROL_BODIES = {
    "control_clock_advance": {"seconds": 5},
    "control_clock_set": {"now": "2031-02-03T04:05:06Z", "frozen": True},
    "control_faults_add": {"api": "sonoran", "status": 503, "times": 1},
    "collect_arm_external_error": {"system_id": "s-1", "times": 1, "message": "down"},
    "lucit_queue_instruction": {"instruction": "reload", "parameters": [1], "run_at": None},
    "playwave_create_session": {"provider_user_id": "7", "pc_id": "pc-1", "balance_sec": 60},
    "control_requests_count": {"api": "sonoran", "status": 200, "body": {"playerCount": 1}},
    "control_verify": {"api": "sonoran", "path_pattern": "/v2/.*", "count": 0},
    "control_settings_change": {"rate_limit_per_minute": 5},
    "control_state_restore": {
        "format": 1,
        "clock": {"now": "2031-02-03T04:05:06Z", "frozen": True},
        "apis": {"sonoran": {"windows": {"k": {"hits": [1.0], "expires_at": 61.0}}}},
    },
    "control_scenarios_start": {
        "name": "fz",
        "vars": {"code": "503"},
        "steps": [{"at_seconds": 60, "method": "POST", "path": "/__mock/faults", "body": {}}],
    },
}
PATH_VALUES = {"lcuid": "dev-1", "api": "sonoran"}


def control_operations() -> list[tuple[str, str, str]]:
    """(operationId, method, full path) of every control operation with a request body."""
    found = []
    for name in spec_files():
        if not (name == "control.yaml" or name.startswith("control/")):
            continue
        spec = load_spec(name)
        mount = "/__mock" + ("" if name == "control.yaml" else "/" + name[8:-5])
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if isinstance(op, dict) and "requestBody" in op:
                    full = re.sub(r"\{([^}]+)\}", lambda m: PATH_VALUES[m.group(1)], mount + path)
                    found.append((op["operationId"], method.upper(), full))
    return found


def test_every_control_body_operation_is_fuzzed():
    assert sorted(op for op, _, _ in control_operations()) == sorted(CONTROL_BODIES)


def full_snapshot(server) -> dict:
    """Every record the store holds (the clock, faults, every API's state), between requests."""
    store = server.app.ctx.store
    if store.kind == "memory":
        return {ns: dict(v) for ns, v in store._data.items()}
    import redis

    client = redis.Redis.from_url(store.where, decode_responses=True)
    try:
        return {name: client.hgetall(name) for name in client.scan_iter(match=f"{store.prefix}h:*")}
    finally:
        client.close()


@pytest.mark.parametrize(("operation", "method", "path"), control_operations())
def test_fuzzed_control_bodies_never_5xx_and_rejections_change_nothing(
    operation, method, path, live_server, http
):
    server, client = live_server, http
    client.post("/__mock/clock/freeze")
    odd_headers = st.tuples(
        st.sampled_from(["Accept", "X-Mock-Token", "Origin"]), odd_header_values
    )

    @bounded(CONTROL_EXAMPLES)
    @given(
        body=bodies(CONTROL_BODIES[operation]),
        ctype=st.sampled_from(MEDIA_TYPES),
        odd=st.none() | odd_headers,
    )
    def probe(body, ctype, odd):
        check(body, ctype, odd)

    def check(body, ctype="application/json", odd=None):
        before = full_snapshot(server)
        h = headers_with({}, ctype, odd)
        r = client.request(method, path, content=body, headers=h)
        sent = (body[:120], h)
        assert_answer_is_sound(r, sent)
        if r.status_code >= 400:
            if operation == "control_verify" and r.status_code == 422:  # a verdict: not held
                assert r.json()["ok"] is False and r.json()["message"], r.text[:300]
            else:
                assert r.json()["error"]["status"] == r.status_code, r.text[:300]
            assert full_snapshot(server) == before, (r.status_code, sent, r.text[:300])

    for body in literal_sweep(CONTROL_BODIES[operation]):
        check(body)
    probe()
    strict_json(client.get("/__mock/faults"))
    assert_everything_shows(client)
