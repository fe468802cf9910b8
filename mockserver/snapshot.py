"""State snapshots: every API's records and the mock clock as one versioned JSON document.

`GET /__mock/state` reads one, `PUT /__mock/state` puts one back (`mockserver serve --state FILE`
at start-up, `--save-state FILE` on SIGTERM/SIGINT), so a developer keeps the sessions, devices,
instructions and servers set up by hand across a restart, and a bug report carries the state that
triggered it (WireMock and MockServer persist their stubs the same way).

    {"format": 1, "mock": "heartbeat-mockserver", "version": "0.1.0",
     "clock": {"now": "2026-04-08T21:35:00.000000Z", "frozen": true},
     "apis": {"<api>": {"<namespace>": {"<key>": {record}, ...}, ...}, ...}}

Records are exactly what the store holds, per API and namespace (`<api>:<namespace>` in the
store), expired ones not yet purged included. Not in a snapshot: the journal, fault rules,
scenarios and runtime settings, which describe the traffic and the test rather than the state.

Restoring replaces the whole state: every enabled API's records become the document's (an API
the document leaves out is emptied) and the clock shows the document's instant, frozen if it
was, running from it if not, so nothing expires because of the time between taking and
restoring. The document is checked whole first (its shape, each record against its API's
`record_schemas`, timestamps the clock can show), then written in one atomic store step: a bad
document is a 400 that changes nothing, and a store that fails midway leaves nothing half-done.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import jsonschema_rs

from mockserver import __version__
from mockserver.core.clock import EARLIEST, END, LAST_INSTANT, Clock, iso_utc, parse_iso
from mockserver.store import Store, open_store

__all__ = ["FORMAT", "SnapshotError", "Snapshots", "TIME", "read_file", "record", "StateFiles"]

FORMAT = 1
MOCK = "heartbeat-mockserver"
# Kept apart from a snapshot: fault rules live in each API's `faults` namespace (faults.py).
EXCLUDED = frozenset({"faults"})
LATEST = LAST_INSTANT  # 9999-12-31T23:59:59Z: the last instant iso_utc shows
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}")
_TOP = ("format", "mock", "version", "clock", "apis")

# For the APIs' `record_schemas`: a mock-clock time (epoch seconds) the mock can show (an expiry
# may lie past the clock's own range, which ends with year 9000).
TIME = {"type": "number", "minimum": 0, "maximum": LATEST}


def record(required: dict[str, dict], optional: dict[str, dict] | None = None) -> dict:
    """The JSON Schema of a record with these members and no others."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": False,
    }


