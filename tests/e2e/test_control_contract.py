"""schemathesis with every check against the control API (issue 23): specs/control.yaml and each
API's control spec (specs/control/<api>.yaml), against a live mock on each store.

The vendor specs have their suites in contracts/; the control API is the mock's own design, so
its spec is held to the same standard here: every status it sends is in the spec, every body
matches its schema and media type, schema-valid input is accepted, invalid input is refused.
Examples, coverage and fuzzing phases, deterministic, a bounded number of cases per operation.
"""

from __future__ import annotations

import copy

import pytest
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config._health_check import HealthCheck as SchemathesisHealthCheck

from mockserver.spec.loader import base_path, load_spec, spec_files

MAX_EXAMPLES = 10
CONTROL_SPECS = [n for n in spec_files() if n == "control.yaml" or n.startswith("control/")]

# (spec, operationId) -> checks not run for it, each with the reason it is a false positive.
EXCLUDED: dict[tuple[str, str], dict[str, str]] = {
    ("control.yaml", "control_clock_set"): {
        "positive_data_acceptance": (
            "`now` is a string the schema cannot narrow to what it must be: an ISO-8601 instant "
            "on a real calendar day, within 1970..9000 once its offset is applied "
            "(specs/control.yaml says so in words). Any other string is refused with 400, "
            "which this check reads as a schema-valid request rejected."
        ),
    },
    ("control.yaml", "control_faults_add"): {
        "positive_data_acceptance": (
            "A fault rule is checked against the running mock (its API enabled, its operation one "
            "of that API's operationIds, header names tokens, no framing headers, no body on "
            "204/205/304: specs/control.yaml says so in words); OpenAPI 3.0 can say none of "
            "that (no propertyNames, no if/then), so a rule the schema allows is refused with 400."
        ),
    },
    ("control.yaml", "control_scenarios_start"): {
        "positive_data_acceptance": (
            "Each step must name a control route of the running mock (its method and path, "
            "and a body that route accepts); the schema can only say a step has a method and a "
            "path, so a step the schema allows is refused with 400 naming the step."
        ),
    },
    ("control.yaml", "control_requests"): {
        "positive_data_acceptance": (
            "`since` is the same kind of free-text ISO-8601 instant as clock/set's `now`: a "
            "string that is not one is refused with 400."
        ),
    },
    # A matcher's `since`/`until` are such instants too, and its `path_pattern` a string the
    # schema cannot narrow to a regular expression the mock's engine compiles.
    ("control.yaml", "control_requests_count"): {
        "positive_data_acceptance": "a matcher's since, until and path_pattern (see above)",
    },
    ("control.yaml", "control_verify"): {
        "positive_data_acceptance": "a matcher's since, until and path_pattern (see above)",
    },
    ("control.yaml", "control_state_restore"): {
        "positive_data_acceptance": (
            "a snapshot's records must be the enabled APIs' and pass each API's record schemas "
            "(mockserver/apis/<api>/records.py), which control.yaml, naming no API, cannot say"
        ),
    },
}


def _check(name: str):
    load_all_checks()
    return CHECKS.get_one(name)


def _schema(name: str):
    schema = schemathesis.openapi.from_dict(
        copy.deepcopy(load_spec(name)), config=schemathesis.Config()
    )
    schema.config.update(suppress_health_check=[SchemathesisHealthCheck.all])
    schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    return schema


def _contract_test(name: str):
    schema = _schema(name)
    mount = base_path(load_spec(name))

    @schema.parametrize()
    def test(case, live_server):
        base_url = live_server.url + mount
        response = case.call(base_url=base_url)
        op = case.operation.definition.raw.get("operationId")
        excluded = [_check(c) for c in EXCLUDED.get((name, op), {})]
        case.validate_response(
            response, excluded_checks=excluded, transport_kwargs={"base_url": base_url}
        )

    test.__name__ = "test_" + name.replace("/", "_").removesuffix(".yaml") + "_contract"
    return test


def test_every_control_spec_has_a_contract_test():
    tested = {n.removeprefix("test_").removesuffix("_contract") for n in globals()}
    assert {n.replace("/", "_").removesuffix(".yaml") for n in CONTROL_SPECS} <= tested


def test_every_exclusion_names_a_real_check_and_operation():
    for (name, op), checks in EXCLUDED.items():
        ops = {
            o.get("operationId")
            for item in load_spec(name)["paths"].values()
            for o in item.values()
            if isinstance(o, dict)
        }
        assert op in ops, (name, op)
        for check in checks:
            _check(check)


for _name in CONTROL_SPECS:
    _test = _contract_test(_name)
    globals()[_test.__name__] = _test
del _name, _test

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
