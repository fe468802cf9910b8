"""The vendor documents' own code samples (Lua, Luau, C#, PHP, SDK calls, their cURL style),
copied into `docs/vendor/<api>.yaml` and pointed at the mock, plus what a generated sample needs
and the spec cannot say (the document's placeholder credential, a parameter value the mock
answers, a body where the document shows none).

The seed documents are not shipped, so their samples live here as data; an API without a file
simply gets the generated cURL, Python and JavaScript samples. A template names the mock with
`{{origin}}` (the mock's root), `{{server}}` (root + the spec's base path) or `{{url}}` (the
operation's URL with its parameters filled in); nothing else is substituted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.docs.samples import Overrides, Sample
from mockserver.spec.loader import parse_yaml

__all__ = ["VENDOR_DIR", "Vendor", "load_vendor"]

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
PLACES = ("origin", "server", "url")
LANGS = {"shell", "python", "javascript", "lua", "csharp", "php"}
_PLACE = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
_TOP_KEYS = {"credentials", "parameters", "operations"}
_OP_KEYS = {"body", "samples"}
_SAMPLE_KEYS = {"label", "lang", "code", "note"}


@dataclass(frozen=True)
class Vendor:
    overrides: Overrides = field(default_factory=Overrides)
    samples: dict[str, list[dict]] = field(default_factory=dict)  # operationId -> samples

    def for_operation(self, operation_id: str, places: dict[str, str]) -> list[Sample]:
        return [
            Sample(
                item["label"],
                item["lang"],
                fill(item["code"], places).rstrip("\n"),
                "document",
                " ".join(str(item.get("note", "")).split()),
            )
            for item in self.samples.get(operation_id, [])
        ]


def fill(template: str, places: dict[str, str]) -> str:
    return _PLACE.sub(lambda m: places[m.group(1)], template)


def _check(path: Path, data: Any) -> None:
    """A typo in a samples file fails loudly (at docs build and in the tests), never silently."""

    def fail(why: str) -> None:
        raise ValueError(f"{path.name}: {why}")

    if not isinstance(data, dict) or set(data) - _TOP_KEYS:
        fail(f"top-level keys must be among {sorted(_TOP_KEYS)}")
    for key in ("credentials", "parameters"):
        if not isinstance(data.get(key, {}), dict):
            fail(f"{key} must be a mapping")
    for op_id, op in (data.get("operations") or {}).items():
        if not isinstance(op, dict) or set(op) - _OP_KEYS:
            fail(f"operations.{op_id}: keys must be among {sorted(_OP_KEYS)}")
        for i, item in enumerate(op.get("samples") or []):
            where = f"operations.{op_id}.samples[{i}]"
            if not isinstance(item, dict) or set(item) - _SAMPLE_KEYS:
                fail(f"{where}: keys must be among {sorted(_SAMPLE_KEYS)}")
            if not all(isinstance(item.get(k), str) for k in ("label", "lang", "code")):
                fail(f"{where}: label, lang and code are required strings")
            if item["lang"] not in LANGS:
                fail(f"{where}: lang {item['lang']!r} is not one of {sorted(LANGS)}")
            unknown = set(_PLACE.findall(item["code"])) - set(PLACES)
            if unknown:
                fail(f"{where}: unknown placeholder {{{{{sorted(unknown)[0]}}}}}")


def load_vendor(key: str, directory: Path = VENDOR_DIR) -> Vendor:
    """The samples file of the spec `key` (its API's name), or nothing when there is none."""
    path = directory / f"{key}.yaml"
    if "/" in key or not path.is_file():
        return Vendor()
    data = parse_yaml(path) or {}
    _check(path, data)
    operations = data.get("operations") or {}
    bodies = {op_id: op["body"] for op_id, op in operations.items() if "body" in op}
    overrides = Overrides(
        {str(k): str(v) for k, v in (data.get("credentials") or {}).items()},
        dict(data.get("parameters") or {}),
        bodies,
    )
    samples = {op_id: list(op.get("samples") or []) for op_id, op in operations.items()}
    return Vendor(overrides, samples)
