"""MockClient's calls for driving the mock from tests (issue 18), over real HTTP on both stores:
count, verify, the journal's matcher filters, configure, snapshot and restore."""

from __future__ import annotations

import httpx
import pytest

from mockserver.client import MockClient, MockClientError
from tests.conftest import seed_body

KEY = "client-key-0123456789"


@pytest.fixture
def client(live_server):
    with MockClient(live_server.url) as c:
        c.reset()
        yield c


def beat(client: MockClient, players: int, key: str = KEY) -> httpx.Response:
    return httpx.post(
        f"{client.url}/v2/general/servers/7/heartbeat",
        json={"playerCount": players},
        headers={"Authorization": f"Bearer {key}", "X-Trace": f"t{players}"},
    )


def test_count_and_the_journal_filters(client):
    beat(client, 1)
    beat(client, 2)
    httpx.post(client.url + "/api/heartbeat", json=seed_body("statusbadge"))
    assert client.count() == 3
    assert client.count(api="sonoran", body={"playerCount": 2}) == 1
    assert client.count(method="POST", path_pattern=r"/v2/.*", status=200, fault=False) == 2
    (entry,) = client.requests(body={"playerCount": 2}, headers={"x-trace": "t2"})
    assert entry["request"]["body"] == {"playerCount": 2}
    assert [e["status"] for e in client.requests(api="sonoran", fault=False)] == [200, 200]
    assert client.requests(operation="statusbadge_heartbeat", until="2000-01-01T00:00:00Z") == []


def test_verify_returns_the_count_when_it_holds(client):
    beat(client, 1)
    assert client.verify(api="sonoran", count=1) == 1
    assert client.verify(api="sonoran", at_least=1, body={"playerCount": 1}) == 1
    assert client.verify(status=500, at_most=0) == 0


def test_a_failed_verify_raises_an_assertion_error_that_says_what_differed(client):
    beat(client, 3)
    with pytest.raises(AssertionError) as caught:
        client.verify(api="sonoran", body={"playerCount": 4}, count=1)
    message = str(caught.value)
    assert message.splitlines() == [
        'expected exactly 1 request matching api="sonoran", body={"playerCount": 4}, '
        "but 0 matched (1 in the journal)",
        "closest requests that did not match:",
        message.splitlines()[2],
        "      body.playerCount: expected 4, got 3",
    ]
    line = message.splitlines()[2]
    assert line.startswith("  #") and "POST /v2/general/servers/7/heartbeat -> 200" in line
    assert KEY not in message


def test_a_bad_matcher_is_a_client_error_not_an_assertion(client):
    with pytest.raises(MockClientError) as caught:
        client.verify(path_pattern="(", count=1)
    assert caught.value.status == 400
    with pytest.raises(MockClientError):
        client.count(api="nope")


def test_configure_settings_and_restore_settings(client):
    now = client.configure("sonoran", rate_limit_per_minute=1)
    assert now["rate_limit_per_minute"]["value"] == 1
    assert client.settings()["sonoran"]["rate_limit_per_minute"]["source"] == "runtime"
    assert [beat(client, 1).status_code, beat(client, 1).status_code] == [200, 429]
    with pytest.raises(MockClientError) as caught:
        client.configure("sonoran", rate_limit_per_minute="one")
    assert caught.value.status == 400
    client.restore_settings("sonoran")
    assert client.settings()["sonoran"]["rate_limit_per_minute"]["source"] == "default"
    client.configure("statusbadge", ttl_seconds=5)
    client.restore_settings()
    assert client.settings()["statusbadge"]["ttl_seconds"]["value"] == 300


def test_snapshot_and_restore(client):
    client.freeze()
    public_id = httpx.post(client.url + "/api/heartbeat", json=seed_body("statusbadge")).json()[
        "publicId"
    ]
    saved = client.snapshot()
    client.reset()
    assert client.statusbadge.servers() == []
    restored = client.restore(saved)
    assert restored["restored"]["statusbadge"] == {"servers": 1}
    assert client.statusbadge.server(public_id)["online"] is True
    with pytest.raises(MockClientError) as caught:
        client.restore({**saved, "format": 2})
    assert caught.value.status == 400
