"""collect (seed 001): POST /api/systems/heartbeat with HTTP Basic.

Stateful, against a mock: the heartbeat's 200 links to the control API's
GET /__mock/collect/systems/{system_id} (the system the mock now holds as alive).
"""

from __future__ import annotations

from mockserver.contract.suite import ContractProfile, ContractSuite, ControlLink, require_api

require_api("collect")

PROFILE = ContractProfile(
    api="collect",
    mock_credential="contract:contract-pass",
    # Pinned, so the mock refuses every other user (schemathesis's ignored_auth check); by
    # default it takes any well-formed user:password so that unmodified clients work.
    mock_settings={"users": {"contract": "contract-pass"}},
    control_links=(
        ControlLink(
            source="collect_heartbeat",
            status="200",
            target="collect_get_system",
            parameters={"system_id": "$response.body#/data/system_id"},
        ),
    ),
)

suite = ContractSuite(PROFILE)
contract_target = suite.target_fixture()
test_collect_operations = suite.operations_test()
TestCollectStateful = suite.stateful_test()
test_collect_every_operation_succeeded = suite.success_test()
