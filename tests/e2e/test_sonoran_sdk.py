"""The official Sonoran.py SDK (PyPI `sonoran-py`, the document's `pip install Sonoran.py`),
unmodified, against a live mock: only `cadApiUrl` changes.

What the SDK does (sonoran/managers/cad.py, 0.1.25): `heartbeatV2(serverId, playerCount)` POSTs
`{"playerCount": n}` to `<cadApiUrl>/v2/general/servers/<id>/heartbeat` with
`Authorization: Bearer <apiKey>`, `Accept` and `Content-Type: application/json`; any 2xx is
`success=True, data=<parsed body>`, any other status `success=False, reason=<parsed body>`; a
429 is retried up to twice after `time.sleep(min(Retry-After, 10))` seconds. The SDK's sleep is
replaced by one that records the seconds and advances the mock clock by them, so the retries
see exactly the time they would have waited, without waiting.
"""

from __future__ import annotations

import httpx
import pytest
from sonoran import Instance, productEnums
from sonoran.managers import cad as sdk_cad

T0 = "2026-04-08T21:35:00Z"


class MockClockSleep:
    """Stands in for the `time` module inside the SDK's CAD manager."""

    def __init__(self, control: httpx.Client) -> None:
        self.control = control
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.control.post("/__mock/clock/advance", json={"seconds": seconds}).raise_for_status()


@pytest.fixture
def sdk_sleep(http, monkeypatch):
    sleeper = MockClockSleep(http)
    monkeypatch.setattr(sdk_cad, "time", sleeper)
    return sleeper


def instance(url: str, api_key: str = "YOUR_API_KEY") -> Instance:
    return Instance(
        apiKey=api_key,
        communityId="YOUR_COMMUNITY_ID",
        product=productEnums.CAD,
        serverId=1,
        cadApiUrl=url,
    )


def freeze(http, at=T0):
    http.post("/__mock/clock/set", json={"now": at, "frozen": True}).raise_for_status()


def test_sdk_heartbeat_succeeds_with_the_documented_data(http, live_server, sdk_sleep):
    freeze(http)
    response = instance(live_server.url).cad.heartbeatV2(1, 64)
    assert response.success is True
    assert response.data == {"serverId": 1, "playerCount": 64, "receivedAtUtc": T0}
    assert response.reason is None
    assert sdk_sleep.slept == []


def test_sdk_request_is_valid_and_recorded(http, live_server, sdk_sleep):
    instance(live_server.url).cad.heartbeatV2(1, 64)
    entries = http.get("/__mock/requests", params={"api": "sonoran"}).json()["requests"]
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["method"], entry["path"], entry["status"], entry["valid"]) == (
        "POST",
        "/v2/general/servers/1/heartbeat",
        200,
        True,
    )
    headers = entry["request"]["headers"]
    assert headers["authorization"] == "Bearer YOUR_A***"
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"
    listed = http.get("/__mock/sonoran/servers").json()["servers"]
    assert [(s["serverId"], s["playerCount"]) for s in listed] == [(1, 64)]


def test_sdk_eleventh_call_in_a_minute_fails_with_the_mock_reason_after_its_retries(
    http, live_server, sdk_sleep
):
    freeze(http)
    cad = instance(live_server.url).cad
    for _ in range(10):
        assert cad.heartbeatV2(1, 64).success is True
    response = cad.heartbeatV2(1, 64)
    # The mock said Retry-After 60, then 50, then 40; the SDK sleeps at most 10 s, twice.
    assert sdk_sleep.slept == [10.0, 10.0]
    assert response.success is False
    assert response.data is None
    assert response.reason == {
        "error": "RATE_LIMITED",
        "message": "rate limit of 10 requests per minute exceeded for this API key; "
        "retry in 40 seconds",
        "retryAfter": 40,
    }
    statuses = [
        e["status"]
        for e in http.get("/__mock/requests", params={"api": "sonoran"}).json()["requests"]
    ]
    assert statuses == [200] * 10 + [429] * 3


def test_sdk_retry_after_a_short_wait_gets_the_heartbeat_in(http, live_server, sdk_sleep):
    freeze(http)
    cad = instance(live_server.url).cad
    for _ in range(10):
        assert cad.heartbeatV2(1, 64).success is True
    http.post("/__mock/clock/advance", json={"seconds": 55}).raise_for_status()
    response = cad.heartbeatV2(1, 30)
    assert sdk_sleep.slept == [5.0]  # the mock's Retry-After: the first slot frees at T0 + 60
    assert response.success is True
    assert response.data == {
        "serverId": 1,
        "playerCount": 30,
        "receivedAtUtc": "2026-04-08T21:36:00Z",
    }


def test_sdk_bad_player_count_fails_with_the_validation_reason(http, live_server, sdk_sleep):
    response = instance(live_server.url).cad.heartbeatV2(1, -5)
    assert response.success is False
    assert response.reason["error"] == "INVALID_REQUEST"
    assert [e["key"] for e in response.reason["errors"]] == ["playerCount"]
    assert sdk_sleep.slept == []


def test_sdk_with_a_key_the_mock_does_not_accept_fails_with_401_reason(make_server, monkeypatch):
    server = make_server(api_settings={"sonoran": {"api_keys": ["community-key"]}})
    with httpx.Client(base_url=server.url) as control:
        sleeper = MockClockSleep(control)
        monkeypatch.setattr(sdk_cad, "time", sleeper)
        assert instance(server.url, "community-key").cad.heartbeatV2(2, 8).success is True
        response = instance(server.url, "wrong-key").cad.heartbeatV2(2, 8)
        assert response.success is False
        assert response.reason["error"] == "UNAUTHORIZED"
        assert sleeper.slept == []
