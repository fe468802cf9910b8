"""The named scenarios (mockserver/scenarios/library): each runs by name over real HTTP on both
stores and produces the answers its vendor document gives; `serve --scenario` starts one."""

from __future__ import annotations

import httpx
import pytest

from mockserver.chaos import draw
from mockserver.scenarios import library_names
from tests.conftest import advance, redis_url
from tests.multiworker import WorkerServer

T0 = "2026-04-08T21:35:00Z"
BADGE = {
    "token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
    "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"},
}
PW_SESSION = "gs_550e8400-e29b-41d4-a716-446655440000"
LUCIT = "/api/v3/analytics/lightning-devices/LCUID-LD-burst/heartbeat"
LUCIT_HEADERS = {
    "Authorization": "Bearer tok-lucit",
    "AppIdV3": "LCUID-LAP-5c43c6e0-e03d-45ff-92b1-1bd05122dcb3",
}


@pytest.fixture
def frozen(http):
    http.post("/__mock/clock/set", json={"now": T0, "frozen": True})
    return http


def run(http, name: str, **vars_) -> dict:
    body = {"name": name, **({"vars": vars_} if vars_ else {})}
    r = http.post("/__mock/scenarios", json=body)
    assert r.status_code == 201, r.text
    assert [s["state"] for s in r.json()["steps"]] == ["done"] * len(r.json()["steps"])
    return r.json()


def pw_beat(http, sid=PW_SESSION) -> httpx.Response:
    body = {"game_session_id": sid, "provider_user_id": "123456789"}
    return http.patch("/v1/game/session/heartbeat", json=body, headers={"X-Api-Key": "k"})


def pw_seed(http, **fields) -> None:
    body = {"provider_user_id": "123456789", "game_session_id": PW_SESSION, **fields}
    assert http.post("/__mock/playwave/sessions", json=body).status_code == 201


def test_the_library_is_listed(frozen):
    named = frozen.get("/__mock/scenarios").json()["named"]
    assert named == library_names() and len(named) == 6


def test_playwave_launcher_crash_ends_the_session_after_four_minutes(frozen):
    pw_seed(frozen, pc_id="pc-7")
    run(frozen, "playwave-launcher-crash", pc_id="pc-7")
    assert pw_beat(frozen).json()["data"]["result"] == "OK"
    advance(frozen, 120)
    assert pw_beat(frozen).json()["data"]["result"] == "OK"
    advance(frozen, 121)  # silent over 240 s: dead
    r = pw_beat(frozen)
    assert r.status_code == 410 and r.json()["error"]["code"] == "SESSION_ENDED"


def test_playwave_charge_exhausted_gives_two_minutes_grace_then_ends(frozen):
    pw_seed(frozen)
    run(frozen, "playwave-charge-exhausted")
    assert pw_beat(frozen).json()["data"]["result"] == "CHARGE_EXHAUSTED"
    advance(frozen, 120)
    assert pw_beat(frozen).json()["data"]["result"] == "CHARGE_EXHAUSTED"
    advance(frozen, 1)
    r = pw_beat(frozen)
    assert r.status_code == 410 and r.json()["error"]["code"] == "SESSION_ENDED"


def test_sonoran_rate_limit_storm_is_seeded_and_passes_after_two_minutes(frozen):
    def beat(n: int) -> httpx.Response:  # a key each: the real limiter stays out of it
        headers = {"Authorization": f"Bearer key-{n}"}
        return frozen.post(
            "/v2/general/servers/1/heartbeat", json={"playerCount": 1}, headers=headers
        )

    run(frozen, "sonoran-rate-limit-storm")
    answers = [beat(n) for n in range(1, 21)]
    limited = [n for n, r in zip(range(1, 21), answers, strict=True) if r.status_code == 429]
    assert limited == [n for n in range(1, 21) if draw(21, n, "fire") < 0.7]
    storm = answers[limited[0] - 1]
    assert storm.headers["retry-after"] == "30"
    assert storm.json()["error"] == "RATE_LIMITED" and storm.json()["retryAfter"] == 30
    advance(frozen, 120)
    assert [beat(n).status_code for n in range(21, 26)] == [200] * 5


def test_statusbadge_kv_outage_is_503_for_two_minutes(frozen):
    run(frozen, "statusbadge-kv-outage")
    r = frozen.post("/api/heartbeat", json=BADGE)
    assert r.status_code == 503 and r.json()["error"] == "Service Unavailable"
    advance(frozen, 119)
    assert frozen.post("/api/heartbeat", json=BADGE).status_code == 503
    advance(frozen, 1)
    assert frozen.post("/api/heartbeat", json=BADGE).status_code == 200


def test_collect_external_api_error_burst_fails_three_heartbeats(frozen):
    run(frozen, "collect-external-api-error-burst")
    body, auth = {"system_id": "4cf3053f-d0d5-4b10-b752-ff8f7b63c2f7"}, ("username", "password")
    answers = [frozen.post("/api/systems/heartbeat", json=body, auth=auth) for _ in range(4)]
    assert [r.status_code for r in answers] == [400, 400, 400, 200]
    assert answers[0].json()["data"]["type"] == "external_api_error"
    assert answers[0].json()["code"] == 400


def test_lucit_instruction_burst_delivers_each_at_its_run_at(frozen):
    run(frozen, "lucit-instruction-burst", lcuid="LCUID-LD-burst")

    def delivered():
        body = {"lightning_version": "2.4.1"}
        r = frozen.post(LUCIT, json=body, headers=LUCIT_HEADERS)
        assert r.status_code == 200, r.text
        return r.json()["lightning_device_remote_instruction"]

    assert delivered() is None
    seen = []
    for _ in range(3):
        advance(frozen, 60)
        got = delivered()
        seen.append((got["instruction"], got["run_at"], got["status"]))
        assert delivered() is None
    assert seen == [
        ("reload", "2026-04-08T21:36:00.000000Z", 1),
        ("screenshot", "2026-04-08T21:37:00.000000Z", 1),
        ("restart", "2026-04-08T21:38:00.000000Z", 1),
    ]


def test_a_library_scenario_refuses_unknown_vars(frozen):
    r = frozen.post(
        "/__mock/scenarios", json={"name": "playwave-launcher-crash", "vars": {"x": "1"}}
    )
    assert r.status_code == 400
    assert frozen.get("/__mock/scenarios").json()["scenarios"] == []


def test_serve_scenario_starts_a_named_one_at_start_up(store_kind, request):
    args = ["--scenario", "statusbadge-kv-outage"]
    workers = 1
    if store_kind == "redis":
        args += ["--store", redis_url(request.getfixturevalue("redis_server"))]
        workers = 2
    with WorkerServer(*args, workers=workers) as server:
        with httpx.Client(base_url=server.url) as client:
            run_ = client.get("/__mock/scenarios").json()["scenarios"]
            assert [r["name"] for r in run_] == ["statusbadge-kv-outage"]
            assert client.post("/api/heartbeat", json=BADGE).status_code == 503
            advance(client, 120)
            assert client.post("/api/heartbeat", json=BADGE).status_code == 200


def test_serve_scenario_file_with_a_bad_step_refuses_to_start(tmp_path, repo_root):
    import subprocess
    import sys

    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"name": "x", "steps": [{"at_seconds": 0, "method": "POST", "path": "/__mock/x"}]}'
    )
    cmd = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--scenario", str(bad)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=repo_root)
    assert done.returncode != 0 and "is no control route" in done.stderr
