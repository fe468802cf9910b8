"""collect's rules, fake and envelope (mockserver.apis.collect) without HTTP."""

from __future__ import annotations

import asyncio
import copy

import pytest

from mockserver.apis.collect import CollectApi, rules
from mockserver.apis.collect.errors import ExternalApiError, InsufficientPermissions, render_error
from mockserver.apis.collect.fake import SYSTEMS, CollectFake
from mockserver.apis.collect.rules import Access, Liveness
from mockserver.core.config import ANY
from mockserver.core.errors import FieldError, MockError
from mockserver.store.memory import MemoryStore

DAY = 86400.0
LIFE = Liveness(alive_window=660.0, dead_retention=DAY)  # the defaults: 600 + 60, one day


def beat(old=None, now=0.0, user="agent", life=LIFE):
    return rules.beat(old, "sys-a", user, now, life)


# --- who may report --------------------------------------------------------------------------


def test_any_user_with_a_name_is_granted_by_default():
    assert rules.access("fleet-agent", "anything", ANY, None) is Access.GRANTED
    assert rules.access("fleet-agent", "", ANY, None) is Access.GRANTED


def test_an_empty_user_name_is_unauthenticated():
    assert rules.access("", "password", ANY, None) is Access.UNAUTHENTICATED


def test_pinned_users_need_their_own_password():
    users = {"agent": "s3cret"}
    assert rules.access("agent", "s3cret", users, None) is Access.GRANTED
    assert rules.access("agent", "wrong", users, None) is Access.UNAUTHENTICATED
    assert rules.access("other", "s3cret", users, None) is Access.UNAUTHENTICATED


def test_a_forbidden_user_authenticates_but_may_not_report():
    assert rules.access("readonly", "pw", ANY, ["readonly"]) is Access.FORBIDDEN
    assert rules.access("agent", "pw", ANY, ["readonly"]) is Access.GRANTED


def test_a_forbidden_user_with_a_wrong_pinned_password_is_unauthenticated_first():
    users = {"readonly": "pw"}
    assert rules.access("readonly", "nope", users, ["readonly"]) is Access.UNAUTHENTICATED
    assert rules.access("readonly", "pw", users, ["readonly"]) is Access.FORBIDDEN


def test_any_system_registers_unless_the_systems_are_pinned():
    assert rules.system_allowed("brand-new", ANY)
    assert rules.system_allowed("sys-a", ["sys-a"])
    assert not rules.system_allowed("sys-b", ["sys-a"])


# --- liveness and retention --------------------------------------------------------------


def test_alive_through_interval_plus_grace_then_dead():
    rec = beat(now=1000.0)
    assert LIFE.alive(rec, 1660.0)
    assert not LIFE.alive(rec, 1660.001)
    assert LIFE.alive_until(rec) == 1660.0


def test_a_dead_system_is_kept_for_the_retention_after_it_died_then_forgotten():
    rec = beat(now=1000.0)
    assert LIFE.lapse(rec) == 1660.0 + DAY
    assert rules.kept(rec, 1660.0 + DAY, LIFE)
    assert not rules.kept(rec, 1660.001 + DAY, LIFE)
    assert not rules.kept(None, 0.0, LIFE)


def test_zero_retention_forgets_a_system_as_soon_as_it_is_dead():
    life = Liveness(alive_window=660.0, dead_retention=0.0)
    rec = beat(now=0.0, life=life)
    assert rules.kept(rec, 660.0, life)
    assert not rules.kept(rec, 660.001, life)


def test_first_heartbeat_starts_the_record_with_its_expiry():
    rec = beat(now=5.0, user="agent-7")
    assert rec == {
        "system_id": "sys-a",
        "first_heartbeat": 5.0,
        "last_heartbeat": 5.0,
        "heartbeats": 1,
        "last_user": "agent-7",
        "expires_at": 5.0 + 660.0 + DAY,
    }


def test_a_heartbeat_while_kept_counts_on_even_when_dead():
    rec = beat(beat(now=0.0), now=3600.0, user="other")
    assert (rec["first_heartbeat"], rec["heartbeats"], rec["last_user"]) == (0.0, 2, "other")
    assert rec["expires_at"] == 3600.0 + 660.0 + DAY


def test_a_heartbeat_after_the_system_was_forgotten_registers_it_afresh():
    rec = beat(beat(now=0.0), now=660.001 + DAY)
    assert (rec["first_heartbeat"], rec["heartbeats"]) == (660.001 + DAY, 1)


def test_view_of_a_live_system():
    view = rules.system_view("sys-a", beat(now=1753093500.0), 1753093510.5, LIFE, False)
    assert view == {
        "system_id": "sys-a",
        "pinned": False,
        "alive": True,
        "heartbeats": 1,
        "last_heartbeat": "2025-07-21T10:25:00Z",
        "first_heartbeat": "2025-07-21T10:25:00Z",
        "age_seconds": 10.5,
        "alive_until": "2025-07-21T10:36:00Z",
        "expires_at": "2025-07-22T10:36:00Z",
        "last_user": "agent",
    }


def test_view_of_a_pinned_system_never_heard_from():
    view = rules.system_view("sys-z", None, 0.0, LIFE, True)
    assert (view["pinned"], view["alive"], view["heartbeats"], view["expires_at"]) == (
        True,
        False,
        0,
        None,
    )


# --- armed external API errors -------------------------------------------------------------


def rule(system_id=None, times=1, message="m"):
    return {
        "system_id": system_id,
        "times": times,
        "remaining": times,
        "message": message,
        "details": "d",
    }


