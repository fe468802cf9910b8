"""A scenario run as the control API shows it: no credential in full.

A step that adds a fault rule may name a credential in its `match` (a secret header, a secret
body field), literally or through a `${var}`. The control API shows such a value, the var that
fills it and any copy of either (in a step's answer) by its prefix only, as the journal shows the
request the rule picks. The stored run keeps the raw values: its steps fire with them.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.core.redaction import Redactor, Secrets
from mockserver.faults import shown_rule

__all__ = ["shown_run"]

FAULTS_PATH = "/__mock/faults"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def shown_run(run: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    secret_vars: set[str] = set()
    secrets = Secrets()
    steps = []
    for step in run.get("steps", []):
        body = step.get("body")
        if step.get("path") == FAULTS_PATH and isinstance(body, dict):
            shown = shown_rule(body, redactor)
            for raw in _changed(body, shown):
                named = _VAR.findall(raw)
                secret_vars.update(named)
                if not named:  # a literal credential; its scheme (`Bearer `) is no secret
                    scheme, sep, rest = raw.partition(" ")
                    secrets.add(rest if sep and scheme.lower() in ("bearer", "basic") else raw)
            step = {**step, "body": shown}
        steps.append(step)
    values = run.get("vars") or {}
    for name in secret_vars & set(values):
        secrets.add(values[name])
    return secrets.scrub_all({**run, "steps": steps})


def _changed(raw: Any, shown: Any) -> list[str]:
    """The strings of `raw` that `shown` shows otherwise (masked), wherever they sit."""
    if isinstance(raw, str):
        return [raw] if raw != shown else []
    if isinstance(raw, dict) and isinstance(shown, dict):
        return [s for k, v in raw.items() for s in _changed(v, shown.get(k))]
    if isinstance(raw, list) and isinstance(shown, list):
        return [s for r, v in zip(raw, shown, strict=False) for s in _changed(r, v)]
    return []
