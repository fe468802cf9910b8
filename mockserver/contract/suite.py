"""Schemathesis contract suites for the mocked APIs, runnable against the mock or a real service.

Each API's suite is a small `ContractProfile` (its credentials, extra headers, links through its
control API, excluded checks with the reason) turned into pytest tests by `ContractSuite`:

- `operations_test()`: every operation of the vendor spec through schemathesis's examples,
  coverage and fuzzing phases (positive and negative data), every check.
- `stateful_test()`: schemathesis's state machine along the spec's OpenAPI links. Against the mock
  it also follows the profile's `ControlLink`s between the API's control spec and its vendor spec
  (for example "queue an instruction, then heartbeat"): schemathesis links can't point into another
  file, so the two specs are joined into one schema in memory for that test. It is skipped only
  when that schema declares no link at all; any other failure to build it fails the test.
- `success_test()`: "green can hide the happy path" (schemathesis accepts 401/404 for valid data),
  so every operation must have answered 2xx at least once during the run.

Where the suite sends its requests comes from the environment (`mockserver contract` sets it):

- `MOCKSERVER_CONTRACT_URL`: a base URL (the service root; each spec's `servers` path is appended),
  or a JSON object `{api: url}`. Unset: each suite starts its own mock on 127.0.0.1 and a free
  port, with response validation on, the clock frozen, and the profile's `mock_settings`.
- `MOCKSERVER_CONTRACT_AUTH`: JSON `{api: credential}`: `user:password` for HTTP Basic, the token
  for Bearer, the key for an API key, the body token for an API that carries it in the body.
- `MOCKSERVER_CONTRACT_HEADERS`: JSON `{api: {header: value}}`, e.g. Lucit's `AppIdV3`.
- `MOCKSERVER_CONTRACT_MAX_EXAMPLES` (default 20), `MOCKSERVER_CONTRACT_SEED` (default: none,
  i.e. schemathesis's deterministic generation; a seed switches to seeded random generation,
  reproducible with the same seed), `MOCKSERVER_CONTRACT_STATEFUL_EXAMPLES` (default 10).
- `MOCKSERVER_CONTRACT_ENGINE`: the engine of the suite's own mock, `compiled` (default) or
  `connexion` (`make test` runs the suites on both: tests/e2e/test_contract_engines.py).
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import cached_property
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.config._health_check import HealthCheck as SchemathesisHealthCheck

from mockserver.apis import api_class
from mockserver.contract.profile import ContractProfile, Exclusion, Target
from mockserver.contract.specs import (
    ControlLink,
    base_path,
    credential_headers,
    join_specs,
    load_spec,
    operations_of,
)
from mockserver.contract.stateful import check, operation_id, stateful_test
from mockserver.spec.loader import spec_path

__all__ = [
    "ContractProfile",
    "ContractSuite",
    "ControlLink",
    "Exclusion",
    "Target",
    "FROZEN_AT",
    "require_api",
]

# the mock clock during a contract run: nothing expires by accident
FROZEN_AT = "2030-01-01T00:00:00Z"
# --- the suite -----------------------------------------------------------------------------------


class ContractSuite:
    """Builds one API's contract tests from its profile (see the module docstring)."""

    def __init__(self, profile: ContractProfile, target: Target | None = None) -> None:
        self.profile = profile
        self.api = profile.api
        self.target = target or Target.from_env()
        self.cls = api_class(self.api)
        self.spec = load_spec(spec_path(self.cls.spec))
        self.base_path = base_path(self.spec)
        self.remote_url = self.target.url_for(self.api)
        self.statuses: dict[str, Counter] = defaultdict(Counter)  # operationId -> statuses seen
        self.labels: dict[str, str] = {}  # operationId -> schemathesis's label, as in test ids
        self.links: dict[str, Counter] = defaultdict(Counter)  # link -> statuses of its target
        self.expected_links: set[str] = set()
        self.stateful_ran = False
        # node ids of this suite's tests, and those finished in this process (contracts/conftest)
        self.collected_tests: set[str] = set()
        self.finished_tests: set[str] = set()
        self.root_url: str | None = None  # set by the target fixture
        for exclusion in profile.exclusions:
            check(exclusion.check)  # a typo fails at import, not silently

    # --- configuration ---------------------------------------------------------------------------
    @cached_property
    def has_control(self) -> bool:
        """Whether the target has the mock's control API: the suite's own mock, or a URL that
        answers /__mock/health for this API (another mockserver rather than the real service)."""
        return self.on_mock or self._probe_control()

    @property
    def rate_limit(self) -> str | None:
        """The pace for the real service (a mock's limits are its settings, not the suite's)."""
        return None if self.has_control else self.profile.real_rate_limit

    def describe(self) -> str:
        """One line on where this suite sends its requests, for the run's header."""
        if self.on_mock:
            settings = dict(self.profile.mock_settings)
            return (
                f"{self.api}: its own mock on 127.0.0.1 ({self.engine} engine, "
                f"API settings {settings})"
            )
        kind = "a mockserver (control API found)" if self.has_control else "the real service"
        pace = f"; paced to {self.rate_limit}" if self.rate_limit else ""
        return f"{self.api}: {self.remote_url}{self.base_path}, {kind}{pace}"

    @property
    def engine(self) -> str:
        """The engine of the suite's own mock (MOCKSERVER_CONTRACT_ENGINE)."""
        return os.environ.get("MOCKSERVER_CONTRACT_ENGINE", "").strip() or "compiled"

    @property
    def on_mock(self) -> bool:
        """True when the suite starts its own mock (no URL given)."""
        return self.remote_url is None

    @property
    def credential(self) -> str | None:
        return self.target.credentials.get(self.api) or self.profile.mock_credential

    def _load_schema(self, spec: dict):
        """One Config per schema: a shared one shares its headers dict across schemas."""
        config = schemathesis.Config(seed=self.target.seed)
        schema = schemathesis.openapi.from_dict(spec, config=config)
        schema.config.update(
            headers=dict(self.request_headers) or None,
            rate_limit=self.rate_limit,
            suppress_health_check=[SchemathesisHealthCheck.all],
        )
        schema.config.generation.update(
            max_examples=self.target.max_examples,
            deterministic=self.target.seed is None,
            database="none",
        )
        return schema

    @cached_property
    def request_headers(self) -> dict[str, str]:
        """Sent with every request: the profile's headers, the credential, --header values."""
        headers = dict(self.profile.headers)
        if self.credential and not self.profile.body_credential:
            headers.update(credential_headers(self.spec, self.credential))
        headers.update(self.target.headers.get(self.api, {}))
        return headers

    @cached_property
    def schema(self):
        return self._load_schema(copy.deepcopy(self.spec))

    @cached_property
    def joined_spec(self) -> dict:
        """The vendor spec joined with the control operations its control links name."""
        control = load_spec(spec_path(f"control/{self.cls.control_spec}"))
        return join_specs(self.spec, control, f"/__mock/{self.api}", self.profile.control_links)

    @cached_property
    def joined_schema(self):
        return self._load_schema(copy.deepcopy(self.joined_spec))

    @property
    def control_operations(self) -> set[str]:
        if not self.cls.control_spec:
            return set()
        control = load_spec(spec_path(f"control/{self.cls.control_spec}"))
        return {
            op["operationId"]
            for item in control.get("paths", {}).values()
            for op in operations_of(item)
        }

    def base_url(self, joined: bool = False) -> str:
        if self.root_url is None:
            raise RuntimeError("the contract target is not started (use suite.target_fixture())")
        return self.root_url if joined else self.root_url + self.base_path

    # --- the target ------------------------------------------------------------------------------
    def target_fixture(self):
        """A module-scoped autouse fixture: starts the suite's mock (or uses the given URL)."""
        suite = self

        @pytest.fixture(scope="module", autouse=True, name=f"contract_target_{self.api}")
        def contract_target():
            if suite.on_mock:
                server = suite._start_mock()
                try:
                    suite.root_url = server.url
                    yield suite
                finally:
                    server.stop()
            else:
                suite.root_url = suite.remote_url
                yield suite
            suite.root_url = None

        return contract_target

    def _start_mock(self, **api_settings: Any):
        """A mock serving only this API, response validation on, clock frozen at FROZEN_AT;
        `api_settings` replace the profile's `mock_settings` (e.g. the documented rate limit)."""
        from mockserver.client import MockClient
        from mockserver.server import BackgroundServer
        from mockserver.settings import Settings

        settings = Settings(
            port=0,
            apis=[self.api],
            engine=self.engine,
            validate_responses=True,
            api_settings={self.api: api_settings or dict(self.profile.mock_settings)},
        )
        server = BackgroundServer(settings).start()
        with MockClient(server.url) as client:
            client.set_clock(FROZEN_AT, frozen=True)
        return server

    def _probe_control(self) -> bool:
        """Whether the target is a mockserver (its control API answers), not the real service."""
        import httpx

        try:
            response = httpx.get(f"{self.remote_url}/__mock/health", timeout=5)
            return response.status_code == 200 and self.api in response.json().get("apis", [])
        except (httpx.HTTPError, ValueError, AttributeError):
            return False

    def own_mock(self, **api_settings: Any):
        """A context manager: a dedicated mock of this API with these settings (for a test of a
        documented limit the shared mock relaxes); skips the test when the run has a URL."""
        if not self.on_mock:
            pytest.skip(f"needs the suite's own mock, not {self.remote_url}")

        @contextlib.contextmanager
        def run():
            server = self._start_mock(**api_settings)
            try:
                yield server.url + self.base_path
            finally:
                server.stop()

        return run()

    def draw_case(self, operation_id: str, **overrides: Any):
        """One positive case of the operation, drawn deterministically (`overrides`: fixed
        path_parameters / query / headers / body, as in `APIOperation.as_strategy`)."""
        strategy = self.schema.find_operation_by_id(operation_id).as_strategy(**overrides)
        drawn: list = []

        @hypothesis.settings(
            max_examples=1,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(strategy)
        def draw(case):
            drawn.append(case)

        draw()
        return drawn[0]

    # --- running one case ------------------------------------------------------------------------
    def excluded_checks(self, operation_id: str | None, stateful: bool = False) -> list:
        return [
            check(e.check) for e in self.profile.exclusions if e.applies(operation_id, stateful)
        ]

    def prepare(self, case) -> None:
        """Put the credential into the body of a positive case (an API that carries its token
        in the body): generated tokens are never real ones, and doing it to a negative case
        could make it valid."""
        field_name = self.profile.body_credential
        if not field_name or not self.target.credentials.get(self.api):
            return
        meta = case.meta
        positive = meta is None or meta.generation.mode.is_positive
        if positive and isinstance(case.body, dict) and field_name in case.body:
            case.body[field_name] = self.target.credentials[self.api]

    def record(self, case, response) -> None:
        op = operation_id(case)
        self.labels[op] = case.operation.label
        self.statuses[op][response.status_code] += 1

    def label(self, operation: str) -> str:
        """An operation as the test ids name it (`POST /api/heartbeat`), from its operationId:
        one name for it in the progress lines, the summary and the messages."""
        if operation not in self.labels:
            for path, item in self.spec.get("paths", {}).items():
                for method, op in item.items():
                    if isinstance(op, dict) and op.get("operationId") == operation:
                        self.labels[operation] = f"{method.upper()} {path}"
        return self.labels.get(operation, operation)

    def run_case(self, case, *, joined: bool = False, base_url: str | None = None):
        """Send one generated case to the target and run every check on the answer."""
        self.prepare(case)
        base_url = base_url or self.base_url(joined)
        response = case.call(base_url=base_url)
        self.record(case, response)
        case.validate_response(
            response,
            # the credential is ours, not generated: ignored_auth then probes without it
            headers=self.request_headers or None,
            excluded_checks=self.excluded_checks(operation_id(case)),
            transport_kwargs={"base_url": base_url},
        )
        return response

    # --- the tests -------------------------------------------------------------------------------
    def operations_test(self) -> Callable:
        suite = self

        @self.schema.parametrize()
        def test_operations(case):
            suite.run_case(case)

        test_operations.__name__ = f"test_{self.api}_operations"
        return test_operations

    def stateful_test(self):
        """The state machine over the spec's links (and, against a mock, the control links);
        a skipped TestCase only when the schema declares no link (mockserver.contract.stateful)."""
        return stateful_test(self)

    def success_test(self) -> Callable:
        suite = self

        def test_every_operation_succeeded():
            """schemathesis accepts 401/404/409/429 for valid data, so a run with a wrong
            credential is green too: every operation must have answered 2xx at least once."""
            elsewhere = sorted(suite.collected_tests - suite.finished_tests)
            if elsewhere or not suite.statuses:
                pytest.skip(
                    f"not every test of this suite ran before this one in this process, e.g. "
                    f"{elsewhere[:1]} (deselected, or on another xdist worker)"
                )
            expected = {
                op["operationId"]
                for item in suite.spec.get("paths", {}).values()
                for op in operations_of(item)
                if op["operationId"] not in suite.profile.never_succeeds
                and (
                    suite.has_control
                    or op["operationId"] not in suite.profile.success_needs_control
                )
            }
            missing = {
                suite.label(op): dict(sorted(suite.statuses.get(op, Counter()).items()))
                for op in sorted(expected)
                if not any(200 <= s < 300 for s in suite.statuses.get(op, ()))
            }
            assert not missing, (
                f"{suite.api}: these operations never answered 2xx (statuses seen: {missing}); "
                "check the credentials (--auth) and headers (--header), and any failure above"
            )
            if suite.stateful_ran:
                unfollowed = {
                    link: dict(sorted(suite.links.get(link, Counter()).items()))
                    for link in sorted(suite.expected_links)
                    if not any(200 <= s < 300 for s in suite.links.get(link, ()))
                }
                assert not unfollowed, (
                    f"{suite.api}: these links never led to a 2xx (target statuses when the link's "
                    f"values were used: {unfollowed})"
                )

        test_every_operation_succeeded.__name__ = f"test_{self.api}_every_operation_succeeded"
        return test_every_operation_succeeded


def require_api(name: str) -> None:
    """Skip a contract module whose API is not registered in this build (yet)."""
    from mockserver.apis import REGISTRY

    if name not in REGISTRY:
        pytest.skip(f"API {name!r} is not registered", allow_module_level=True)