def test_arming_numbers_rules_and_keeps_them_oldest_first():
    state, first = rules.arm(None, rule(message="one"), cap=10)
    state, second = rules.arm(state, rule(message="two"), cap=10)
    assert (first["id"], second["id"]) == ("external-1", "external-2")
    assert [r["message"] for r in state["rules"]] == ["one", "two"]
    assert first["applied"] == 0


def test_arming_past_the_cap_changes_nothing():
    state, _ = rules.arm(None, rule(), cap=1)
    before = copy.deepcopy(state)
    after, armed = rules.arm(state, rule(), cap=1)
    assert armed is None
    assert after == before


def test_the_oldest_rule_for_the_system_fires_and_uses_one_time():
    state, _ = rules.arm(None, rule("sys-a", times=2, message="for a"), cap=10)
    state, _ = rules.arm(state, rule(None, message="any"), cap=10)
    state, fired = rules.take(state, "sys-b")
    assert fired["message"] == "any"
    state, fired = rules.take(state, "sys-a")
    assert (fired["message"], fired["remaining"], fired["applied"]) == ("for a", 1, 1)
    state, fired = rules.take(state, "sys-a")
    assert fired["remaining"] == 0
    assert rules.take(state, "sys-a") == (state, None)
    assert state["rules"] == []


def test_take_does_not_change_the_state_it_was_given():
    state, _ = rules.arm(None, rule(times=3), cap=10)
    before = copy.deepcopy(state)
    rules.take(state, "sys-a")
    assert state == before


def test_nothing_armed_fires_nothing():
    assert rules.take(None, "sys-a") == (None, None)


# --- the fake ----------------------------------------------------------------------------


def run(coro):
    return asyncio.run(coro)


def fake(**settings) -> CollectFake:
    return CollectFake(MemoryStore(), CollectApi.Config(**settings))


def test_forgotten_systems_are_not_read_even_before_the_purge():
    f = fake(interval_seconds=60, grace_seconds=0, dead_retention_seconds=100)
    run(f.record("sys-a", "agent", 0.0))
    assert run(f.get("sys-a", 160.0)) is not None
    assert run(f.get("sys-a", 160.5)) is None
    assert run(f.all(160.5)) == {}
    assert run(f.store.count(SYSTEMS)) == 1  # still stored: the purge is only clean-up


def test_the_purge_drops_forgotten_systems():
    f = fake(interval_seconds=60, grace_seconds=0, dead_retention_seconds=100)
    for i in range(20):
        run(f.record(f"sys-{i}", "agent", 0.0))
    run(f.record("sys-late", "agent", 50.0))
    run(f.store.purge(160.5))
    assert list(run(f.all(160.5))) == ["sys-late"]
    assert run(f.store.count(SYSTEMS)) == 1


def test_arming_through_the_fake_stops_at_the_cap():
    f = fake()
    assert run(f.arm_external_error(rule(), cap=2))["id"] == "external-1"
    assert run(f.arm_external_error(rule(), cap=2))["id"] == "external-2"
    assert run(f.arm_external_error(rule(), cap=2)) is None
    assert len(run(f.external_errors())) == 2


# --- the envelope --------------------------------------------------------------------------


def test_external_api_error_envelope():
    out = render_error(ExternalApiError("upstream down", {"status": 502}))
    assert (out.status, out.body) == (
        400,
        {
            "code": 400,
            "message": "upstream down",
            "data": {"type": "external_api_error", "errors": [], "details": {"status": 502}},
        },
    )


def test_insufficient_permissions_is_the_documented_403():
    out = render_error(InsufficientPermissions("user 'readonly' may not send heartbeats"))
    assert (out.status, out.body) == (
        403,
        {"code": 403, "message": "insufficient permissions", "data": {}},
    )


@pytest.mark.parametrize(
    ("err", "status", "message"),
    [
        (MockError(401, "auth"), 401, "invalid token"),
        (MockError(500, "internal"), 500, "internal server error"),
        (MockError(405, "method_not_allowed"), 405, "method not allowed"),
        (MockError(503, "unavailable"), 503, "service unavailable"),
        (MockError(599, "http_error", "odd"), 599, "odd"),
    ],
)
def test_other_errors_are_the_envelope_with_empty_data(err, status, message):
    assert render_error(err).body == {"code": status, "message": message, "data": {}}


def test_validation_fields_become_key_message_value_entries():
    err = MockError(
        400,
        "validation",
        fields=[
            FieldError("system_id", "minLength", "'' is too short", ""),
            FieldError("system_id", "type", "None is not of type 'string'", ""),
            FieldError("body", "json", "malformed JSON at line 1"),
        ],
    )
    data = render_error(err).body["data"]
    assert data["errors"] == [
        {"key": "system_id", "message": "required", "value": ""},
        {"key": "system_id", "message": "required", "value": ""},
        {"key": "body", "message": "invalid_json", "value": ""},
    ]
    assert data["details"] == "malformed JSON at line 1"


def test_a_validation_fault_without_fields_is_an_external_api_error():
    body = render_error(MockError(400, "validation", "fault injected")).body
    assert body["data"] == {"type": "external_api_error", "errors": [], "details": "fault injected"}


def test_too_large_is_a_400_naming_the_body():
    body = render_error(MockError(413, "payload_too_large", "request body exceeds 64 bytes")).body
    assert body["code"] == 400
    assert body["data"]["errors"] == [{"key": "body", "message": "too_large", "value": ""}]


def test_view_near_the_end_of_time_shows_the_last_second_instead_of_failing():
    rec = beat(now=rules.LAST_INSTANT - 10)
    view = rules.system_view("sys-a", rec, rules.LAST_INSTANT - 10, LIFE, False)
    assert view["alive_until"] == view["expires_at"] == "9999-12-31T23:59:59Z"
