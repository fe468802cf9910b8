"""Every spec is valid OpenAPI 3, every documented example matches its own schema, and every
registered API has its spec, control spec, tests and contract suite (DESIGN.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from mockserver.apis import REGISTRY, api_class
from mockserver.app import SPEC_DIR

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted(SPEC_DIR.glob("*.yaml")) + sorted((SPEC_DIR / "control").glob("*.yaml"))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def resolve(node, root):
    """Inline local $refs (the specs have no recursion)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(target, root)
        return {k: resolve(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, root) for v in node]
    return node


def examples(spec: dict):
    """(where, schema, example) for every example attached to a schema in the spec."""
    root = spec
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            op = resolve(op, root)
            where = f"{method.upper()} {path}"
            for p in op.get("parameters", []):
                if "example" in p:
                    yield f"{where} param {p['name']}", p["schema"], p["example"]
            contents = [("request", op.get("requestBody", {}).get("content", {}))]
            contents += [
                (f"response {s}", r.get("content", {})) for s, r in op.get("responses", {}).items()
            ]
            for label, content in contents:
                for media, media_obj in content.items():
                    schema = media_obj.get("schema")
                    if schema is None:
                        continue
                    if "example" in media_obj:
                        yield f"{where} {label} {media}", schema, media_obj["example"]
                    for name, ex in media_obj.get("examples", {}).items():
                        yield f"{where} {label} {media} ({name})", schema, ex["value"]


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


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_registered_api_has_spec_control_spec_and_tests(name):
    cls = api_class(name)
    spec = load(SPEC_DIR / cls.spec)
    assert spec["info"]["x-mock-source"] == cls.source
    assert (ROOT.parent / "shared" / "seeds" / cls.source).exists() or not (
        ROOT.parent / "shared"
    ).exists()
    assert spec["info"].get("x-mock-behaviour"), "documented rules listed in info.x-mock-behaviour"
    if cls.control_spec:
        validate(load(SPEC_DIR / "control" / cls.control_spec))
    assert (ROOT / "tests" / "api" / f"test_{name}.py").exists()


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


def test_core_modules_import_no_particular_api():
    core = [p for p in (ROOT / "mockserver").glob("*.py")] + list(
        (ROOT / "mockserver" / "store").glob("*.py")
    )
    for path in core:
        text = path.read_text()
        for name in REGISTRY:
            assert f"mockserver.apis.{name}" not in text, f"{path.name} imports the {name} API"
