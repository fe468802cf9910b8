"""The compiled path's pieces (mockserver/http/compiled*.py), the gate's operation lookup and the
`engine` setting. That the two engines answer alike is tests/e2e/test_engines_differential.py;
that every API behaves as documented on both is the API suite (tests/api/, run on both engines).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import re
import subprocess
import sys
import types

import httpx
import pytest
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from mockserver.app import build_app
from mockserver.client import MockClient
from mockserver.http.compiled import CompiledApi, _uses_request_context
from mockserver.http.compiled_checks import (
    NotCompiled,
    _credentials,
    compile_route,
    proven_valid,
    schema_validator,
)
from mockserver.http.gate import ApiGate, RequestHeaders, _route_table
from mockserver.http.validation import parse_json_strict
from mockserver.server import BackgroundServer
from mockserver.settings import Settings, SettingsError, load_settings
from mockserver.spec.loader import operations
from tests.conftest import test_settings

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
SEED = {
    "token": TOKEN,
    "data": {"status": "online", "players": 15, "maxPlayers": 100, "tps": 19.8, "version": "5"},
}


def gates(app) -> list[ApiGate]:
    seen: dict[int, ApiGate] = {}
    for _, target in app.routes:
        if isinstance(target, ApiGate):
            seen.setdefault(id(target), target)
    return list(seen.values())


def connexion_accepts(schema: dict, instance, *, request: bool = True) -> bool:
    cls = Draft4RequestValidator if request else Draft4ResponseValidator
    return cls(schema, format_checker=Draft4Validator.FORMAT_CHECKER).is_valid(instance)


# --- schemas -------------------------------------------------------------------------------------
def test_patterns_are_python_regexes_as_jsonschema_reads_them():
    schema = {"type": "string", "pattern": r"\S"}
    validator = schema_validator(schema, request=True)
    for text in ["a", " ", "\x1c", "\x85", "\u2003", "\ufeff"]:
        assert proven_valid(validator, text) == connexion_accepts(schema, text), repr(text)


def test_formats_are_checked_by_jsonschema_s_own_checkers():
    schema = {"type": "string", "format": "date-time"}
    validator = schema_validator(schema, request=True)
    for text in ["2026-01-01T00:00:00Z", "2026-12-31T23:59:60Z", "2026-01-01", "x"]:
        assert proven_valid(validator, text) == connexion_accepts(schema, text), text


def test_nullable_lets_null_through_its_own_type_and_enum_only():
    schema = {"type": "object", "properties": {"a": {"type": "string", "nullable": True}}}
    schema["properties"]["b"] = {"enum": ["x"], "nullable": True}
    schema["properties"]["c"] = {"type": "object", "nullable": True, "required": ["d"]}
    validator = schema_validator(schema, request=True)
    for body in [{"a": None}, {"b": None}, {"c": None}, {"c": {}}, {"a": 1}, {"b": "y"}]:
        assert proven_valid(validator, body) == connexion_accepts(schema, body), body


@pytest.mark.parametrize(
    ("schema", "request_side"),
    [
        ({"type": "integer", "multipleOf": 2}, True),
        ({"type": "array", "items": [{"type": "string"}]}, True),
        ({"type": "object", "patternProperties": {"a": {}}}, True),
        ({"type": "object", "properties": {"p": {"type": "string", "writeOnly": True}}}, False),
        (True, True),
    ],
)
def test_a_keyword_not_proven_equivalent_is_not_compiled(schema, request_side):
    with pytest.raises(NotCompiled):
        schema_validator({"properties": {"x": schema}}, request=request_side)


def test_what_rust_cannot_take_is_not_proven():
    validator = schema_validator({"type": "string"}, request=True)
    assert not proven_valid(validator, "\ud800")
    assert not proven_valid(schema_validator({"type": "number"}, request=True), float("inf"))


def _schemas() -> list[tuple[str, dict, bool]]:
    """Every request and response schema the compiled operations validate with."""
    out = []
    for gate in gates(build_app(Settings(validate_responses=True))):
        for op_id, compiled in gate.compiled.operations.items():
            op = compiled.op
            if compiled.body_validator is not None:
                out.append((op_id, op.body_schema("application/json"), True))
            for status in op.responses:
                schema = op.response_schema(status, "application/json")
                if schema and str(status).isdigit():
                    out.append((f"{op_id} {status}", schema, False))
    return out


SCHEMAS = _schemas()
ODD = [None, True, 0, -1, 1.0, 2.5, 2**31, 10**30, "", " ", "\x1c", "x\n", [], {}, "srv_pub_0"]
VALUES = st.recursive(
    st.one_of(st.sampled_from(ODD), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=5,
)


def _example_of(schema: dict):
    """A document shaped by `schema`: its properties filled from examples and odd values."""
    if schema.get("type") == "object" or "properties" in schema:
        return {k: _example_of(v) for k, v in schema.get("properties", {}).items()}
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    return (schema.get("enum") or ["x"])[0]


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(SCHEMAS), st.data())
def test_the_compiled_validators_agree_with_connexion_s(case, data):
    """Where jsonschema-rs says valid, connexion's validator says valid too, and the other way
    round unless the value cannot cross into Rust (then the request is simply not proven)."""
    _, schema, request_side = case
    instance = _example_of(schema)
    if isinstance(instance, dict) and instance and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(instance)))
        if data.draw(st.booleans()):
            instance.pop(key)
        else:
            instance[key] = data.draw(VALUES)
    expected = connexion_accepts(schema, instance, request=request_side)
    assert proven_valid(schema_validator(schema, request=request_side), instance) == expected


# --- routes and credentials ----------------------------------------------------------------------
def test_an_integer_path_parameter_matches_and_converts_as_connexion_s_router():
    regex, converts = compile_route("/s/{id}/beat", {"id": "integer"})
    for text, value in [("5", 5), ("+5", 5), ("007", 7), ("-1", -1)]:
        m = regex.fullmatch(f"/s/{text}/beat")
        assert m is not None and converts["id"](m.group("id")) == value
    for text in ["abc", "1.5", " 1", "1\n", ""]:
        assert regex.fullmatch(f"/s/{text}/beat") is None, text


@pytest.mark.parametrize(
    ("template", "types_"),
    [("/s/{a-b}", {}), ("/s/{n}", {"n": "number"}), ("/s/{n}", {"n": "array"})],
)
def test_an_unusual_path_parameter_is_not_compiled(template, types_):
    with pytest.raises(NotCompiled):
        compile_route(template, types_)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"authorization", b"Bearer k")], ("k",)),
        ([(b"authorization", b"BEARER k ")], ("k ",)),
        ([(b"authorization", b"Bearer")], None),
        ([(b"authorization", b"Basic eDp5")], None),
        ([(b"authorization", b"Bearer k"), (b"authorization", b"Bearer j")], None),
        ([], None),
    ],
)
def test_bearer_credentials_are_read_as_connexion_reads_them(headers, expected):
    assert _credentials("bearer", headers, b"") == expected


def test_basic_credentials_are_decoded_as_connexion_decodes_them():
    def header(value: bytes) -> list:
        return [(b"authorization", b"Basic " + value)]

    assert _credentials("basic", header(base64.b64encode(b"u:a:b")), b"") == ("u", "a:b")
    assert _credentials("basic", header(b"dX*Nl*cjpwdw=="), b"") == ("user", "pw")
    assert _credentials("basic", header(base64.b64encode(b"nocolon")), b"") is None
    assert _credentials("basic", header(b"!!!!"), b"") is None


def test_an_api_key_must_come_once(headers=((b"x-key", b"k"),)):
    assert _credentials("apiKey", list(headers), b"x-key") == ("k",)
    assert _credentials("apiKey", list(headers) * 2, b"x-key") is None
    assert _credentials("apiKey", [], b"x-key") is None


# --- what is compiled ----------------------------------------------------------------------------
def test_a_handler_whose_module_reads_connexion_s_request_context_is_detected():
    reader = types.ModuleType("reader")
    exec("from connexion import request as current\nasync def handler(body): current", vars(reader))
    whole = types.ModuleType("whole")
    exec("import connexion\nasync def handler(body): connexion.request", vars(whole))
    plain = types.ModuleType("plain")
    exec("import json\nasync def handler(body): json", vars(plain))
    assert _uses_request_context(reader.handler) == "current"
    assert _uses_request_context(whole.handler) == "connexion"
    assert _uses_request_context(plain.handler) is None


def test_every_native_operation_is_compiled_unless_a_reason_is_given():
    for gate in gates(build_app(Settings())):
        every = {op.operation_id for op in gate.operations}
        assert set(gate.compiled.operations) | set(gate.compiled.skipped) == every
        assert set(gate.compiled.operations).isdisjoint(gate.compiled.skipped)
        for op in gate.operations:
            why = gate.compiled.skipped.get(op.operation_id)
            if gate.cors is not None and op.method == "OPTIONS":  # never reaches an engine
                assert why == "the gate answers OPTIONS itself"
            else:
                assert why is None or "request context" in why, (op.operation_id, why)


def test_nothing_is_compiled_in_an_app_with_a_layer_the_compiler_does_not_know():
    gate = gates(build_app(Settings(apis=["statusbadge"])))[0]
    gate.app.middleware.middleware_stack.append(object())
    compiled = CompiledApi(
        gate.app, name="x", gate_operations=gate.operations, validate_responses=False
    )
    assert not compiled.operations and "unknown middleware" in compiled.skipped["*"]


def test_a_path_number_too_long_for_int_is_left_to_connexion():
    gate = gates(build_app(Settings(apis=["sonoran"])))[0]
    path = "/v2/general/servers/" + "9" * 4301 + "/heartbeat"
    scope = {"mockserver": {"operation": "sonoran_heartbeat"}, "method": "POST", "path": path}
    scope["headers"] = [(b"authorization", b"Bearer k"), (b"content-type", b"application/json")]

    async def send(message):
        raise AssertionError("the compiled path answered")

    assert asyncio.run(gate.compiled.answer(scope, b'{"playerCount": 1}', send, [])) is None


def test_a_request_under_a_root_path_is_left_to_connexion():
    gate = gates(build_app(Settings(apis=["statusbadge"])))[0]
    scope = {"root_path": "/mock", "mockserver": {"operation": "statusbadge_status"}}
    scope.update(method="GET", path="/api/status/srv_pub_a3a9e1ed9732", headers=[])
    sent = []

    async def send(message):
        sent.append(message)

    assert asyncio.run(gate.compiled.answer(scope, b"", send, [])) is None and not sent


def test_a_subclass_of_a_known_layer_counts_as_that_layer():
    gate = gates(build_app(Settings(apis=["statusbadge"])))[0]
    routing = gate.app.middleware.middleware_stack[2]
    routing.__class__ = type("OwnRouting", (type(routing),), {})
    compiled = CompiledApi(
        gate.app, name="x", gate_operations=gate.operations, validate_responses=False
    )
    assert "statusbadge_heartbeat" in compiled.operations and "*" not in compiled.skipped


def test_the_reference_engine_alone_compiles_nothing():
    assert all(gate.compiled is None for gate in gates(build_app(Settings(engine="connexion"))))


def test_a_valid_heartbeat_over_http_is_answered_by_the_compiled_path_and_an_invalid_one_is_not():
    with BackgroundServer(test_settings(engine="compiled", apis=["statusbadge"])) as server:
        gate = gates(server.app)[0]
        heartbeat = gate.compiled.operations["statusbadge_heartbeat"]
        assert httpx.post(f"{server.url}/api/heartbeat", json=SEED).status_code == 200
        assert heartbeat.answered == 1
        bad = {**SEED, "token": "sk_live_x"}
        assert httpx.post(f"{server.url}/api/heartbeat", json=bad).status_code == 400
        assert heartbeat.answered == 1


def test_a_compiled_heartbeat_parses_its_body_once_and_its_handler_cannot_change_its_identity(
    monkeypatch,
):
    """The gate's parse serves faults, the journal, the identity and the handler; a handler that
    changed its body afterwards would change nothing the journal keeps."""
    import mockserver.http.compiled_checks as checks
    import mockserver.http.gate as gate_module

    parses = []

    def counted(raw):
        parses.append(raw)
        return parse_json_strict(raw)

    monkeypatch.setattr(gate_module, "parse_json_strict", counted)
    monkeypatch.setattr(checks, "parse_json_strict", counted)
    with BackgroundServer(test_settings(engine="compiled", apis=["statusbadge"])) as server:
        heartbeat = gates(server.app)[0].compiled.operations["statusbadge_heartbeat"]
        handler = heartbeat.fn

        async def meddling(body, **kwargs):
            answer = await handler(body=body, **kwargs)
            body["token"] = "sk_live_changed-by-the-handler"
            return answer

        monkeypatch.setattr(heartbeat, "fn", meddling)
        assert httpx.post(f"{server.url}/api/heartbeat", json=SEED).status_code == 200
        assert heartbeat.answered == 1 and len(parses) == 1
        with MockClient(server.url) as client:
            (entry,) = client.requests()
        assert entry["identity"] == gates(server.app)[0].api.identity(
            "statusbadge_heartbeat", {"body": SEED, "headers": {}, "path_params": {}}
        )
        assert entry["request"]["body"]["token"] == TOKEN[:6] + "***"


# --- the gate's lookup ---------------------------------------------------------------------------
def _scan(ops, method: str, path: str):
    """What the gate's lookup was: every operation's regex, in spec order."""
    for op in ops:
        if op.method == method and op.match(path) is not None:
            return op.operation_id, op.match(path)
    return None, {}


PATHS = st.sampled_from(
    [
        "/api/heartbeat",
        "/api/status/x",
        "/api/badge/",
        "/api/systems/heartbeat",
        "/v1/game/session/heartbeat",
    ]
    + ["/v2/general/servers/1/heartbeat", "/api/v3/analytics/lightning-devices/a/heartbeat", "/"]
)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.sampled_from(["GET", "POST", "PATCH", "OPTIONS", "HEAD"]),
    st.one_of(
        PATHS, PATHS.map(lambda p: p + "\n"), PATHS.map(lambda p: p + "/x"), st.text(max_size=12)
    ),
)
def test_the_gate_names_the_operation_a_scan_of_every_operation_would(method, path):
    for gate in GATES:
        assert gate.operation(method, path) == _scan(gate.operations, method, path)


GATES = gates(build_app(Settings()))


def test_a_path_an_earlier_template_also_matches_keeps_the_spec_order():
    spec = {
        "paths": {
            "/a/{x}": {"get": {"operationId": "templated"}},
            "/a/b": {"get": {"operationId": "static"}},
            "/c": {"get": {"operationId": "other"}, "post": {"operationId": "posted"}},
        }
    }
    ops = operations(spec, "")
    gate = ApiGate.__new__(ApiGate)  # only the lookup: no API behind it
    gate._static, gate._templated = _route_table(ops)
    for method, path in [("GET", "/a/b"), ("GET", "/c"), ("POST", "/c"), ("POST", "/a/b")]:
        assert gate.operation(method, path) == _scan(ops, method, path)
    assert gate.operation("GET", "/a/b") == ("templated", {"x": "b"})


def test_identity_headers_read_like_the_dict_they_replace_and_decode_only_when_read():
    raw = [(b"Authorization", b"Bearer k"), (b"x-a", b"1"), (b"X-A", b"\xe9")]
    headers = RequestHeaders(raw)
    assert headers._decoded is None
    assert dict(headers) == {"authorization": "Bearer k", "x-a": "\xe9"}
    assert headers.get("authorization", "") == "Bearer k" and "nope" not in headers


# --- the setting ---------------------------------------------------------------------------------
def test_the_engine_is_compiled_unless_set_in_the_file_the_environment_or_a_flag(tmp_path):
    assert load_settings(env={}).engine == "compiled"
    assert load_settings(env={"MOCKSERVER_ENGINE": "connexion"}).engine == "connexion"
    cfg = tmp_path / "m.toml"
    cfg.write_text('[server]\nengine = "connexion"\n')
    assert load_settings(cfg, env={}).engine == "connexion"
    assert load_settings(cfg, env={}, engine="compiled").engine == "compiled"


@pytest.mark.parametrize("value", ["Compiled", "fast", ""])
def test_an_unknown_engine_is_refused_with_the_choices(value):
    with pytest.raises(SettingsError, match=re.escape("compiled, connexion")):
        load_settings(env={"MOCKSERVER_ENGINE": value})
    with pytest.raises(SettingsError, match="engine"):
        Settings(engine=value)


def test_health_says_which_engine_answers(asgi_client, engine):  # conftest: every engine
    assert asgi_client(engine=engine).get("/__mock/health").json()["engine"] == engine


def test_serve_takes_the_engine_flag_and_refuses_an_unknown_one(repo_root):
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--api", "statusbadge"]
    refused = subprocess.run(
        [*command, "--engine", "turbo"], capture_output=True, text=True, timeout=60, cwd=repo_root
    )
    assert refused.returncode == 2 and "--engine" in refused.stderr
    with subprocess.Popen(
        [*command, "--engine", "connexion"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=repo_root,
    ) as served:
        try:
            url = None
            for _ in range(100):  # the API and control lines, then "ready <url> ..."
                line = served.stdout.readline()
                if not line or line.startswith("ready"):
                    url = line.split()[1] if line else None
                    break
            assert url, "serve printed no ready line"
            assert httpx.get(f"{url}/__mock/health", timeout=10).json()["engine"] == "connexion"
        finally:
            served.terminate()
            served.wait(timeout=30)
