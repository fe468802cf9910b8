"""Every MockClient call over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from mockserver.client import MockClient, MockClientError

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
BODY = {
    "token": TOKEN,
    "data": {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"},
}


@pytest.fixture
def client(live_server):
    with MockClient(live_server.url) as c:
        c.reset()
        yield c


def test_health_and_reset(client):
    assert client.health()["status"] == "ok"
    assert "statusbadge" in client.reset()["reset"]
    assert client.reset("statusbadge")["reset"] == ["statusbadge"]


def test_clock_calls(client):
    assert client.freeze()["frozen"] is True
    before = client.clock()["epoch"]
    assert client.advance(60)["epoch"] == pytest.approx(before + 60)
    assert client.set_clock("2031-05-06T07:08:09Z")["now"].startswith("2031-05-06T07:08:09")
    assert client.set_clock("2031-05-06T07:08:09Z", frozen=False)["frozen"] is False
    assert client.unfreeze()["frozen"] is False


def test_requests_filters_and_clear(client):
    httpx.post(client.url + "/api/heartbeat", json=BODY)
    httpx.post(client.url + "/api/heartbeat", json={})
    assert len(client.requests()) == 2
    assert [e["status"] for e in client.requests(valid=False)] == [400]
    assert [e["status"] for e in client.requests(status=200, api="statusbadge")] == [200]
    assert client.requests(since="2999-01-01T00:00:00Z") == []
    client.clear_requests()
    assert client.requests() == []


def test_requests_reads_every_page(client):
    for _ in range(23):
        httpx.post(client.url + "/api/heartbeat", json=BODY)
    httpx.post(client.url + "/api/heartbeat", json={})
    assert [e["id"] for e in client.requests(page_size=5)] == list(range(1, 25))
    assert [e["status"] for e in client.requests(valid=False, page_size=2)] == [400]
    page = client.requests_page(limit=10)
    assert page["count"] == 10 and page["next_after"] == 10
    assert [e["id"] for e in client.iter_requests(after=20, page_size=3)] == [21, 22, 23, 24]


def test_report_json_and_text(client):
    httpx.post(client.url + "/api/heartbeat", json=BODY)
    assert client.report()["apis"]["statusbadge"]["requests"] == 1
    assert client.report(api="statusbadge")["apis"].keys() == {"statusbadge"}
    assert "statusbadge: 1 request," in client.report_text()


def test_fault_calls(client):
    fault = client.add_fault("statusbadge", status=500, times=3)
    assert [f["id"] for f in client.faults()] == [fault["id"]]
    assert client.faults(api="statusbadge")[0]["remaining"] == 3
    client.delete_fault(fault["id"])
    client.add_fault("statusbadge", delay_ms=1)
    client.clear_faults()
    assert client.faults() == []


def test_per_api_calls(client):
    httpx.post(client.url + "/api/heartbeat", json=BODY)
    assert client.statusbadge.servers()[0]["publicId"] == "srv_pub_a3a9e1ed9732"
    assert client.statusbadge.server("srv_pub_a3a9e1ed9732")["online"] is True


def test_non_2xx_raises_a_clear_error(client):
    with pytest.raises(MockClientError) as info:
        client.statusbadge.server("srv_pub_000000000000")
    assert info.value.status == 404 and "not_found" in str(info.value)
    with pytest.raises(MockClientError, match="400"):
        client.advance(-1)


def test_unknown_api_attribute(client):
    with pytest.raises(AttributeError, match="no attribute or API 'nope'"):
        client.nope  # noqa: B018


def test_sonoran_calls(client):
    httpx.post(
        client.url + "/v2/general/servers/3/heartbeat",
        json={"playerCount": 5},
        headers={"Authorization": "Bearer key-abcdef"},
    )
    (server,) = client.sonoran.servers()
    assert server["serverId"] == 3 and server["playerCount"] == 5


def test_collect_calls(client):
    httpx.post(client.url + "/api/systems/heartbeat", json={"system_id": "sys-1"}, auth=("u", "p"))
    assert client.collect.systems()[0]["system_id"] == "sys-1"
    assert client.collect.system("sys-1")["alive"] is True
    client.collect.arm_external_error(times=1)
    assert client.collect.external_errors()
    r = httpx.post(
        client.url + "/api/systems/heartbeat", json={"system_id": "sys-1"}, auth=("u", "p")
    )
    assert r.json()["data"]["type"] == "external_api_error"
    client.collect.clear_external_errors()


def test_playwave_calls(client):
    sid = client.playwave.create_session("123", pc_id="pc-1")["game_session_id"]
    assert [s["game_session_id"] for s in client.playwave.sessions(pc_id="pc-1")] == [sid]
    assert client.playwave.session(sid)["status"] == "active"
    client.playwave.stop_launcher("pc-1")
    assert client.playwave.launcher("pc-1")["alive"] is False
    client.playwave.start_launcher("pc-1")
    client.playwave.launcher_heartbeat("pc-1")
    client.playwave.exhaust(sid)
    assert client.playwave.session(sid)["exhausted_at"] is not None
    client.playwave.end(sid)
    assert client.playwave.session(sid)["end_requested_at"] is not None


def test_lucit_calls(client):
    queued = client.lucit.queue("LCUID-LD-1", "reload", parameters=[], run_at=None)
    assert queued["status"] == 0
    assert client.lucit.device("LCUID-LD-1")["instructions"][0]["lcuid"] == queued["lcuid"]
    assert client.lucit.ack(queued["lcuid"])["status"] == 2
    assert client.lucit.devices()