class SnapshotError(ValueError):
    """A document that can't be restored (the control API's 400): `field` says where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise SnapshotError(where, "must be a JSON object")
    return value


def _instant(clock: Any) -> tuple[float, bool]:
    clock = _object(clock, "clock")
    unknown = sorted(set(clock) - {"now", "frozen"})
    if unknown:
        raise SnapshotError(f"clock.{unknown[0]}", "is not a clock field (now, frozen)")
    now, frozen = clock.get("now"), clock.get("frozen")
    if not isinstance(frozen, bool):
        raise SnapshotError("clock.frozen", "must be true or false")
    try:
        epoch = parse_iso(now) if isinstance(now, str) else math.nan
    except (ValueError, OverflowError):
        epoch = math.nan
    if not (math.isfinite(epoch) and EARLIEST <= epoch < END):  # the clock's own range
        raise SnapshotError(
            "clock.now",
            f"must be an ISO-8601 instant from {iso_utc(EARLIEST)} to {iso_utc(END - 1)}",
        )
    return epoch, frozen


class Snapshots:
    """Take and restore snapshots of `apis` (name -> its MockApi class or object, which may
    declare `record_schemas`) in `store`, with `clock`."""

    def __init__(self, store: Store, clock: Clock, apis: dict[str, Any]) -> None:
        self.store = store
        self.clock = clock
        self.apis = apis
        self._validators: dict[tuple[str, str], Any] = {}

    async def _namespaces(self, api: str) -> list[str]:
        return [
            ns for ns in await self.store.namespaces(api) if self._local(api, ns) not in EXCLUDED
        ]

    @staticmethod
    def _local(api: str, ns: str) -> str:
        return ns[len(api) + 1 :] if ns != api else ""

    async def take(self) -> dict:
        clock = await self.clock.describe()
        apis: dict[str, dict] = {}
        for api in self.apis:
            spaces: dict[str, dict] = {}
            for ns in await self._namespaces(api):
                records = dict(sorted(await self.store.scan(ns)))
                if records:
                    spaces[self._local(api, ns)] = records
            apis[api] = spaces
        return {
            "format": FORMAT,
            "mock": MOCK,
            "version": __version__,
            "clock": {"now": clock["now"], "frozen": clock["frozen"]},
            "apis": apis,
        }

    def check(self, doc: Any) -> dict[str, dict[str, dict]]:
        """The store writes that restore `doc` ({namespace: {key: record}}, the clock's record
        included), or SnapshotError naming the first thing wrong. Changes nothing."""
        doc = _object(doc, "")
        try:  # what the HTTP body check refuses, for a document from a file (`--state`)
            json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (ValueError, UnicodeEncodeError):
            raise SnapshotError("", "holds text that is not Unicode, or NaN/Infinity") from None
        unknown = sorted(set(doc) - set(_TOP))
        if unknown:
            raise SnapshotError(unknown[0], f"unknown member; a snapshot has {', '.join(_TOP)}")
        if doc.get("format") != FORMAT or isinstance(doc.get("format"), bool):
            raise SnapshotError(
                "format", f"must be {FORMAT} (this mock reads format {FORMAT} snapshots)"
            )
        for name in ("clock", "apis"):
            if name not in doc:
                raise SnapshotError(name, "is required")
        epoch, frozen = _instant(doc["clock"])
        writes: dict[str, dict[str, dict]] = {}
        for api, spaces in _object(doc["apis"], "apis").items():
            if api not in self.apis:
                enabled = ", ".join(self.apis) or "none"
                raise SnapshotError(f"apis.{api}", f"is not an enabled API (enabled: {enabled})")
            for local, records in _object(spaces, f"apis.{api}").items():
                ns = f"{api}:{local}" if local else api
                writes[ns] = self._records(api, local, records)
        ns, key, record = self.clock.record_at(epoch, frozen=frozen)
        writes[ns] = {key: record}
        return writes

    def _records(self, api: str, local: str, records: Any) -> dict[str, dict]:
        where = f"apis.{api}.{local}"
        if local in EXCLUDED or not (local == "" or _NAME.fullmatch(local)):
            raise SnapshotError(where, "is not a namespace a snapshot holds")
        validator = self._validator(api, local, where)
        out: dict[str, dict] = {}
        for key, record in _object(records, where).items():
            at = f"{where}.{key}"
            if not key or len(key) > 1024:
                raise SnapshotError(at, "a record key must have 1 to 1024 characters")
            _object(record, at)
            expires = record.get("expires_at")
            if expires is not None and (
                isinstance(expires, bool)
                or not isinstance(expires, int | float)
                or not math.isfinite(expires)
            ):
                raise SnapshotError(f"{at}.expires_at", "must be a number (mock-clock seconds)")
            if validator is not None:
                for error in validator.iter_errors(record):
                    path = "".join(f".{p}" for p in error.instance_path)
                    raise SnapshotError(at + path, error.message)
            out[key] = record
        return out

    def _validator(self, api: str, local: str, where: str) -> Any:
        """The JSON Schema validator for this namespace's records; None when the API declares
        no schemas. A namespace the API does not declare is refused."""
        schemas = getattr(self.apis[api], "record_schemas", None)
        if schemas is None:
            return None
        if local not in schemas:
            known = ", ".join(sorted(schemas)) or "none"
            raise SnapshotError(where, f"is not one of this API's namespaces ({known})")
        cached = self._validators.get((api, local))
        if cached is None:
            cached = self._validators[api, local] = jsonschema_rs.validator_for(schemas[local])
        return cached

    async def restore(self, doc: Any) -> dict:
        """Replace the state with `doc` (the module docstring): all of it, or nothing and a
        SnapshotError."""
        writes = self.check(doc)
        for api in self.apis:
            for ns in await self._namespaces(api):
                writes.setdefault(ns, {})  # not in the document: emptied
        await self.store.replace(writes)
        return {"restored": self.counts(writes), "clock": await self.clock.describe()}

    def counts(self, writes: dict[str, dict[str, dict]]) -> dict[str, dict[str, int]]:
        """Records per API and namespace, for the answer and `serve`'s start-up line."""
        out: dict[str, dict[str, int]] = {api: {} for api in self.apis}
        for api in self.apis:
            for ns, records in writes.items():
                if (ns == api or ns.startswith(api + ":")) and records:
                    out[api][self._local(api, ns)] = len(records)
        return out


# --- files: `mockserver serve --state FILE --save-state FILE` -----------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_file(path: str | os.PathLike) -> Any:
    """A snapshot file's document; SnapshotError (one line) when it can't be read as JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise SnapshotError("", f"state file {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SnapshotError("", f"state file {str(path)!r} is not a JSON document: {exc}") from None


class StateFiles:
    """Load a snapshot file into a mock's store before it serves and write one after it
    stopped. `store` is the app's own when it is in memory; with Redis each step opens its
    own connection (the app's belong to the event loop that served, or to a worker)."""

    def __init__(self, store_url: str, apis: dict[str, Any], store: Store | None = None) -> None:
        self.store_url = store_url
        self.apis = apis
        self.store = store if store is not None and store.kind == "memory" else None

    async def _with(self, step):
        store = self.store or open_store(self.store_url)
        try:
            return await step(Snapshots(store, Clock(store), self.apis))
        finally:
            if store is not self.store:
                await store.close()

    def check(self, doc: Any) -> None:
        """SnapshotError before anything is served when the document can't be restored."""
        clock = Clock(self.store)  # type: ignore[arg-type]  # record_at reads no store
        Snapshots(self.store, clock, self.apis).check(doc)  # type: ignore[arg-type]

    async def load(self, doc: Any) -> str:
        answer = await self._with(lambda snapshots: snapshots.restore(doc))
        records = sum(n for spaces in answer["restored"].values() for n in spaces.values())
        return f"{records} records, clock {answer['clock']['now']}"

    async def save(self, path: str | os.PathLike) -> str:
        """Write the state to `path` whole (a temporary file renamed over it)."""
        doc = await self._with(lambda snapshots: snapshots.take())
        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(partial, target)
        records = sum(len(r) for spaces in doc["apis"].values() for r in spaces.values())
        return f"{records} records, clock {doc['clock']['now']}"
