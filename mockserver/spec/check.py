"""Checks of the bundled specs: valid OpenAPI 3, and every documented example matches its own
schema. Used by `mockserver check-specs` and the test suite."""

from __future__ import annotations

from collections.abc import Iterator

from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from mockserver.spec.loader import load_spec, spec_files

__all__ = ["spec_files", "examples", "check_all"]


def _resolve(node, root):
    """Inline local $refs (the specs have no recursion)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(target, root)
        return {k: _resolve(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, root) for v in node]
    return node


def examples(spec: dict) -> Iterator[tuple[str, dict, object]]:
    """(where, schema, example) for every example attached to a schema in the spec."""
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            op = _resolve(op, spec)
            where = f"{method.upper()} {path}"
            for p in op.get("parameters", []):
                if "example" in p and "schema" in p:
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


def check_all() -> Iterator[tuple[str, list[str]]]:
    for name in spec_files():
        spec = load_spec(name)
        problems: list[str] = []
        try:
            validate(spec)
        except Exception as exc:  # the validator's own error types vary by version
            problems.append(f"not valid OpenAPI: {str(exc).splitlines()[0]}")
        for where, schema, example in examples(spec):
            errors = [e.message for e in OAS30Validator(schema).iter_errors(example)]
            if errors:
                problems.append(f"{where}: example does not match its schema: {errors[0]}")
        yield name, problems
