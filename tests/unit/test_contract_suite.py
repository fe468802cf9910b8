"""The contract-suite builder: spec joining, credentials, the run's environment, and which
state-machine failures may skip the stateful test. (That every registered API has a contract
suite: tests/unit/test_registry.py.)"""

from __future__ import annotations

import base64
import importlib

import pytest
import yaml
from openapi_spec_validator import validate
from schemathesis.errors import NoLinksFound

from mockserver.apis import REGISTRY, api_class
from mockserver.contract.profile import ContractProfile, Exclusion, Target
from mockserver.contract.specs import (
    ControlLink,
    base_path,
    credential_headers,
    declares_links,
    join_specs,
)
from mockserver.contract.suite import ContractSuite
from mockserver.spec.loader import spec_path
from tests.redisproc import free_port


def load(path) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh)


def profile(api: str) -> ContractProfile:
    return importlib.import_module(f"contracts.test_{api}").PROFILE


@pytest.mark.parametrize("name", [n for n in REGISTRY if profile(n).control_links])
def test_joined_specs_with_control_links_are_valid_openapi(name):
    cls = api_class(name)
    native, control = load(spec_path(cls.spec)), load(spec_path(f"control/{cls.control_spec}"))
    links = profile(name).control_links
    joined = join_specs(native, control, f"/__mock/{name}", links)
    validate(joined)
    ops = {
        op["operationId"]: op
        for item in joined["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
    }
    for link in links:
        assert (
            ops[link.source]["responses"][link.status]["links"][f"{link.source}_to_{link.target}"][
                "operationId"
            ]
            == link.target
        )


def test_join_specs_mounts_paths_renames_control_components_keeps_only_linked_control_ops():
    native = {
        "openapi": "3.0.3",
        "info": {"title": "n", "version": "1"},
        "servers": [{"url": "https://vendor.example/api/v3"}],
        "security": [{"bearer": []}],
        "paths": {
            "/things/{id}/heartbeat": {
                "post": {
                    "operationId": "x_heartbeat",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {"Error": {"type": "object"}},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    control = {
        "paths": {
            "/things": {
                "post": {
                    "operationId": "x_create",
                    "responses": {
                        "201": {
                            "description": "made",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                            "links": {"Own": {"operationId": "x_list"}},
                        }
                    },
                },
                "get": {"operationId": "x_list", "responses": {"200": {"description": "all"}}},
            }
        },
        "components": {"schemas": {"Error": {"type": "string"}}},
    }
    link = ControlLink("x_create", "201", "x_heartbeat", parameters={"id": "$response.body#/id"})
    joined = join_specs(native, control, "/__mock/x", (link,))
    validate(joined)
    assert joined["servers"] == [{"url": "/"}]
    assert set(joined["paths"]) == {"/api/v3/things/{id}/heartbeat", "/__mock/x/things"}
    create = joined["paths"]["/__mock/x/things"]["post"]
    assert "get" not in joined["paths"]["/__mock/x/things"]  # not linked: left out
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/control_Error"
    }
    assert joined["components"]["schemas"]["Error"] == {
        "type": "object"
    }  # the vendor's is untouched
    assert joined["components"]["schemas"]["control_Error"] == {"type": "string"}
    assert create["responses"]["201"]["links"] == {
        "x_create_to_x_heartbeat": {
            "operationId": "x_heartbeat",
            "parameters": {"id": "$response.body#/id"},
        }
    }
    assert "security" not in joined  # the vendor's security applies to its operations only
    assert joined["paths"]["/api/v3/things/{id}/heartbeat"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in create


def test_base_path_is_the_first_servers_path():
    assert base_path({"servers": [{"url": "https://api.lucit.app/api/v3"}]}) == "/api/v3"
    assert base_path({"servers": [{"url": "https://api.sonorancad.com"}]}) == ""
    assert base_path({}) == ""


@pytest.mark.parametrize(
    ("scheme", "credential", "expected"),
    [
        (
            {"type": "http", "scheme": "basic"},
            "u:p",
            {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()},
        ),
        ({"type": "http", "scheme": "bearer"}, "tok", {"Authorization": "Bearer tok"}),
        ({"type": "apiKey", "in": "header", "name": "X-Api-Key"}, "key", {"X-Api-Key": "key"}),
    ],
)
def test_credentials_go_where_the_security_scheme_says(scheme, credential, expected):
    spec = {"components": {"securitySchemes": {"s": scheme}}}
    assert credential_headers(spec, credential) == expected


def test_an_api_without_a_security_scheme_gets_no_credential_header():
    assert credential_headers({}, "sk_live_x") == {}


def test_the_run_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("MOCKSERVER_CONTRACT_URL", "https://api.example/")
    monkeypatch.setenv("MOCKSERVER_CONTRACT_AUTH", '{"sonoran": "key"}')
    monkeypatch.setenv("MOCKSERVER_CONTRACT_HEADERS", '{"lucit": {"AppIdV3": "LCUID-LAP-x"}}')
    monkeypatch.setenv("MOCKSERVER_CONTRACT_SEED", "7")
    monkeypatch.setenv("MOCKSERVER_CONTRACT_MAX_EXAMPLES", "3")
    target = Target.from_env()
    assert target.url_for("sonoran") == "https://api.example"
    assert target.credentials == {"sonoran": "key"}
    assert target.headers == {"lucit": {"AppIdV3": "LCUID-LAP-x"}}
    assert (target.seed, target.max_examples) == (7, 3)


def test_per_api_urls_and_the_default_of_no_url(monkeypatch):
    for name in ("URL", "AUTH", "HEADERS", "SEED", "MAX_EXAMPLES"):
        monkeypatch.delenv(f"MOCKSERVER_CONTRACT_{name}", raising=False)
    assert Target.from_env().url_for("sonoran") is None
    monkeypatch.setenv("MOCKSERVER_CONTRACT_URL", '{"sonoran": "https://api.sonorancad.com"}')
    target = Target.from_env()
    assert target.url_for("sonoran") == "https://api.sonorancad.com"
    assert target.url_for("lucit") is None


def test_an_exclusion_applies_to_its_operations_and_phase():
    exclusion = Exclusion(
        "ensure_resource_availability", "why", operations=("a_op",), stateful_only=True
    )
    assert exclusion.applies("a_op", stateful=True)
    assert not exclusion.applies("a_op", stateful=False)
    assert not exclusion.applies("b_op", stateful=True)
    assert Exclusion("ignored_auth", "why").applies("anything", stateful=False)


# --- which state-machine failures may skip the stateful test ------------------------------------


def on_mock() -> Target:
    return Target(urls={}, credentials={}, headers={})


class RaisingSchema:
    """Stands in for a schemathesis schema whose state machine cannot be built."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def as_state_machine(self):
        raise self.exc


def test_a_spec_without_links_skips_the_stateful_test_and_says_why():
    # sonoran: no links in its spec and no control links (contracts/test_sonoran.py)
    test_case = ContractSuite(profile("sonoran"), on_mock()).stateful_test()
    assert test_case.__name__ == "TestSonoranStateful"
    assert test_case.__unittest_skip__ is True
    assert "no OpenAPI links" in test_case.__unittest_skip_why__


def test_against_the_real_service_control_links_are_left_out_and_the_test_skips():
    # lucit's only link starts in the mock's control API; a target without one (here nothing
    # listens: the probe fails) is the real service, so there is nothing to follow
    nowhere = Target(urls={"*": f"http://127.0.0.1:{free_port()}"}, credentials={}, headers={})
    suite = ContractSuite(profile("lucit"), nowhere)
    assert suite.has_control is False
    assert suite.stateful_test().__unittest_skip__ is True


def test_any_other_failure_building_the_state_machine_fails_the_test():
    suite = ContractSuite(profile("sonoran"), on_mock())
    suite.schema = RaisingSchema(RuntimeError("schemathesis broke"))
    with pytest.raises(RuntimeError, match="schemathesis broke"):
        suite.stateful_test()


def test_no_links_found_for_a_spec_that_declares_links_fails_the_test():
    # statusbadge's spec links its heartbeat to status and badge: schemathesis finding none of
    # them to follow (filtered out, or bodies it can't build) is a broken suite, not a skip.
    suite = ContractSuite(profile("statusbadge"), on_mock())
    suite.schema = RaisingSchema(NoLinksFound("All link definitions are excluded by filters"))
    with pytest.raises(NoLinksFound):
        suite.stateful_test()


def test_the_suites_own_specs_declare_links_where_the_profiles_expect_them():
    assert declares_links(load(spec_path("statusbadge.yaml")))
    assert not declares_links(load(spec_path("sonoran.yaml")))
    suite = ContractSuite(profile("lucit"), on_mock())
    assert not declares_links(suite.spec) and declares_links(suite.joined_spec)


@pytest.mark.parametrize("name", ["compiled", "connexion"])
def test_the_suites_own_mock_runs_the_engine_the_environment_names(monkeypatch, name):
    monkeypatch.setenv("MOCKSERVER_CONTRACT_ENGINE", name)
    server = ContractSuite(profile("statusbadge"))._start_mock()
    try:
        assert server.app.settings.engine == name
    finally:
        server.stop()
