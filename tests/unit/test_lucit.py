"""lucit without HTTP: atomic delivery over a store that yields, cadence and settings."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from mockserver.apis.lucit import SENT, LucitApi, rules
from mockserver.apis.lucit.fake import LucitFake
from mockserver.app import build_app
from mockserver.core.clock import parse_iso
from mockserver.core.config import ANY
from mockserver.settings import Settings, SettingsError, load_settings
from mockserver.store.memory import MemoryStore

BODY = {"lightning_version": "2.4.1"}


class YieldingStore(MemoryStore):
    """A memory store whose reads and writes give other requests a turn, as a networked store
    (Redis) does; only `update` stays one atomic step."""

    async def get(self, ns, key):
        await asyncio.sleep(0)
        value = await super().get(ns, key)
        await asyncio.sleep(0)
        return value

    async def put(self, ns, key, value):
        await asyncio.sleep(0)
        await super().put(ns, key, value)


def test_concurrent_heartbeats_deliver_each_instruction_once():
    async def scenario():
        fake = LucitFake(YieldingStore(), LucitApi.Config())
        queued = [
            (await fake.queue("dev", f"step-{n}", [], None, now=100.0)).instruction
            for n in range(5)
        ]
        answers = await asyncio.gather(*(fake.heartbeat("dev", BODY, now=101.0) for _ in range(40)))
        return queued, answers, await fake.device("dev", now=101.0)

    queued, answers, device = asyncio.run(scenario())
    delivered = [a["lcuid"] for a in answers if a is not None]
    assert sorted(delivered) == sorted(q["lcuid"] for q in queued)
    assert answers.count(None) == 35
    assert device["heartbeats"] == 40
    assert all(i["status"] == SENT for i in device["instructions"])


def test_cadence_is_the_assumed_60_seconds_and_a_setting():
    assert build_app(Settings(apis=["lucit"])).ctx.apis["lucit"].cadence().interval == 60
    tuned = Settings(apis=["lucit"], api_settings={"lucit": {"heartbeat_interval_seconds": 30}})
    assert build_app(tuned).ctx.apis["lucit"].cadence().interval == 30


def test_pinned_credentials_read_from_environment_lists():
    settings = load_settings(
        env={
            "MOCKSERVER_APIS": "lucit",
            "MOCKSERVER_LUCIT__TOKENS": "tok-1, tok-2",
            "MOCKSERVER_LUCIT__APP_IDS": '["LCUID-LAP-x"]',
        }
    )
    config = build_app(settings).ctx.apis["lucit"].config
    assert config.tokens == ["tok-1", "tok-2"]
    assert config.app_ids == ["LCUID-LAP-x"]


def test_credentials_are_not_pinned_by_default():
    config = build_app(Settings(apis=["lucit"])).ctx.apis["lucit"].config
    assert config.tokens is ANY and config.app_ids is ANY


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tokens": []}, "tokens is empty and would refuse everything"),
        ({"app_ids": ""}, "app_ids is empty and would refuse everything"),
        ({"tokens": [1.5]}, "'tokens': expected a list of strings, got \\[1.5\\]"),
        ({"device_retention_seconds": 0}, "device_retention_seconds must be a positive number"),
        ({"instruction_retention_seconds": -1}, "instruction_retention_seconds must be a positive"),
        (
            {"max_instructions_per_device": 2.5},
            "'max_instructions_per_device': expected an integer, got 2.5",
        ),
        (
            {"max_instructions_per_device": True},
            "'max_instructions_per_device': expected an integer, got True",
        ),
        (
            {"heartbeat_interval_seconds": "often"},
            "'heartbeat_interval_seconds': expected a number, got 'often'",
        ),
    ],
)
def test_settings_that_would_break_the_mock_are_refused_with_a_clear_message(settings, message):
    with pytest.raises(SettingsError, match=message):
        build_app(Settings(apis=["lucit"], api_settings={"lucit": settings}))


def test_retention_settings_read_from_the_environment():
    settings = load_settings(
        env={
            "MOCKSERVER_APIS": "lucit",
            "MOCKSERVER_LUCIT__DEVICE_RETENTION_SECONDS": "600",
            "MOCKSERVER_LUCIT__MAX_INSTRUCTIONS_PER_DEVICE": "5",
        }
    )
    config = build_app(settings).ctx.apis["lucit"].config
    assert (config.device_retention_seconds, config.max_instructions_per_device) == (600, 5)


RFC3339 = (
    r"\A[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:"
    r"[0-5][0-9](\.[0-9]{1,12})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])\Z"
)


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(RFC3339))
def test_every_run_at_the_control_spec_admits_is_one_the_handler_reads(text):
    """The queue handler parses run_at without a guard: connexion's `date-time` check (the
    validator the control app uses) must admit nothing `parse_iso` cannot read."""
    if Draft4Validator.FORMAT_CHECKER.conforms(text, "date-time"):
        assert rules.clamp_run_at(parse_iso(text)) >= 0
