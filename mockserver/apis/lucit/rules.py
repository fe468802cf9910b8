"""Lucit's device and instruction rules as pure functions of a device record and "now" (seed 003).
No store, no clock: `LucitFake` reads a record, asks these rules, and writes what they return.

Documented (003): a heartbeat's answer carries a remote instruction with `status` 0 Pending,
1 Sent, 2 Acknowledged, and `run_at`, "the time the instruction should be run (if set)".
Assumed (spec x-mock-assumed): a heartbeat delivers the oldest pending instruction (queue order)
whose run_at is null or not after now, marks it Sent, and never delivers it again; an
acknowledgement makes it 2 and is idempotent; timestamps are whole seconds. Bounded memory
(issue 23): a device silent (no heartbeat, queue or acknowledgement) for
`device_retention_seconds`, counted from its last activity or from when its last pending
instruction falls due, whichever is later, is forgotten with its instructions; a Sent or
Acknowledged instruction is forgotten `instruction_retention_seconds` after its updated_at; a
device holds at most `max_instructions_per_device`, and a full queue first forgets its oldest
finished instruction. Every period includes its last instant.

A device record: `lcuid`, `last_heartbeat`, `lightning_version`, `device_info`, `heartbeats`,
`instructions` (queue order), `seen` (last activity) and `expires_at` (when it is forgotten,
which the store's purge uses for its late clean-up). An instruction: `instruction`,
`parameters`, `run_at`, `status`, `lcuid`, `created_at`, `updated_at` (epoch seconds).

An instruction's LCUID-LDRI id carries its device's store key (the first 20 hex digits), so an
acknowledgement finds its device with one read and no index record of its own to expire.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Protocol

from mockserver.core.clock import LAST_INSTANT

__all__ = [
    "PENDING",
    "SENT",
    "ACKNOWLEDGED",
    "LATEST",
    "Limits",
    "acknowledge",
    "clamp_run_at",
    "current",
    "deliver",
    "device_key",
    "device_lapse",
    "enqueue",
    "instruction_id",
    "key_of_instruction",
    "new_instruction",
]

PENDING, SENT, ACKNOWLEDGED = 0, 1, 2  # 003: 0 = Pending, 1 = Sent, 2 = Acknowledged

# The range a timestamp can be shown in 003's format (four-digit years, not before the epoch).
LATEST = int(LAST_INSTANT)  # 9999-12-31T23:59:59Z

_KEY_HEX = 20  # of the 32 hex digits of an instruction id; the other 12 are random
_INSTRUCTION_ID = re.compile(
    r"^LCUID-LDRI-([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-[0-9a-f]{12}$"
)


class Limits(Protocol):
    """The retention settings the rules read (LucitApi.Config)."""

    device_retention_seconds: float
    instruction_retention_seconds: float
    max_instructions_per_device: int


# --- ids ------------------------------------------------------------------------------------
def device_key(lcuid: str) -> str:
    """The store key of a device: 80 bits of SHA-256 of its lcuid (any text, 003 sets no form)."""
    return hashlib.sha256(lcuid.encode("utf-8", "surrogatepass")).hexdigest()[:_KEY_HEX]


def instruction_id(key: str, random_hex: str) -> str:
    """LCUID-LDRI-<8>-<4>-<4>-<4>-<12>: the device key, then 12 random hex digits."""
    return f"LCUID-LDRI-{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{random_hex[:12]}"


def key_of_instruction(instruction_lcuid: str) -> str | None:
    """The device key an instruction id carries, or None for an id the mock never gives."""
    m = _INSTRUCTION_ID.match(instruction_lcuid)
    return None if m is None else "".join(m.groups())


# --- time -----------------------------------------------------------------------------------
def clamp_run_at(epoch: float) -> int:
    """run_at kept to what 003's format can show, at whole seconds: before 1970 as 1970 (due
    at once), after 9999 as the end of 9999 (never due)."""
    return math.floor(min(max(epoch, 0), LATEST))


def _due(instruction: dict, now: float) -> bool:
    return instruction["run_at"] is None or instruction["run_at"] <= now


def _kept(instruction: dict, now: float, limits: Limits) -> bool:
    """Pending instructions stay with their device; finished ones for the retention window."""
    if instruction["status"] == PENDING:
        return True
    return now <= instruction["updated_at"] + limits.instruction_retention_seconds


def device_lapse(rec: dict, limits: Limits) -> float:
    """The last instant the device is remembered: its retention window after its last activity
    or after its last pending instruction falls due, whichever is later."""
    last = rec["seen"]
    for instruction in rec["instructions"]:
        if instruction["status"] == PENDING and instruction["run_at"] is not None:
            last = max(last, instruction["run_at"])
    return last + limits.device_retention_seconds


# --- records --------------------------------------------------------------------------------
def current(rec: dict | None, lcuid: str, now: float, limits: Limits) -> dict | None:
    """The device as it is now: None when unknown or forgotten, else a copy without the
    instructions it has forgotten (expiry is decided when a record is read)."""
    if rec is None or rec["lcuid"] != lcuid or now > rec["expires_at"]:
        return None
    kept = [i for i in rec["instructions"] if _kept(i, now, limits)]
    return {**rec, "instructions": kept}


def _touched(rec: dict | None, lcuid: str, now: float, limits: Limits) -> dict:
    """The record a write starts from: the live device, or a new one (a forgotten device
    starts over); its activity is now."""
    live = current(rec, lcuid, now, limits)
    if live is None:
        live = {
            "lcuid": lcuid,
            "last_heartbeat": None,
            "lightning_version": None,
            "device_info": None,
            "heartbeats": 0,
            "instructions": [],
        }
    return {**live, "seen": now}


def _sealed(rec: dict, limits: Limits) -> dict:
    return {**rec, "expires_at": device_lapse(rec, limits)}


def new_instruction(
    instruction: str, parameters: list, run_at: float | None, now: float, lcuid: str
) -> dict:
    stamp = math.floor(now)
    return {
        "instruction": instruction,
        "parameters": parameters,
        "run_at": None if run_at is None else clamp_run_at(run_at),
        "status": PENDING,
        "lcuid": lcuid,
        "created_at": stamp,
        "updated_at": stamp,
    }


def deliver(
    rec: dict | None, lcuid: str, body: dict, now: float, limits: Limits
) -> tuple[dict, dict | None]:
    """A heartbeat: record it, and hand out the oldest pending instruction that is due, marked
    Sent in the same record, so it is never handed out twice."""
    rec = _touched(rec, lcuid, now, limits)
    rec["last_heartbeat"] = now
    rec["lightning_version"] = body["lightning_version"]
    rec["device_info"] = body.get("device_info")
    rec["heartbeats"] += 1
    delivered = None
    instructions = []
    for instruction in rec["instructions"]:
        if delivered is None and instruction["status"] == PENDING and _due(instruction, now):
            instruction = delivered = {
                **instruction,
                "status": SENT,
                "updated_at": math.floor(now),
            }
        instructions.append(instruction)
    rec["instructions"] = instructions
    return _sealed(rec, limits), delivered


def enqueue(
    rec: dict | None, lcuid: str, instruction: dict, now: float, limits: Limits
) -> tuple[dict | None, bool]:
    """Queue an instruction. A full queue forgets its oldest finished instruction first; one
    that holds only pending instructions refuses (the record is returned unchanged)."""
    start = _touched(rec, lcuid, now, limits)
    instructions = list(start["instructions"])
    if len(instructions) >= limits.max_instructions_per_device:
        finished = [n for n, i in enumerate(instructions) if i["status"] != PENDING]
        drop = len(instructions) - limits.max_instructions_per_device + 1
        if len(finished) < drop:
            return rec, False
        gone = set(finished[:drop])
        instructions = [i for n, i in enumerate(instructions) if n not in gone]
    return _sealed({**start, "instructions": [*instructions, instruction]}, limits), True


def acknowledge(
    rec: dict | None, instruction_lcuid: str, now: float, limits: Limits
) -> tuple[dict | None, dict | None]:
    """What the player does after running an instruction: status 2, updated_at now (once; a
    second acknowledgement changes nothing). (record, instruction) or (record, None)."""
    live = None if rec is None else current(rec, rec["lcuid"], now, limits)
    found = next(
        (i for i in (live or {}).get("instructions", ()) if i["lcuid"] == instruction_lcuid), None
    )
    if live is None or found is None:
        return rec, None
    if found["status"] == ACKNOWLEDGED:
        return rec, found
    acked = {**found, "status": ACKNOWLEDGED, "updated_at": math.floor(now)}
    instructions = [acked if i is found else i for i in live["instructions"]]
    return _sealed({**live, "instructions": instructions, "seen": now}, limits), acked
