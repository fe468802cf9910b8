"""sonoran (seed 000): POST /v2/general/servers/{serverId}/heartbeat with a Bearer API key.

No state to chain (the heartbeat stores nothing a later call reads), so no stateful test. The
documented rate limit (10 requests per minute per key) would turn the fuzzing run into 429s, so
the suite's mock turns it off and a test of its own checks the 429 against the spec.
Real runs: schemathesis sends at most 9 requests a minute (`real_rate_limit`), so keep
--max-examples small; the key's quota is shared with anything else using it.
"""

from __future__ import annotations

from mockserver.contract.suite import ContractProfile, ContractSuite, require_api

require_api("sonoran")

PROFILE = ContractProfile(
    api="sonoran",
    mock_credential="contract-test-key",
    # Pinned, so the mock refuses every other key (schemathesis's ignored_auth check); by default
    # it takes any well-formed key so that unmodified clients work.
    mock_settings={"api_keys": ["contract-test-key"], "rate_limit_per_minute": 0},
    real_rate_limit="9/m",
)

suite = ContractSuite(PROFILE)
contract_target = suite.target_fixture()
test_sonoran_operations = suite.operations_test()
TestSonoranStateful = suite.stateful_test()


def test_sonoran_rate_limit_answer_conforms():
    """000: 10 requests per minute per key; the 11th gets a 429 that passes every check."""
    case = suite.draw_case("sonoran_heartbeat")
    with suite.own_mock(api_keys=["contract-test-key"], rate_limit_per_minute=10) as base_url:
        statuses = [suite.run_case(case, base_url=base_url).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]


test_sonoran_every_operation_succeeded = suite.success_test()
