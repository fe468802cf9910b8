"""What the docs need to know about one OpenAPI spec: its operations at their native paths, its
auth, the documented rules (`info.x-mock-behaviour`, from `info.x-mock-source`) and every
`x-mock-assumed` choice with the place in the spec it applies to.

Shared by the HTML docs (docs.static) and the README's per-API tables, so both say the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from mockserver.spec.loader import base_path, parse_yaml

__all__ = ["ApiDoc", "Assumption", "Operation", "SpecDoc", "load_api_docs", "load_spec_doc"]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # as written in the spec
    native: str  # base path + path: what a client calls
    op: dict
    item: dict  # the path item (its `parameters` apply to every operation)

    @property
    def anchor(self) -> str:
        return "op-" + anchor_id(self.op.get("operationId") or f"{self.method}-{self.path}")


@dataclass(frozen=True)
class Assumption:
    keys: tuple[str, ...]  # where in the spec, as the keys from the root
    reason: str
    base: str = ""  # the spec's base path, so a location names the path a client calls

    @property
    def location(self) -> str:
        """`POST /api/heartbeat › responses › 400`, `components › schemas › Error`."""
        keys = list(self.keys)
        if len(keys) >= 3 and keys[0] == "paths" and keys[2] in METHODS:
            keys = [f"{keys[2].upper()} {self.base}{keys[1]}", *keys[3:]]
        elif len(keys) >= 2 and keys[0] == "paths":
            keys = [self.base + keys[1], *keys[2:]]
        return " › ".join(keys) or "(spec root)"


def anchor_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


class SpecDoc:
    """One spec file, loaded once. `key` names it in URLs: `statusbadge`, `control`,
    `control/statusbadge`."""

    def __init__(self, key: str, spec: dict, file: str) -> None:
        self.key = key
        self.spec = spec
        self.file = file

    @property
    def info(self) -> dict:
        return self.spec.get("info") or {}

    @property
    def title(self) -> str:
        return str(self.info.get("title") or self.key)

    @property
    def source(self) -> str | None:
        return self.info.get("x-mock-source")

    @property
    def rules(self) -> list[str]:
        return [str(rule) for rule in self.info.get("x-mock-behaviour") or []]

    @property
    def servers(self) -> list[dict]:
        return self.spec.get("servers") or [{"url": "/"}]

    @property
    def base(self) -> str:
        """The first server's path: connexion's base path, so the native paths start with it."""
        return base_path(self.spec)

    @cached_property
    def operations(self) -> list[Operation]:
        ops = []
        for path, item in (self.spec.get("paths") or {}).items():
            item = self.resolve(item)
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    ops.append(
                        Operation(method.upper(), path, self.base + path, item[method], item)
                    )
        return ops

    @cached_property
    def assumptions(self) -> list[Assumption]:
        """Every `x-mock-assumed`, once, where it is written (a `$ref` target counts once)."""
        found: list[Assumption] = []

        def walk(node: Any, keys: tuple[str, ...]) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "x-mock-assumed":
                        found.append(Assumption(keys, _text(value), self.base))
                    else:
                        walk(value, (*keys, str(key)))
            elif isinstance(node, list):
                for i, value in enumerate(node):  # a parameter is known by its name
                    named = isinstance(value, dict) and isinstance(value.get("name"), str)
                    walk(value, (*keys, value["name"] if named else str(i)))

        walk(self.spec, ())
        return found

    def operation_for(self, assumption: Assumption) -> Operation | None:
        keys = assumption.keys
        if len(keys) >= 3 and keys[0] == "paths":
            for op in self.operations:
                if op.path == keys[1] and op.method == keys[2].upper():
                    return op
        return None

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s (`#/components/...`) until a plain object."""
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
            node = self.lookup(node["$ref"])
            seen += 1
        return node

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"{self.file}: only local $refs are supported, not {ref!r}")
        node: Any = self.spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def parameters(self, op: Operation) -> list[dict]:
        """Path-level parameters overridden by the operation's own (by name and location)."""
        merged: dict[tuple[str, str], dict] = {}
        for raw in [*(op.item.get("parameters") or []), *(op.op.get("parameters") or [])]:
            param = self.resolve(raw)
            merged[(param.get("name", ""), param.get("in", ""))] = param
        return list(merged.values())

    def security(self, op: Operation) -> list[dict]:
        return op.op.get("security", self.spec.get("security") or [])

    def auth(self) -> list[str]:
        """How a client authenticates, one line per scheme the operations use."""
        schemes = (self.spec.get("components") or {}).get("securitySchemes") or {}
        used: list[str] = []
        open_ops = 0
        for op in self.operations:
            requirements = self.security(op)
            if not requirements or any(not req for req in requirements):
                open_ops += 1
            for req in requirements:
                used.extend(name for name in req if name not in used)
        lines = [describe_scheme(name, self.resolve(schemes.get(name, {}))) for name in used]
        if not lines:
            return ["none (no security scheme)"]
        if open_ops:
            lines.append(f"{open_ops} operation(s) need none")
        return lines

    def schemas(self) -> dict[str, Any]:
        return (self.spec.get("components") or {}).get("schemas") or {}


def describe_scheme(name: str, scheme: dict) -> str:
    kind = scheme.get("type")
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        fmt = f" ({scheme['bearerFormat']})" if scheme.get("bearerFormat") else ""
        return f"Bearer token{fmt} in `Authorization`"
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
        return "HTTP Basic (`Authorization: Basic base64(user:password)`)"
    if kind == "http":
        return f"HTTP `{scheme.get('scheme')}` in `Authorization`"
    if kind == "apiKey":
        return f"API key in {scheme.get('in', 'header')} `{scheme.get('name', name)}`"
    return f"{name} ({kind or 'unknown scheme'})"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return " ".join(str(value).split())


@dataclass
class ApiDoc:
    """A vendor API's spec and the mock's control routes for it (under `/__mock/<name>`)."""

    name: str
    spec: SpecDoc
    control: SpecDoc | None


def load_spec_doc(key: str, path: Path) -> SpecDoc:
    spec = parse_yaml(path)
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: not an OpenAPI document")
    return SpecDoc(key, spec, path.name)


def load_api_docs(
    spec_dir: Path, apis: list[tuple[str, str, str | None]] | None = None
) -> tuple[list[ApiDoc], SpecDoc]:
    """The vendor APIs and the core control spec. `apis` is (name, spec file, control spec file)
    per API; by default every `specs/*.yaml` except control.yaml, named by its file's stem, with
    `specs/control/<stem>.yaml` when it exists."""
    if apis is None:
        apis = []
        for path in sorted(spec_dir.glob("*.yaml")):
            if path.stem == "control":
                continue
            control = spec_dir / "control" / path.name
            apis.append((path.stem, path.name, path.name if control.is_file() else None))
    docs = []
    for name, spec_file, control_file in sorted(apis):  # the same order live and on disk
        control = None
        if control_file:
            control = load_spec_doc(f"control/{name}", spec_dir / "control" / control_file)
        docs.append(ApiDoc(name, load_spec_doc(name, spec_dir / spec_file), control))
    return docs, load_spec_doc("control", spec_dir / "control.yaml")
