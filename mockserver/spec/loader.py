"""The one spec loader: where the specs are, each parsed once, its base path and its operations.

Everything that reads a spec (the app, the docs, the contract suites, `check-specs`, the tests)
goes through here, so a spec is parsed by one YAML loader and its first server's base path is
computed by one function.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "SPEC_DIR",
    "Operation",
    "allowed_methods",
    "base_path",
    "heartbeat_route",
    "load_spec",
    "operations",
    "parse_yaml",
    "parsed_spec",
    "spec_files",
    "spec_path",
]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _find_spec_dir() -> Path:
    """specs/ inside the package (a wheel ships it there) or beside it (a source checkout)."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "specs", package.parent / "specs"):
        if (candidate / "control.yaml").is_file():
            return candidate
    raise FileNotFoundError("the OpenAPI specs were not found next to the mockserver package")


SPEC_DIR = _find_spec_dir()

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def spec_path(name: str) -> Path:
    return SPEC_DIR / name


def spec_files() -> list[str]:
    """Every bundled spec, as names relative to SPEC_DIR (`sonoran.yaml`, `control/lucit.yaml`)."""
    names = [p.name for p in sorted(SPEC_DIR.glob("*.yaml"))]
    return names + [f"control/{p.name}" for p in sorted((SPEC_DIR / "control").glob("*.yaml"))]


def parse_yaml(path: str | Path) -> Any:
    """A YAML file with libyaml's safe loader when present (pure-Python PyYAML was most of
    start-up's time)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


@functools.cache
def parsed_spec(spec_file: str) -> dict:
    """A bundled spec parsed once per process. Shared: never change what this returns."""
    return parse_yaml(spec_path(spec_file))


def load_spec(spec_file: str | Path) -> dict:
    """A private copy of a spec (connexion and the contract suites change what they are given).
    A bundled spec's name, or the path of any spec file."""
    if isinstance(spec_file, Path) or Path(str(spec_file)).is_absolute():
        return parse_yaml(spec_file)
    return copy.deepcopy(parsed_spec(spec_file))


def base_path(spec: dict) -> str:
    """The path part of the spec's first server URL, without a trailing slash
    (`https://api.lucit.app/api/v3` -> `/api/v3`; none or `/` -> "")."""
    servers = spec.get("servers") or [{"url": ""}]
    url = str(servers[0].get("url", ""))
    return re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*", "", url).rstrip("/")


@dataclass(frozen=True)
class Operation:
    """One operation of a spec at its full path: `template` is base path + spec path."""

    method: str  # upper case
    template: str
    operation_id: str
    regex: re.Pattern

    def match(self, path: str) -> dict[str, str] | None:
        m = self.regex.match(path)
        return None if m is None else m.groupdict()


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join(
        f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") and p.endswith("}") else re.escape(p)
        for p in parts
    )
    return re.compile(rf"^{pattern}\Z")  # not `$`: that also matches before a final newline


def operations(spec: dict, base: str | None = None) -> list[Operation]:
    """Every operation with an operationId, at `base` (default: the spec's own base path) +
    its path; to name a request's operation before connexion routes it (faults and the journal
    need it even when validation fails)."""
    prefix = base_path(spec) if base is None else base.rstrip("/")
    ops = []
    for path, item in (spec.get("paths") or {}).items():
        regex = _template_regex(prefix + path)
        for method, op in item.items():
            if method in HTTP_METHODS and isinstance(op, dict) and "operationId" in op:
                ops.append(Operation(method.upper(), prefix + path, op["operationId"], regex))
    return ops


def allowed_methods(ops: list[Operation], path: str) -> str | None:
    """The methods the spec declares for `path` (an `Allow` header): connexion's own 405 lists
    only the methods of the first route it tried when a path has several."""
    methods = sorted({op.method for op in ops if op.regex.match(path)})
    return ", ".join(methods) if methods else None


def heartbeat_route(spec_file: str, operation_id: str | None) -> tuple[str, str] | None:
    """(METHOD, native path template) of an operation, as the spec states it."""
    for op in operations(parsed_spec(spec_file)):
        if op.operation_id == operation_id:
            return op.method, op.template
    return None
