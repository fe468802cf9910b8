"""The request journal: what each client sent, what it got, and whether it matched the spec.

Every native API request is recorded with its verdict (`valid` and the `violations` found by
validation), redacted by the app's `Redactor` (mockserver.core.redaction) so secrets never leave
the mock: credential headers and fields keep a short prefix only.
Entries live in the store per API (`<api>:journal`), capped as a ring buffer, ordered by their
id (one sequence for all APIs). Readers page through them (`page`, `scan`) a bounded chunk at a
time, so reading a full journal costs bounded memory (issue 23, item 14).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from mockserver.core import jsontext
from mockserver.core.clock import iso_utc, parse_iso
from mockserver.core.redaction import (
    Redactor,
    Secrets,
    current_secrets,
    install_log_scrubber,
    mask,
    nested_deeper,
)
from mockserver.store import Store

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Journal",
    "JournalPage",
    "NOT_JSON",
    "body_for_journal",
    "new_entry",
    "parse_body",
]

NOT_JSON = object()
_dumps, _loads = jsontext.dumps, jsontext.loads
DEFAULT_LIMIT = 100  # entries per page of GET /__mock/requests (specs/control.yaml)
MAX_LIMIT = 1000
READ_CHUNK = 50  # entries read from the store per API at a time
MAX_BODY_DEPTH = 64  # a body nested deeper is journaled as text


def parse_body(raw: bytes) -> Any:
    """The body as JSON, or NOT_JSON (empty bodies included)."""
    if not raw:
        return NOT_JSON
    try:
        return _loads(raw)
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
    deep = raw.count(b"[") + raw.count(b"{") > MAX_BODY_DEPTH  # else it can't nest that deep
    if value is not NOT_JSON and deep and nested_deeper(value, MAX_BODY_DEPTH):
        value = NOT_JSON  # kept as text: walking it would exhaust the stack
    if value is not NOT_JSON:
        masked = redactor.body(value, secrets)
        if len(raw) <= cap:
            return masked
    text = redactor.text(raw.decode("utf-8", errors="replace"), secrets)
    if len(raw) <= cap:
        return text
    cut = text.encode("utf-8")[:cap].decode("utf-8", errors="replace")
    return secrets.scrub(cut) + f"... ({len(raw)} bytes)"


class JournalPage:
    """One page of the journal, read as it is iterated (so it can be streamed): the matching
    entries as JSON text, oldest first, then `next_after`: the id to pass as `after` for the
    next page, or None when nothing past this page matched (when the page was read). Entries
    are parsed only when a filter must look inside them."""

    def __init__(self, scan: AsyncIterator[tuple[int, str]], matches, limit: int) -> None:
        self._scan = scan
        self._matches = matches
        self._limit = limit
        self.count = 0
        self.next_after: int | None = None

    async def __aiter__(self) -> AsyncIterator[str]:
        last = None
        async with contextlib.aclosing(self._scan) as scan:
            async for seq, text in scan:
                if self._matches is not None and not self._matches(_loads(text)):
                    continue
                if self.count == self._limit:
                    self.next_after = last  # one more matched: there is a next page
                    return
                self.count += 1
                last = seq
                yield text


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
        entry.pop("id", None)
        entry = {"id": 0, **entry}  # first, so the store can number the text: {"id":<seq>,...}
        text = _dumps(entry)
        if secrets and secrets.may_show_in(text):
            text = _dumps(_scrubbed(entry, secrets))
        # one store call (one round trip on Redis): the id counter and the append together
        await self._store.log_append_numbered(
            f"{api}:journal", text[:6], text[7:], self.cap, ("_journal", "seq")
        )

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

    async def scan(self, *, api: str | None = None, after: int = 0) -> AsyncIterator[dict]:
        """Every entry (of one API, or of all merged) with an id past `after`, in id order,
        read a chunk at a time (see `scan_text`)."""
        async with contextlib.aclosing(self.scan_text(api=api, after=after)) as texts:
            async for _, text in texts:
                yield _loads(text)

    async def scan_text(
        self, *, api: str | None = None, after: int = 0
    ) -> AsyncIterator[tuple[int, str]]:
        """(id, JSON text) of every entry past `after`, in id order: a merge of the APIs'
        logs, read READ_CHUNK entries per API at a time, so memory stays bounded however long
        the journal. Entries recorded during the scan may or may not be seen."""
        names = [api] if api else list(self.apis)
        buffers: dict[str, deque[tuple[int, str]]] = {n: deque() for n in names}
        cursors = dict.fromkeys(names, after)
        more = set(names)
        while True:
            for name in names:
                if not buffers[name] and name in more:
                    chunk = await self._store.log_read_text(
                        f"{name}:journal", after=cursors[name], limit=READ_CHUNK
                    )
                    if len(chunk) < READ_CHUNK:
                        more.discard(name)
                    if chunk:
                        cursors[name] = chunk[-1][0]
                        buffers[name].extend(chunk)
            ready = [n for n in names if buffers[n]]
            if not ready:
                return
            yield buffers[min(ready, key=lambda n: buffers[n][0][0])].popleft()

    def page(
        self,
        *,
        limit: int = DEFAULT_LIMIT,
        after: int = 0,
        api: str | None = None,
        status: int | None = None,
        valid: bool | None = None,
        since: str | float | None = None,
        where: Callable[[dict], bool] | None = None,
    ) -> JournalPage:
        """The first `limit` entries past `after` that pass the filters (and `where`, a request
        matcher's test: mockserver.matcher), oldest first."""
        since_ts = None
        if since is not None:
            since_ts = parse_iso(since) if isinstance(since, str) else float(since)

        def matches(e: dict) -> bool:
            return (
                (status is None or e["status"] == status)
                and (valid is None or e["valid"] is valid)
                and (since_ts is None or e["epoch"] >= since_ts - 1e-6)  # "at" has micros
                and (where is None or where(e))
            )

        unfiltered = status is None and valid is None and since_ts is None and where is None
        scan = self.scan_text(api=api, after=after)
        return JournalPage(scan, None if unfiltered else matches, limit)

    async def entries(self, **filters: Any) -> list[dict]:
        """Every matching entry at once: for tests and small journals; readers that may meet
        a full journal use `page` or `scan`."""
        page = self.page(limit=self.cap * len(self.apis) + 1, **filters)
        return [_loads(text) async for text in page]

    async def clear(self, api: str | None = None) -> None:
        for name in [api] if api else self.apis:
            await self._store.log_clear(f"{name}:journal")


def _scrubbed(entry: dict, secrets: Secrets) -> dict:
    """The entry with every string scrubbed, and below its request and response (headers,
    bodies: what was sent) the keys too: a credential sent as a key is masked like any other."""
    out = secrets.scrub_all(entry)
    for side in ("request", "response"):
        part = entry.get(side)
        if isinstance(part, dict):
            out[side] = {k: secrets.scrub_all(v, keys=True) for k, v in part.items()}
    return out


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
        "request": {"headers": _headers(headers, redactor), "body": None},
        "response": {"body": None},
        "fault": None,
    }


def _headers(headers: list[tuple[bytes, bytes]], redactor: Redactor) -> dict[str, str]:
    out = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1")
        out[name.lower()] = redactor.header(name, raw_value.decode("latin-1"))
    return out
