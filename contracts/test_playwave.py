"""playwave (seed 002): PATCH /v1/game/session/heartbeat with the X-Api-Key header.

Sessions come from PlayWave's verify endpoint, which the document does not describe, so a
heartbeat with a generated session id is always 404 SESSION_NOT_FOUND. Against a mock the
stateful test creates sessions through the control API (POST /__mock/playwave/sessions) and
links them into the heartbeat's body; against the real service only the error paths are reached.
"""

from __future__ import annotations

from mockserver.contract.suite import ContractProfile, ContractSuite, ControlLink, require_api

require_api("playwave")

PROFILE = ContractProfile(
    api="playwave",
    mock_credential="contract-game-key",
    # Pinned, so the mock refuses every other key (schemathesis's ignored_auth check); by default
    # it takes any non-empty key so that unmodified clients work.
    mock_settings={"api_keys": ["contract-game-key"]},
    control_links=(
        ControlLink(
            source="playwave_create_session",
            status="201",
            target="playwave_heartbeat",
            request_body={
                "game_session_id": "$response.body#/game_session_id",
                "provider_user_id": "$response.body#/provider_user_id",
            },
        ),
    ),
    success_needs_control={
        "playwave_heartbeat": "a live session comes from PlayWave's verify endpoint, which the "
        "suite cannot call; against a mock the control API creates one",
    },
)

suite = ContractSuite(PROFILE)
contract_target = suite.target_fixture()
test_playwave_operations = suite.operations_test()
TestPlaywaveStateful = suite.stateful_test()
test_playwave_every_operation_succeeded = suite.success_test()
