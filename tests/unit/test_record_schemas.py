"""Each API's `record_schemas` (what a restored snapshot may hold) against the records its real
handlers write: traffic through the app in process reaches every namespace and every optional
field, the snapshot of it passes the schemas, and a record with a field wrong is refused."""

from __future__ import annotations

import asyncio
import base64
import copy

import pytest
from starlette.testclient import TestClient

from mockserver.apis import api_class, api_names
from mockserver.app import build_app
from mockserver.snapshot import SnapshotError, Snapshots
from tests.conftest import seed_body, test_settings

LCUID = "LCUID-LD-550e8400-e29b-41d4-a716-446655440000"
APP_ID = "LCUID-LAP-550e8400-e29b-41d4-a716-446655440000"
SID = "gs_550e8400-e29b-41d4-a716-446655440000"


def traffic(c: TestClient) -> None:
    """Every kind of record, with every optional field set somewhere."""
    ok = [
        c.post("/api/heartbeat", json=seed_body("statusbadge")),
        c.post(
            "/v2/general/servers/1/heartbeat",
            json={"playerCount": 3},
            headers={"Authorization": "Bearer key-abcdef123"},
        ),
        c.post(
            "/api/systems/heartbeat",
            json=seed_body("collect"),
            headers={"Authorization": "Basic " + base64.b64encode(b"agent:s3cret").decode()},
        ),
        c.post("/__mock/collect/external-errors", json={"times": 2, "details": {"a": 1}}),
        c.post(f"/__mock/lucit/devices/{LCUID}/instructions", json={"instruction": "reboot"}),
        c.post(
            f"/__mock/lucit/devices/{LCUID}/instructions",
            json={"instruction": "later", "parameters": [1], "run_at": "2099-01-01T00:00:00Z"},
        ),
        c.post(
            f"/api/v3/analytics/lightning-devices/{LCUID}/heartbeat",
            json={"lightning_version": "2.4.1", "device_info": ["model X"]},
            headers={"Authorization": "Bearer tok-123456", "AppIdV3": APP_ID},
        ),
        c.post(
            "/__mock/playwave/sessions",
            json={
                "provider_user_id": "123456789",
                "game_session_id": SID,
                "pc_id": "pc-1",
                "game_api_key": "gamekey-12345",
                "balance_sec": 60,
            },
        ),
        c.patch(
            "/v1/game/session/heartbeat",
            json=seed_body("playwave"),
            headers={"X-Api-Key": "gamekey-12345"},
        ),
        c.post(f"/__mock/playwave/sessions/{SID}/end"),
        c.post("/__mock/playwave/launchers/pc-1/stop"),
    ]
    for r in ok:
        assert r.status_code < 300, r.text
    instruction = c.get(f"/__mock/lucit/devices/{LCUID}").json()["instructions"][0]["lcuid"]
    assert c.post(f"/__mock/lucit/instructions/{instruction}/ack").status_code == 200


@pytest.fixture(scope="module")
def taken():
    app = build_app(test_settings())
    with TestClient(app) as client:
        traffic(client)
    snapshots = Snapshots(app.ctx.store, app.ctx.clock, app.ctx.apis)
    return snapshots, asyncio.run(snapshots.take())


def test_every_api_declares_its_record_schemas():
    for name in api_names():
        assert api_class(name).record_schemas, name


def test_the_traffic_reaches_every_declared_namespace(taken):
    _, doc = taken
    for name in api_names():
        assert set(doc["apis"][name]) == set(api_class(name).record_schemas), name


def test_records_the_handlers_write_pass_their_schemas(taken):
    snapshots, doc = taken
    snapshots.check(doc)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda rec, name: rec.pop(name), id="required-member-missing"),
        pytest.param(lambda rec, name: rec.__setitem__(name, {"x": []}), id="wrong-type"),
        pytest.param(lambda rec, name: rec.__setitem__("zz_unknown", 1), id="unknown-member"),
    ],
)
def test_a_damaged_record_is_refused(taken, damage):
    snapshots, doc = taken
    for api, spaces in doc["apis"].items():
        for ns, records in spaces.items():
            key = next(iter(records))
            schema = api_class(api).record_schemas[ns]
            broken = copy.deepcopy(doc)
            record = broken["apis"][api][ns][key]
            damage(record, schema["required"][0])
            with pytest.raises(SnapshotError) as caught:
                snapshots.check(broken)
            assert caught.value.field.startswith(f"apis.{api}.{ns}.{key}"), (api, ns)


def test_a_time_the_clock_cannot_show_is_refused(taken):
    snapshots, doc = taken
    broken = copy.deepcopy(doc)
    record = next(iter(broken["apis"]["statusbadge"]["servers"].values()))
    record["timestamp"] = 1e300
    with pytest.raises(SnapshotError):
        snapshots.check(broken)
