"""The specs as the contract suites see them: base paths, credentials by security scheme, and
one schema joining an API's vendor spec with the control operations its links need."""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.spec.loader import base_path, load_spec

__all__ = [
    "ControlLink",
    "base_path",
    "credential_headers",
    "declares_links",
    "join_specs",
    "load_spec",
    "operations_of",
]


@dataclass(frozen=True)
class ControlLink:
    """An OpenAPI link between the API's control spec (`/__mock/<api>/...`) and its vendor spec,
    written like a spec's `links` entry: runtime expressions for the target's parameters/body."""

    source: str  # operationId of the producer
    status: str  # the producer's response status that carries the link
    target: str  # operationId of the consumer
    parameters: Mapping[str, str] = field(default_factory=dict)
    request_body: Any = None
    name: str = ""

    def as_link(self) -> dict:
        link: dict[str, Any] = {"operationId": self.target}
        if self.parameters:
            link["parameters"] = dict(self.parameters)
        if self.request_body is not None:
            link["requestBody"] = self.request_body
        return link


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                renames.get(v, v)
                if k == "$ref" and isinstance(v, str)
                else _rename_refs(v, renames)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def join_specs(
    native: dict, control: dict, control_base: str, links: tuple[ControlLink, ...]
) -> dict:
    """One schema with the vendor spec's operations and the control operations that `links`
    name, at their full paths (servers `/`), the control spec's components renamed apart, and
    `links` added."""
    out = copy.deepcopy(native)
    out["servers"] = [{"url": "/"}]
    top_security = out.pop("security", None)
    paths: dict[str, Any] = {}
    for path, item in out.get("paths", {}).items():
        item = copy.deepcopy(item)
        if top_security is not None:
            for op in operations_of(item):
                op.setdefault("security", top_security)
        paths[base_path(native) + path] = item
    renames: dict[str, str] = {}
    components = out.setdefault("components", {})
    for section, entries in (control.get("components") or {}).items():
        for name in entries:
            renames[f"#/components/{section}/{name}"] = f"#/components/{section}/control_{name}"
    for section, entries in (control.get("components") or {}).items():
        target = components.setdefault(section, {})
        for name, value in entries.items():
            target[f"control_{name}"] = _rename_refs(value, renames)
    wanted = {link.source for link in links} | {link.target for link in links}
    for path, item in control.get("paths", {}).items():
        # only the control operations the links name, without the control spec's own links
        item = {
            method: op
            for method, op in _rename_refs(item, renames).items()
            if not isinstance(op, dict) or "operationId" not in op or op["operationId"] in wanted
        }
        for op in operations_of(item):
            for response in op.get("responses", {}).values():
                if isinstance(response, dict):
                    response.pop("links", None)
        if operations_of(item):
            paths[control_base + path] = item
    out["paths"] = paths
    by_id = {op["operationId"]: op for item in paths.values() for op in operations_of(item)}
    for link in links:
        response = by_id[link.source]["responses"][link.status]
        response.setdefault("links", {})[link.name or f"{link.source}_to_{link.target}"] = (
            link.as_link()
        )
    return out


def operations_of(path_item: dict) -> list[dict]:
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    return [op for method, op in path_item.items() if method in methods and isinstance(op, dict)]


def declares_links(spec: dict) -> bool:
    """Whether any response of the spec has an OpenAPI link (a response `$ref` is followed into
    components/responses): with none, schemathesis's state machine has nothing to follow."""
    shared = (spec.get("components") or {}).get("responses") or {}
    for item in (spec.get("paths") or {}).values():
        for op in operations_of(item):
            for response in (op.get("responses") or {}).values():
                ref = response.get("$ref", "") if isinstance(response, dict) else ""
                if ref.startswith("#/components/responses/"):
                    response = shared.get(ref.rsplit("/", 1)[1], {})
                if isinstance(response, dict) and response.get("links"):
                    return True
    return False


def credential_headers(spec: dict, credential: str) -> dict[str, str]:
    """Request headers carrying `credential` the way the spec's security scheme says."""
    for scheme in (spec.get("components", {}).get("securitySchemes") or {}).values():
        kind = scheme.get("type")
        if kind == "http" and scheme.get("scheme", "").lower() == "basic":
            return {"Authorization": "Basic " + base64.b64encode(credential.encode()).decode()}
        if kind == "http" and scheme.get("scheme", "").lower() == "bearer":
            return {"Authorization": f"Bearer {credential}"}
        if kind == "apiKey" and scheme.get("in") == "header":
            return {scheme["name"]: credential}
    return {}
