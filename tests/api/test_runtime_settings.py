"""Runtime settings over real HTTP, on both stores: `GET /__mock/settings`, `PATCH
/__mock/settings/{api}` (in force from the next request, on every worker and host), and
`POST /__mock/reset` / `DELETE /__mock/settings` bringing the start-up settings back (issue 18)."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import seed_body

BEARER = {"Authorization": "Bearer sonoran-key-0123456789"}
LCUID = "LCUID-LD-550e8400-e29b-41d4-a716-446655440000"
LUCIT = {"Authorization": "Bearer tok-123456", "AppIdV3": "LCUID-LAP-" + LCUID[9:]}


def patch(http, api: str, **settings) -> httpx.Response:
    return http.patch(f"/__mock/settings/{api}", json=settings)


def sonoran(http, headers=BEARER) -> int:
    return http.post(
        "/v2/general/servers/1/heartbeat", json={"playerCount": 1}, headers=headers
    ).status_code


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_every_api_s_settings_with_default_and_source(http):
    apis = http.get("/__mock/settings").json()["apis"]
    assert set(apis) == {"statusbadge", "sonoran", "collect", "lucit", "playwave"}
    assert apis["sonoran"]["rate_limit_per_minute"] == {
        "value": 10,
        "default": 10,
        "source": "default",
    }
    assert apis["collect"]["users"] == {"value": None, "default": None, "source": "default"}


def test_a_change_holds_from_the_next_request(http):
    r = patch(http, "sonoran", rate_limit_per_minute=2)
    assert r.status_code == 200
    assert r.json()["rate_limit_per_minute"] == {"value": 2, "default": 10, "source": "runtime"}
    assert [sonoran(http) for _ in range(3)] == [200, 200, 429]
    setting = http.get("/__mock/settings").json()["apis"]["sonoran"]["rate_limit_per_minute"]
    assert setting["value"] == 2 and setting["source"] == "runtime"


PINS = [
    ("sonoran", {"api_keys": ["pinned-key-1"]}, BEARER, {"Authorization": "Bearer pinned-key-1"}),
    ("collect", {"users": {"agent": "s3cret"}}, basic("other", "pw"), basic("agent", "s3cret")),
    ("playwave", {"api_keys": ["key-1"]}, {"X-Api-Key": "other"}, {"X-Api-Key": "key-1"}),
    ("lucit", {"tokens": ["tok-pinned"]}, LUCIT, {**LUCIT, "Authorization": "Bearer tok-pinned"}),
]


@pytest.mark.parametrize(("api", "settings", "refused", "accepted"), PINS, ids=[p[0] for p in PINS])
def test_pinned_credentials_take_effect_at_run_time(http, api, settings, refused, accepted):
    """The security checks connexion built at start-up read the settings in force."""
    requests = {
        "sonoran": lambda h: sonoran(http, h),
        "collect": lambda h: (
            http.post("/api/systems/heartbeat", json=seed_body("collect"), headers=h).status_code
        ),
        "playwave": lambda h: (
            http.patch(
                "/v1/game/session/heartbeat", json=seed_body("playwave"), headers=h
            ).status_code
        ),
        "lucit": lambda h: (
            http.post(
                f"/api/v3/analytics/lightning-devices/{LCUID}/heartbeat",
                json=seed_body("lucit"),
                headers=h,
            ).status_code
        ),
    }
    send = requests[api]
    assert send(refused) != 401
    assert patch(http, api, **settings).status_code == 200
    assert send(refused) == 401
    assert send(accepted) != 401


def test_a_ttl_change_holds_for_what_is_written_next(http):
    http.post("/__mock/clock/freeze")
    assert patch(http, "statusbadge", ttl_seconds=10).status_code == 200
    public_id = http.post("/api/heartbeat", json=seed_body("statusbadge")).json()["publicId"]
    http.post("/__mock/clock/advance", json={"seconds": 11})
    assert http.get(f"/api/status/{public_id}").status_code == 404


def test_changes_add_up(http):
    patch(http, "playwave", ttl_seconds=100)
    patch(http, "playwave", next_heartbeat_in=30)
    settings = http.get("/__mock/settings").json()["apis"]["playwave"]
    assert settings["ttl_seconds"]["value"] == 100 and settings["next_heartbeat_in"]["value"] == 30


@pytest.mark.parametrize(
    ("api", "settings", "field", "says"),
    [
        ("sonoran", {"rate_limit_per_minute": "ten"}, "rate_limit_per_minute", "integer"),
        ("sonoran", {"rate_limit_per_minute": -1}, "rate_limit_per_minute", "integer"),
        ("sonoran", {"api_keys": []}, "api_keys", "empty"),
        ("sonoran", {"ratelimit": 5}, "ratelimit", "unknown setting"),
        ("statusbadge", {"stale_min_ms": 400_000}, "stale_min_ms", "above stale_max_ms"),
        ("statusbadge", {"ttl_seconds": None}, "ttl_seconds", "expected a number"),
        ("collect", {"users": "agent"}, "users", "expected a table"),
        ("playwave", {"next_heartbeat_in": 1.5, "ttl_seconds": 9}, "next_heartbeat_in", "integer"),
    ],
)
def test_a_bad_change_is_a_400_and_changes_nothing(http, api, settings, field, says):
    patch(http, "sonoran", rate_limit_per_minute=3)  # an earlier change stays as it was
    before = http.get("/__mock/settings").json()
    r = patch(http, api, **settings)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["kind"] == "validation" and says in error["message"]
    assert error["fields"][0]["key"] == field
    assert http.get("/__mock/settings").json() == before
    assert [sonoran(http) for _ in range(4)] == [200, 200, 200, 429]


def test_an_unknown_api_is_404(http):
    r = patch(http, "nope", ttl_seconds=1)
    assert r.status_code == 404 and r.json()["error"]["kind"] == "not_found"
    assert http.delete("/__mock/settings", params={"api": "nope"}).status_code == 404


def test_a_body_that_is_not_an_object_is_400(http):
    r = http.patch("/__mock/settings/sonoran", json=[1, 2])
    assert r.status_code == 400 and r.json()["error"]["kind"] == "validation"


def test_a_whole_reset_restores_the_start_up_settings(http):
    patch(http, "sonoran", rate_limit_per_minute=1)
    http.post("/__mock/reset", params={"api": "sonoran"})  # one API's state only: kept
    assert [sonoran(http) for _ in range(2)] == [200, 429]
    http.post("/__mock/reset")
    assert http.get("/__mock/settings").json()["apis"]["sonoran"]["rate_limit_per_minute"] == {
        "value": 10,
        "default": 10,
        "source": "default",
    }
    assert [sonoran(http) for _ in range(2)] == [200, 200]


def test_delete_drops_the_runtime_changes(http):
    patch(http, "sonoran", rate_limit_per_minute=1)
    patch(http, "statusbadge", ttl_seconds=5)
    assert http.delete("/__mock/settings", params={"api": "statusbadge"}).status_code == 204
    apis = http.get("/__mock/settings").json()["apis"]
    assert apis["statusbadge"]["ttl_seconds"]["source"] == "default"
    assert apis["sonoran"]["rate_limit_per_minute"]["source"] == "runtime"
    assert http.delete("/__mock/settings").status_code == 204
    apis = http.get("/__mock/settings").json()["apis"]
    assert apis["sonoran"]["rate_limit_per_minute"]["source"] == "default"


def test_start_up_settings_show_as_arguments_and_reset_comes_back_to_them(make_server):
    server = make_server(api_settings={"sonoran": {"rate_limit_per_minute": 1}})
    with httpx.Client(base_url=server.url) as http:
        setting = http.get("/__mock/settings").json()["apis"]["sonoran"]["rate_limit_per_minute"]
        assert setting == {"value": 1, "default": 10, "source": "arguments"}
        patch(http, "sonoran", rate_limit_per_minute=5)
        http.post("/__mock/reset")
        assert [sonoran(http) for _ in range(2)] == [200, 429]


def test_two_hosts_on_one_redis_see_a_change_from_their_next_request(store_kind, make_server):
    if store_kind != "redis":
        pytest.skip("two mocks share state through Redis only")
    one = make_server()
    two = make_server(store=one.settings.store)
    with httpx.Client(base_url=one.url) as a, httpx.Client(base_url=two.url) as b:
        a.post("/__mock/reset")
        assert sonoran(b) == 200  # host two has run a request with the old settings
        assert patch(a, "sonoran", rate_limit_per_minute=2).status_code == 200
        assert sonoran(b) == 200 and sonoran(b) == 429  # its next request: the new limit
        assert (
            b.get("/__mock/settings").json()["apis"]["sonoran"]["rate_limit_per_minute"]["source"]
            == "runtime"
        )
        b.post("/__mock/reset")
        assert sonoran(a) == 200 and sonoran(a) == 200  # host one's next: back to start-up
