"""The stateful contract test: schemathesis's state machine along the spec's OpenAPI links
(and, against a mock, the profile's control links), wired to a `ContractSuite`.

Only one condition may turn it into a skip: schemathesis finds no link because the schema
declares none (sonoran's spec, or a vendor spec whose links all start in the control API when the
target is the real service). Anything else while building the machine, schemathesis's
`NoLinksFound` for a schema that does declare links included, fails the test.
"""

from __future__ import annotations

import unittest
from typing import TYPE_CHECKING

import hypothesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.errors import NoLinksFound

from mockserver.contract.specs import declares_links

if TYPE_CHECKING:
    from mockserver.contract.suite import ContractSuite

__all__ = ["STATEFUL_STEPS", "check", "operation_id", "stateful_test"]

STATEFUL_STEPS = 6


def check(name: str):
    """A schemathesis check by name (an unknown name raises)."""
    load_all_checks()
    return CHECKS.get_one(name)


def operation_id(case) -> str | None:
    return case.operation.definition.raw.get("operationId")


def stateful_test(suite: ContractSuite) -> type[unittest.TestCase]:
    """The state machine's TestCase for `suite`, or a skipped TestCase when the schema declares
    no link to follow."""
    joined = bool(suite.profile.control_links) and suite.has_control
    schema = suite.joined_schema if joined else suite.schema
    spec = suite.joined_spec if joined else suite.spec
    try:
        machine = schema.as_state_machine()
        machine()  # raises NoLinksFound when there is no link to follow
    except NoLinksFound:
        if declares_links(spec):
            raise  # the spec has links schemathesis cannot use: a broken suite, not a skip
        return _skipped(suite.api, f"{suite.api}: the schema declares no OpenAPI links to follow")
    test_case = _links_machine(suite, machine, joined).TestCase
    test_case.settings = hypothesis.settings(
        test_case.settings,
        max_examples=suite.target.stateful_examples,
        stateful_step_count=STATEFUL_STEPS,
        derandomize=suite.target.seed is None,
        database=None,
        deadline=None,
    )
    test_case.__name__ = test_case.__qualname__ = f"Test{suite.api.title()}Stateful"
    return test_case


def _skipped(api: str, reason: str) -> type[unittest.TestCase]:
    @unittest.skip(reason)
    class NoLinks(unittest.TestCase):
        def runTest(self):
            pass

    NoLinks.__name__ = NoLinks.__qualname__ = f"Test{api.title()}Stateful"
    return NoLinks


def _links_machine(suite: ContractSuite, machine: type, joined: bool) -> type:
    """`machine` with the suite's hooks: credentials into bodies, the target's base URL, the
    statuses each operation and link answered, and every check except the profile's exclusions
    (control operations are setup steps: only `not_a_server_error`)."""
    control_ops = suite.control_operations if joined else set()
    suite.expected_links = {
        link.full_name
        for transitions in machine._transitions.operations.values()
        for link in transitions.outgoing
    }

    class Links(machine):  # type: ignore[misc, valid-type]
        def setup(self):
            suite.stateful_ran = True

        def step(self, input):
            output = super().step(input)
            if input.transition is not None and input.is_applied:
                suite.links[input.transition.id][output.response.status_code] += 1
            return output

        def before_call(self, case):
            suite.prepare(case)

        def get_call_kwargs(self, case):
            return {"base_url": suite.base_url(joined)}

        def after_call(self, response, case):
            super().after_call(response, case)
            if operation_id(case) not in control_ops:
                suite.record(case, response)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            op = operation_id(case)
            if op in control_ops:
                case.validate_response(response, checks=[check("not_a_server_error")])
                return
            case.validate_response(
                response,
                headers=suite.request_headers or None,
                excluded_checks=suite.excluded_checks(op, stateful=True),
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    if suite.target.seed is not None:
        Links = hypothesis.seed(suite.target.seed)(Links)  # noqa: N806 - as schemathesis does
    return Links
