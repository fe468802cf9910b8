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
from mockserver.core.redaction import Redactor, current_secrets, install_log_scrubber, mask
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
    """The request or response body as JSON when it parses (secret fields masked at any depth),
    else as capped text with every secret of this request masked: those found by field name in
    the text (form-encoded, broken JSON) and those collected so far (its headers, its query).
    `parsed` is `parse_body(raw)` when the caller has it already (one parse per request body).
    A body over the cap is scanned whole before it is cut, so a cut secret is masked too."""
    if not raw:
        return None
    secrets = current_secrets()
    value = parse_body(raw) if parsed is None else parsed
    if value is not NOT_JSON:
        redactor.collect(value, secrets)
        if len(raw) <= cap:
            return redactor.body(value)
    text = redactor.text(raw.decode("utf-8", errors="replace"), secrets)
    if len(raw) <= cap:
        return text
    cut = text.encode("utf-8")[:cap].decode("utf-8", errors="replace")
    return secrets.scrub(cut) + f"... ({len(raw)} bytes)"


class Journal:
    def __init__(
        self, store: Store, *, cap: int, apis: list[str], redactor: Redactor | None = None
    ) -> None:
        self._store = store
        self.redactor = redactor or Redactor()
        install_log_scrubber()
        self.cap = cap
        self.apis = apis

    async def record(self, api: str, entry: dict) -> None:
        """Store a finished entry: every secret its request carried is masked in every string
        of it (violations, identity, bodies, headers), then it gets its id."""
        secrets = entry.pop("_secrets", None)
        if secrets is None:
            secrets = current_secrets()
        self._mask_violations(entry["violations"])
        if secrets:
            entry = secrets.scrub_all(entry)
        seq = await self._store.update(
            "_journal", "seq", lambda s: ({"n": (s or {"n": 0})["n"] + 1}, (s or {"n": 0})["n"] + 1)
        )
        entry["id"] = seq
        await self._store.log_append(f"{api}:journal", entry, self.cap)

    def _mask_violations(self, violations: list[dict]) -> None:
        """A violation of a secret field, header or parameter shows its value masked, even one
        too short to be searched for elsewhere."""
        names = self.redactor.params | self.redactor.headers
        for v in violations:
            parts = [p for p in str(v.get("key") or "").split(".") if p and not p.isdigit()]
            value = v.get("value")
            if parts and parts[-1].lower() in names and isinstance(value, str) and value:
                v["value"] = mask(value)
                if isinstance(v.get("message"), str):
                    v["message"] = v["message"].replace(value, mask(value))

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
    """A request's entry, begun as it arrives: its secrets (headers, query) are collected and
    become the current request's, for its body, its violations and the log lines meanwhile."""
    secrets = redactor.begin(headers, query)
    return {
        "_secrets": secrets,
        "id": 0,
        "at": iso_utc(at, micros=True),
        "epoch": at,
        "api": api,
        "operation": operation,
        "method": method,
        "path": path,
        "query": redactor.query(query),
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
