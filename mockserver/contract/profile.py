"""What one API's contract suite needs beyond its spec (`ContractProfile`), and where a contract
run sends its requests (`Target`, read from the MOCKSERVER_CONTRACT_* environment)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.contract.specs import ControlLink

__all__ = [
    "ContractProfile",
    "Exclusion",
    "Target",
    "DEFAULT_MAX_EXAMPLES",
    "DEFAULT_STATEFUL_EXAMPLES",
]

DEFAULT_MAX_EXAMPLES = 20
DEFAULT_STATEFUL_EXAMPLES = 10


@dataclass(frozen=True)
class Exclusion:
    """A schemathesis check not run for some operations, and why (a known false positive)."""

    check: str
    reason: str
    operations: tuple[str, ...] = ()  # operationIds; empty: every operation
    stateful_only: bool = False

    def applies(self, operation_id: str | None, stateful: bool) -> bool:
        if self.stateful_only and not stateful:
            return False
        return not self.operations or operation_id in self.operations


@dataclass(frozen=True)
class ContractProfile:
    """What one API's contract suite needs beyond its spec."""

    api: str
    mock_credential: str | None = None  # sent to the mock when no credential is given
    body_credential: str | None = None  # body field carrying the credential (positive cases only)
    headers: Mapping[str, str] = field(default_factory=dict)  # sent with every request
    mock_settings: Mapping[str, Any] = field(default_factory=dict)  # the suite's own mock
    real_rate_limit: str | None = None  # schemathesis rate limit for other targets, e.g. "9/m"
    control_links: tuple[ControlLink, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    never_succeeds: Mapping[str, str] = field(default_factory=dict)  # operationId -> why no 2xx
    # operationId -> why it reaches 2xx only through the control links (a target without the
    # mock's control API, i.e. the real service, is excused)
    success_needs_control: Mapping[str, str] = field(default_factory=dict)


def _json_env(name: str) -> dict:
    text = os.environ.get(name, "").strip()
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object")
    return value


@dataclass
class Target:
    """The contract run's settings, read from the environment (see the module docstring)."""

    urls: dict[str, str]  # api -> base URL ("*": every API)
    credentials: dict[str, str]
    headers: dict[str, dict[str, str]]
    max_examples: int = DEFAULT_MAX_EXAMPLES
    stateful_examples: int = DEFAULT_STATEFUL_EXAMPLES
    seed: int | None = None

    @classmethod
    def from_env(cls) -> Target:
        raw_url = os.environ.get("MOCKSERVER_CONTRACT_URL", "").strip()
        urls = (
            _json_env("MOCKSERVER_CONTRACT_URL")
            if raw_url.startswith("{")
            else ({"*": raw_url} if raw_url else {})
        )
        seed = os.environ.get("MOCKSERVER_CONTRACT_SEED", "").strip()
        return cls(
            urls={k: v.rstrip("/") for k, v in urls.items()},
            credentials=_json_env("MOCKSERVER_CONTRACT_AUTH"),
            headers=_json_env("MOCKSERVER_CONTRACT_HEADERS"),
            max_examples=int(
                os.environ.get("MOCKSERVER_CONTRACT_MAX_EXAMPLES") or DEFAULT_MAX_EXAMPLES
            ),
            stateful_examples=int(
                os.environ.get("MOCKSERVER_CONTRACT_STATEFUL_EXAMPLES") or DEFAULT_STATEFUL_EXAMPLES
            ),
            seed=int(seed) if seed else None,
        )

    def url_for(self, api: str) -> str | None:
        return self.urls.get(api) or self.urls.get("*")
