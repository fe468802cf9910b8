"""The one spec loader: where the specs are, each parsed once, its base path and its operations.

Everything that reads a spec (the app, the docs, the contract suites, `check-specs`, the tests)
goes through here, so a spec is parsed by one YAML loader and its first server's base path is
computed by one function.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import marshal
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CACHE_DIR",
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


# Parsed specs kept as marshal data beside them, as Python keeps bytecode (start-up: libyaml
# still took ~40 ms of the mock's start for the eleven bundled specs; marshal.loads ~3 ms).
# Each cache file starts with the SHA-256 of the YAML it came from, so an edited spec is parsed
# again; the name holds the Python version, since marshal's format may change between versions.
CACHE_DIR = SPEC_DIR / "__pycache__"
_CACHE_TAG = f"{sys.implementation.cache_tag}-m{marshal.version}"


def _cache_file(spec_file: str) -> Path:
    return CACHE_DIR / f"{spec_file.replace('/', '.')}.{_CACHE_TAG}.marshal"


def _write_cache(cache: Path, data: bytes) -> None:
    """Like a .pyc: skipped under PYTHONDONTWRITEBYTECODE, and a read-only install just parses."""
    if sys.dont_write_bytecode:
        return
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, cache)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


@functools.cache
def _spec_data(spec_file: str) -> bytes | None:
    """A bundled spec as marshal data (from the cache when it matches the YAML), or None when
    the spec holds something marshal cannot keep (a YAML timestamp): then it is parsed each time."""
    raw = spec_path(spec_file).read_bytes()
    digest = hashlib.sha256(raw).digest()
    cache = _cache_file(spec_file)
    try:
        cached = cache.read_bytes()
        if cached[:32] == digest:
            marshal.loads(cached[32:])  # a damaged file raises here, not in a caller
            return cached[32:]
    except (OSError, EOFError, ValueError, TypeError):
        pass
    try:
        data = marshal.dumps(yaml.load(raw, Loader=_YAML_LOADER))  # noqa: S506 - a safe loader
    except ValueError:
        return None
    _write_cache(cache, digest + data)
    return data


@functools.cache
def parsed_spec(spec_file: str) -> dict:
    """A bundled spec parsed once per process. Shared: never change what this returns."""
    data = _spec_data(spec_file)
    return parse_yaml(spec_path(spec_file)) if data is None else marshal.loads(data)


def load_spec(spec_file: str | Path) -> dict:
    """A private copy of a spec (connexion and the contract suites change what they are given).
    A bundled spec's name, or the path of any spec file."""
    if isinstance(spec_file, Path) or Path(str(spec_file)).is_absolute():
        return parse_yaml(spec_file)
    data = _spec_data(spec_file)
    # marshal.loads builds a fresh copy ten times faster than deepcopy (shared parts stay shared)
    return copy.deepcopy(parsed_spec(spec_file)) if data is None else marshal.loads(data)


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
