"""lucit (seed 003): POST /api/v3/analytics/lightning-devices/{lcuid}/heartbeat with a Bearer
token and the AppIdV3 header.

Stateful, against a mock: queueing an instruction through the control API
(POST /__mock/lucit/devices/{lcuid}/instructions) links to that device's heartbeat, which
delivers it. Real runs need --auth lucit=TOKEN and --header lucit:AppIdV3=LCUID-LAP-...
"""

from __future__ import annotations

from mockserver.contract.suite import ContractProfile, ContractSuite, ControlLink, require_api

require_api("lucit")

PROFILE = ContractProfile(
    api="lucit",
    mock_credential="contract-test-token",
    # Pinned, so the mock refuses every other token (schemathesis's ignored_auth check); by
    # default it takes any well-formed token so that unmodified clients work.
    mock_settings={"tokens": ["contract-test-token"]},
    control_links=(
        ControlLink(
            source="lucit_queue_instruction",
            status="201",
            target="lucit_heartbeat",
            parameters={"lcuid": "$response.body#/device_lcuid"},
        ),
    ),
)

suite = ContractSuite(PROFILE)
contract_target = suite.target_fixture()
test_lucit_operations = suite.operations_test()
TestLucitStateful = suite.stateful_test()
test_lucit_every_operation_succeeded = suite.success_test()
