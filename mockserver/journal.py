"""The request journal: what each client sent, what it got, and whether it matched the spec.

Every native API request is recorded with its verdict (`valid` and the `violations` found by
validation), redacted by the app's `Redactor` (mockserver.core.redaction) so secrets never leave
the mock: credential headers and fields keep a short prefix only.
Entries live in the store per API (`<api>:journal`), capped as a ring buffer.
"""

from __future__ import annotations

import json
from typing import Any

from mockserver.core.clock import iso_utc, parse_iso
from mockserver.core.redaction import Redactor
from mockserver.store import Store

__all__ = ["Journal", "NOT_JSON", "body_for_journal", "new_entry", "parse_body"]

NOT_JSON = object()


def parse_body(raw: bytes) -> Any:
    """The body as JSON, or NOT_JSON (empty bodies included)."""
    if not raw:
        return NOT_JSON
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return NOT_JSON


def body_for_journal(raw: bytes, cap: int, redactor: Redactor, parsed: Any = None) -> Any:
    """The request or response body as JSON when it parses, else as (capped) text. `parsed`
    is `parse_body(raw)` when the caller has it already (one parse per request body)."""
    if not raw:
        return None
    if len(raw) <= cap:
        value = parse_body(raw) if parsed is None else parsed
        if value is not NOT_JSON:
            return redactor.body(value)
    text = raw[:cap].decode("utf-8", errors="replace")
    if len(raw) > cap:
        text += f"... ({len(raw)} bytes)"
    return text


class Journal:
    def __init__(
        self, store: Store, *, cap: int, apis: list[str], redactor: Redactor | None = None
    ) -> None:
        self._store = store
        self.redactor = redactor or Redactor()
        self.cap = cap
        self.apis = apis

    async def record(self, api: str, entry: dict) -> None:
        seq = await self._store.update(
            "_journal", "seq", lambda s: ({"n": (s or {"n": 0})["n"] + 1}, (s or {"n": 0})["n"] + 1)
        )
        entry["id"] = seq
        await self._store.log_append(f"{api}:journal", entry, self.cap)

    async def entries(
        self,
        *,
        api: str | None = None,
        status: int | None = None,
        valid: bool | None = None,
        since: str | float | None = None,
    ) -> list[dict]:
        apis = [api] if api else self.apis
        out: list[dict] = []
        for name in apis:
            out.extend(await self._store.log_read(f"{name}:journal"))
        if status is not None:
            out = [e for e in out if e["status"] == status]
        if valid is not None:
            out = [e for e in out if e["valid"] is valid]
        if since is not None:
            since_ts = parse_iso(since) if isinstance(since, str) else float(since)
            out = [e for e in out if e["epoch"] >= since_ts - 1e-6]  # "at" has microseconds
        out.sort(key=lambda e: e["id"])
        return out

    async def clear(self, api: str | None = None) -> None:
        for name in [api] if api else self.apis:
            await self._store.log_clear(f"{name}:journal")


def new_entry(
    *,
    api: str,
    operation: str | None,
    method: str,
    path: str,
    query: str,
    at: float,
    headers: list[tuple[bytes, bytes]],
    redactor: Redactor,
) -> dict:
    return {
        "id": 0,
        "at": iso_utc(at, micros=True),
        "epoch": at,
        "api": api,
        "operation": operation,
        "method": method,
        "path": path,
        "query": query,
        "status": 0,
        "valid": True,
        "violations": [],
        "identity": None,
        "request": {
            "headers": {
                k.decode("latin-1").lower(): redactor.header(
                    k.decode("latin-1"), v.decode("latin-1")
                )
                for k, v in headers
            },
            "body": None,
        },
        "response": {"body": None},
        "fault": None,
    }
