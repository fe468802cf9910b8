"""statusbadge (seed 004): heartbeat, badge and status; no auth header (the token is in the body).

Stateful: the heartbeat's 200 links to GET /api/status/{publicId} and /api/badge/{publicId}
(specs/statusbadge.yaml), so the state machine reads back what it just stored.
"""

from __future__ import annotations

from mockserver.contract.suite import ContractProfile, ContractSuite

PROFILE = ContractProfile(
    api="statusbadge",
    # The mock accepts any `sk_live_<uuid v4>` token, which is what schemathesis generates; a
    # real deployment may know only its own servers' tokens: pass one with --auth.
    body_credential="token",
    never_succeeds={},
)

suite = ContractSuite(PROFILE)
contract_target = suite.target_fixture()
test_statusbadge_operations = suite.operations_test()
TestStatusbadgeStateful = suite.stateful_test()
test_statusbadge_every_operation_succeeded = suite.success_test()
