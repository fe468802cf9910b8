"""Lucit's device and instruction rules (mockserver.apis.lucit.rules) without a store or HTTP."""

from __future__ import annotations

import copy
import re

import pytest

from mockserver.apis.lucit import LucitApi, rules
from mockserver.apis.lucit.rules import ACKNOWLEDGED, PENDING, SENT

CFG = LucitApi.Config()  # device and instruction retention 3600 s, 100 instructions
DEV = "LCUID-LD-5b1c2d3e-0000-4000-8000-000000000001"
BODY = {"lightning_version": "2.4.1", "device_info": ["os:linux"]}
SPEC_PATTERN = re.compile(
    r"^LCUID-LDRI-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


def instruction(n: int, now: float = 0.0, run_at: float | None = None) -> dict:
    lcuid = rules.instruction_id(rules.device_key(DEV), f"{n:012x}")
    return rules.new_instruction(f"step-{n}", [], run_at, now, lcuid)


def queued(*instructions: dict, now: float = 0.0, cfg=CFG) -> dict:
    rec = None
    for i in instructions:
        rec, accepted = rules.enqueue(rec, DEV, i, now, cfg)
        assert accepted
    return rec


def beat(rec, now: float, cfg=CFG):
    return rules.deliver(rec, DEV, BODY, now, cfg)


def names(delivered) -> str | None:
    return None if delivered is None else delivered["instruction"]


# --- delivery order and run_at ----------------------------------------------------------------
def test_heartbeats_deliver_pending_instructions_oldest_first_one_each():
    rec = queued(instruction(1), instruction(2))
    rec, first = beat(rec, 1)
    rec, second = beat(rec, 2)
    rec, third = beat(rec, 3)
    assert [names(first), names(second), names(third)] == ["step-1", "step-2", None]
    assert [i["status"] for i in rec["instructions"]] == [SENT, SENT]


def test_a_scheduled_instruction_does_not_hold_back_a_later_one_that_is_due():
    rec = queued(instruction(1, run_at=100), instruction(2))
    rec, delivered = beat(rec, 50)
    assert names(delivered) == "step-2"
    assert names(beat(rec, 100)[1]) == "step-1"


def test_an_instruction_is_due_from_its_run_at_on():
    rec = queued(instruction(1, run_at=100))
    assert beat(rec, 99.999)[1] is None
    assert names(beat(rec, 100)[1]) == "step-1"


@pytest.mark.parametrize(
    ("epoch", "kept"),
    [(-1e12, 0), (0.5, 0), (1767744919.75, 1767744919), (1e15, rules.LATEST)],
)
def test_run_at_is_kept_to_whole_seconds_in_the_range_the_format_shows(epoch, kept):
    assert rules.clamp_run_at(epoch) == kept


def test_delivery_marks_sent_with_updated_at_at_whole_seconds():
    _, delivered = beat(queued(instruction(1, now=10.0)), 25.9)
    assert (delivered["status"], delivered["created_at"], delivered["updated_at"]) == (SENT, 10, 25)


# --- deliver once, acknowledge ----------------------------------------------------------------
def test_a_sent_instruction_is_never_delivered_again():
    rec, _ = beat(queued(instruction(1)), 1)
    for now in (2, 3, 4):
        rec, delivered = beat(rec, now)
        assert delivered is None


def test_acknowledging_sets_status_2_and_updated_at():
    i = instruction(1)
    rec, acked = rules.acknowledge(queued(i), i["lcuid"], 30.5, CFG)
    assert (acked["status"], acked["updated_at"]) == (ACKNOWLEDGED, 30)
    assert rec["instructions"][0] == acked


def test_an_instruction_acknowledged_before_delivery_is_never_delivered():
    i = instruction(1)
    rec, _ = rules.acknowledge(queued(i), i["lcuid"], 1, CFG)
    assert beat(rec, 2)[1] is None


def test_acknowledging_twice_changes_nothing():
    i = instruction(1)
    rec, first = rules.acknowledge(queued(i), i["lcuid"], 1, CFG)
    again, second = rules.acknowledge(rec, i["lcuid"], 50, CFG)
    assert again is rec and second == first


def test_acknowledging_an_unknown_instruction_finds_nothing():
    rec = queued(instruction(1))
    assert rules.acknowledge(rec, instruction(2)["lcuid"], 1, CFG) == (rec, None)
    assert rules.acknowledge(None, instruction(2)["lcuid"], 1, CFG) == (None, None)


def test_the_rules_never_change_the_record_they_are_given():
    """The Redis store may run an update twice on the record it read."""
    i = instruction(1)
    rec = queued(i, instruction(2))
    before = copy.deepcopy(rec)
    beat(rec, 1)
    rules.acknowledge(rec, i["lcuid"], 1, CFG)
    rules.enqueue(rec, DEV, instruction(3), 1, CFG)
    assert rec == before


# --- ids --------------------------------------------------------------------------------------
def test_an_instruction_id_carries_its_device_key_and_matches_the_documented_shape():
    lcuid = instruction(7)["lcuid"]
    assert SPEC_PATTERN.match(lcuid)
    assert rules.key_of_instruction(lcuid) == rules.device_key(DEV)
    assert re.fullmatch(r"[0-9a-f]{20}", rules.device_key(DEV))


@pytest.mark.parametrize(
    "lcuid",
    ["", "LCUID-LDRI-262CA932-dda6-4233-8c4f-a497481388b3", "LCUID-LD-1", "LCUID-LDRI-x" * 3],
)
def test_an_id_the_mock_never_gives_has_no_device(lcuid):
    assert rules.key_of_instruction(lcuid) is None


def test_devices_have_distinct_keys():
    assert rules.device_key("a") != rules.device_key("b")
    assert rules.device_key("\ud800") == rules.device_key("\ud800")  # any text, even this


# --- bounded memory ---------------------------------------------------------------------------
def test_a_silent_device_is_forgotten_after_its_retention_window():
    rec, _ = beat(None, 100)
    assert rec["expires_at"] == 100 + CFG.device_retention_seconds
    assert rules.current(rec, DEV, 3700, CFG) is not None
    assert rules.current(rec, DEV, 3700.001, CFG) is None


def test_queueing_and_acknowledging_are_activity_too():
    i = instruction(1)
    rec = queued(i, now=100)
    assert rec["expires_at"] == 3700
    rec, _ = rules.acknowledge(rec, i["lcuid"], 2000, CFG)
    assert rec["expires_at"] == 5600


def test_a_pending_instruction_keeps_its_device_until_it_falls_due_and_a_window_more():
    rec = queued(instruction(1, run_at=86_400), now=0)
    assert rec["expires_at"] == 86_400 + 3600
    rec, delivered = beat(rec, 86_400 + 3600)
    assert names(delivered) == "step-1"


def test_a_forgotten_device_starts_over_at_its_next_heartbeat():
    rec, _ = beat(queued(instruction(1)), 1)
    rec, delivered = beat(rec, 1 + 3600.001)
    assert delivered is None
    assert (rec["heartbeats"], rec["instructions"]) == (1, [])


def test_a_finished_instruction_is_forgotten_after_its_own_retention():
    short = LucitApi.Config(instruction_retention_seconds=60)
    rec, _ = beat(queued(instruction(1), instruction(2, run_at=1000), cfg=short), 10, short)
    assert len(rules.current(rec, DEV, 70, short)["instructions"]) == 2
    left = rules.current(rec, DEV, 70.001, short)["instructions"]
    assert [(i["instruction"], i["status"]) for i in left] == [("step-2", PENDING)]
    rec, _ = beat(rec, 80, short)  # a write keeps only what is remembered
    assert [i["instruction"] for i in rec["instructions"]] == ["step-2"]


def test_a_full_queue_forgets_its_oldest_finished_instruction_first():
    two = LucitApi.Config(max_instructions_per_device=2)
    rec, _ = beat(queued(instruction(1), instruction(2), cfg=two), 1, two)  # 1 sent
    rec, accepted = rules.enqueue(rec, DEV, instruction(3), 2, two)
    assert accepted
    assert [i["instruction"] for i in rec["instructions"]] == ["step-2", "step-3"]


def test_a_queue_full_of_pending_instructions_refuses_and_changes_nothing():
    two = LucitApi.Config(max_instructions_per_device=2)
    rec = queued(instruction(1), instruction(2), cfg=two)
    assert rules.enqueue(rec, DEV, instruction(3), 2, two) == (rec, False)


def test_a_record_under_another_devices_key_is_not_this_device():
    rec, _ = beat(None, 0)
    assert rules.current(rec, "LCUID-LD-other", 0, CFG) is None
