"""Every spec is valid OpenAPI 3, every documented example matches its own schema, every operationId
names its API, and `mockserver check-specs` says so. (Each registered API's files, its seed
document included: tests/unit/test_registry.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from mockserver.apis import REGISTRY, api_class
from mockserver.spec.check import examples
from mockserver.spec.loader import SPEC_DIR
from tests.conftest import SEED_BODIES, SEED_WITHOUT_EXAMPLE

SPECS = sorted(SPEC_DIR.glob("*.yaml")) + sorted((SPEC_DIR / "control").glob("*.yaml"))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(SPEC_DIR)))
def test_spec_is_valid_openapi(path):
    validate(load(path))


CASES = [
    (str(p.relative_to(SPEC_DIR)) + " " + where, schema, ex)
    for p in SPECS
    for where, schema, ex in examples(load(p))
]


@pytest.mark.parametrize(("where", "schema", "example"), CASES, ids=[c[0] for c in CASES])
def test_documented_examples_match_their_schema(where, schema, example):
    errors = [e.message for e in OAS30Validator(schema).iter_errors(example)]
    assert not errors, f"{where}: {errors}"


def test_there_are_examples_to_check():
    assert len(CASES) >= 5


def heartbeat_request(name: str) -> tuple[dict, list]:
    """(schema, documented examples) of the request body of `name`'s heartbeat operation."""
    cls = api_class(name)
    spec = load(SPEC_DIR / cls.spec)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") == cls.heartbeat_operation:
                where = f"{method.upper()} {path} request application/json"
                found = [(schema, ex) for w, schema, ex in examples(spec) if w.startswith(where)]
                schema = found[0][0] if found else _request_schema(spec, op)
                return schema, [ex for _, ex in found]
    raise AssertionError(f"{name}: no operation {cls.heartbeat_operation!r} in {cls.spec}")


def _request_schema(spec: dict, op: dict) -> dict:
    from mockserver.spec.check import _resolve

    return _resolve(op, spec)["requestBody"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize("name", list(REGISTRY))
def test_the_shared_seed_body_is_the_documented_example(name):
    """tests/conftest.py SEED_BODIES: one copy of each documented heartbeat body for all tests."""
    schema, documented = heartbeat_request(name)
    if name in SEED_WITHOUT_EXAMPLE:
        assert documented == [], f"{name} has a documented example now: use it in SEED_BODIES"
    else:
        assert SEED_BODIES[name] in documented
    errors = [e.message for e in OAS30Validator(schema).iter_errors(SEED_BODIES[name])]
    assert not errors, errors


@pytest.mark.parametrize("name", list(REGISTRY))
def test_operation_ids_are_prefixed_with_the_api_name(name):
    cls = api_class(name)
    for path in [SPEC_DIR / cls.spec] + (
        [SPEC_DIR / "control" / cls.control_spec] if cls.control_spec else []
    ):
        for item in load(path)["paths"].values():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    assert op["operationId"].startswith(name + "_")


def test_check_specs_command_passes_on_the_bundled_specs(capsys):
    from mockserver.cli import main

    assert main(["check-specs"]) == 0
    out = capsys.readouterr().out
    assert "ok     statusbadge.yaml" in out and "FAILED" not in out


def test_check_specs_reports_a_broken_spec_and_a_wrong_example(monkeypatch, capsys):
    import mockserver.spec.check as sc
    from mockserver.cli import main

    good = sc.load_spec("statusbadge.yaml")
    bad = sc.load_spec("statusbadge.yaml")
    op = bad["paths"]["/api/heartbeat"]["post"]
    op["requestBody"]["content"]["application/json"]["example"]["token"] = 42
    del bad["info"]
    monkeypatch.setattr(sc, "spec_files", lambda: ["good.yaml", "bad.yaml"])
    monkeypatch.setattr(sc, "load_spec", lambda name: good if name == "good.yaml" else bad)
    assert main(["check-specs"]) == 1
    out = capsys.readouterr().out
    assert "ok     good.yaml" in out and "FAILED bad.yaml" in out
    assert "not valid OpenAPI" in out and "example does not match its schema" in out
