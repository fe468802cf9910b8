"""Every registered API has the files DESIGN.md says a new API touches: its seed document (in
../shared/seeds beside the clone, as CI has it), its spec and control spec, its contract suite, its
API tests, and a pure rules module with unit tests; and no spec is left without its API."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from mockserver.apis import REGISTRY, api_class
from mockserver.app import build_app
from mockserver.http.apps import gate_methods
from mockserver.settings import Settings
from mockserver.spec.loader import SPEC_DIR, load_spec, operations, parsed_spec

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "seeds"
APIS = list(REGISTRY)

# The APIs whose pure rules module (apis/<api>/rules.py + tests/unit/test_<api>_rules.py) has not
# landed yet (issue 15). Strict: when one lands, its test passes, the run fails, and its line here
# must go.
RULES_PENDING: dict[str, str] = {}
# What a rules module must not touch: state, HTTP, or a clock of its own (it is given `now`).
IMPURE_IMPORTS = (
    "mockserver.store",
    "mockserver.core.context",
    "mockserver.http",
    "connexion",
    "starlette",
    "httpx",
    "redis",
)
IMPURE_CALLS = {
    ("time", "time"),
    ("time", "monotonic"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
}


def test_the_vendor_seed_documents_are_beside_the_clone():
    """The specs are checked against their seed documents: a run without them must fail, not pass
    with the check quietly skipped (CI has ../shared beside the clone)."""
    assert SEEDS.is_dir(), f"the vendor seed documents are missing: expected {SEEDS}"
    assert (SEEDS / "README.md").is_file(), f"{SEEDS}/README.md (file -> API map) is missing"


@pytest.mark.parametrize("name", APIS)
def test_the_spec_comes_from_the_apis_seed_document(name):
    cls = api_class(name)
    spec = load_spec(cls.spec)
    assert spec["info"]["x-mock-source"] == cls.source
    assert (SEEDS / cls.source).is_file(), f"{name}: seed document {SEEDS / cls.source} missing"
    seed_map = (SEEDS / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"^\| *{re.escape(cls.source)} *\| *`{name}` *\|", seed_map, re.M), (
        f"{SEEDS}/README.md does not map {cls.source} to {name}"
    )
    assert spec["info"].get("x-mock-behaviour"), "documented rules listed in info.x-mock-behaviour"


@pytest.mark.parametrize("name", APIS)
def test_the_spec_and_control_spec_are_valid_openapi(name):
    cls = api_class(name)
    assert (SPEC_DIR / cls.spec).is_file()
    validate(load_spec(cls.spec))
    if cls.control_spec is not None:
        assert (SPEC_DIR / "control" / cls.control_spec).is_file()
        validate(load_spec(f"control/{cls.control_spec}"))


def test_every_spec_belongs_to_a_registered_api():
    specs = {api_class(n).spec for n in APIS} | {"control.yaml"}
    controls = {api_class(n).control_spec for n in APIS} - {None}
    assert sorted(p.name for p in SPEC_DIR.glob("*.yaml")) == sorted(specs)
    assert sorted(p.name for p in (SPEC_DIR / "control").glob("*.yaml")) == sorted(controls)


@pytest.mark.parametrize("name", APIS)
def test_the_api_has_a_contract_suite_with_its_profile(name):
    assert (ROOT / "contracts" / f"test_{name}.py").is_file()
    assert importlib.import_module(f"contracts.test_{name}").PROFILE.api == name


@pytest.mark.parametrize("name", APIS)
def test_the_api_has_its_api_tests(name):
    assert (ROOT / "tests" / "api" / f"test_{name}.py").is_file()


def _imports(tree: ast.Module) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)  # and `from pkg import module` names the module too
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _rules_problems(name: str) -> list[str]:
    rules = ROOT / "mockserver" / "apis" / name / "rules.py"
    tests = ROOT / "tests" / "unit" / f"test_{name}_rules.py"
    if not rules.is_file():
        return [f"no {rules.relative_to(ROOT)}"]
    tree = ast.parse(rules.read_text(encoding="utf-8"))
    problems = [
        f"rules.py imports {m}"
        for m in sorted(_imports(tree))
        if any(m == bad or m.startswith(bad + ".") for bad in IMPURE_IMPORTS)
    ]
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef):
            problems.append(f"rules.py:{node.lineno} async def {node.name}: rules do no I/O")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr) in IMPURE_CALLS
        ):
            problems.append(f"rules.py:{node.lineno} reads the wall clock: take `now` instead")
    if not tests.is_file():
        problems.append(f"no {tests.relative_to(ROOT)}")
    elif f"mockserver.apis.{name}.rules" not in _imports(ast.parse(tests.read_text())):
        problems.append(f"{tests.relative_to(ROOT)} does not import mockserver.apis.{name}.rules")
    return problems


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=RULES_PENDING[n]))
        if n in RULES_PENDING
        else n
        for n in APIS
    ],
)
def test_the_api_has_a_pure_rules_module_with_unit_tests(name):
    assert _rules_problems(name) == []


def test_pending_rules_are_registered_apis():
    assert set(RULES_PENDING) <= set(APIS)


def test_every_operation_names_a_handler_and_the_gates_own_name_none():
    """Connexion needs a function for every operation; the ones the gate answers itself (CORS
    preflights) get the app's generic one (http/apps.py), so an API class carries no
    placeholder attribute for them, and every other operationId is a method of the class."""
    apis = build_app(Settings(store="memory")).ctx.apis
    assert sorted(apis) == sorted(APIS)
    for name, api in apis.items():
        gate = gate_methods(api)
        for op in operations(parsed_spec(api.spec)):
            if op.method in gate:
                assert not hasattr(type(api), op.operation_id), f"{name}: placeholder {op}"
            else:
                assert callable(getattr(api, op.operation_id, None)), f"{name}: no handler {op}"


def test_no_handler_takes_arbitrary_keyword_arguments():
    """Connexion hands a handler with `**kwargs` every query parameter the client sends, and logs
    an ERROR for each one the spec does not define: a client's stray `?debug=1` must not put an
    error in the user's log (collect's heartbeat did)."""
    import inspect

    apis = build_app(Settings(store="memory")).ctx.apis
    for name, api in apis.items():
        gate = gate_methods(api)
        for op in operations(parsed_spec(api.spec)):
            if op.method in gate:
                continue
            params = inspect.signature(getattr(api, op.operation_id)).parameters.values()
            kinds = {p.kind for p in params}
            assert inspect.Parameter.VAR_KEYWORD not in kinds, f"{name}: {op.operation_id}(**)"
