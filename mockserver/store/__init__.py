"""State stores: where every piece of mock state lives.

Records are JSON objects (dicts) kept per namespace and key. A record may carry `expires_at`
(epoch seconds on the mock clock); the store uses it only for late clean-up (`purge`), never to
decide expiry: the API fakes compare it with `Clock.now()` when they read (DESIGN.md, "One clock").

A log (the journal) is ordered by a sequence number its writer gives (`seq`; one past the
newest when absent) and capped to its newest `cap` entries; `log_read(ns, after, limit)` reads
only the entries past `after`, at most `limit` of them, so a reader pages through it in
bounded memory (`log_read_text`: the same as (seq, JSON text) pairs, for a reader that passes
entries on without looking inside). `log_append_numbered` numbers the entry itself, from a
counter record `{"n": last}`, in one atomic step (one round trip on Redis): the entry's JSON text
is `head + str(seq) + tail`, so its writer serialises it once.

`update` is the one way to change a record from its old value: it runs the given function on the
current value and stores the result atomically (the memory store runs it without an await in
between; the Redis store as an optimistic transaction, a compare-and-set retried on conflict), so
concurrent requests can't interleave. `fn` may therefore run more than once: it must be a pure
function of the old record (no side effects outside its return value).

`insert` is the one way to create a record whose key must be unique (a seeded session id): it
writes only if no record is stored under the key, or if the caller's `expired(old)` says the
stored one no longer counts, so "expired is absent" is judged by the API's own rule on the mock
clock, not by the store. Of any number of concurrent inserts of one key (from any worker), one
writes and the others get False; an `update` racing it is never overwritten (the replacement of
an expired record is a compare-and-set of exactly what `expired` judged). `expired` may run
more than once, on the record as it is each time, and must be a pure function of it.

`read_batch(gets, scans)` makes several reads together: the records `gets` names ((ns, key)
pairs) and every record of each namespace in `scans`, as `get` and `scan` would give them, in
one round trip on Redis (one read-only script) and directly in memory. The reads are as fresh as
the same reads made one after the other; a request makes the reads it needs before its engine
runs (settings, clock, faults) this way (mockserver.http.gate).

`local` says whether this process is the store's only writer (memory: yes); `rewrites` counts
the times this process replaced or cleared records wholesale (`clear`, `replace`: a reset, a
snapshot restore), so a reader that keeps a record it read (the clock's, for one request) can
tell that it may be stale without reading it again.

`namespaces(prefix)` lists the namespaces `prefix` and `prefix:*` that hold records, and
`replace({ns: {key: record}})` makes each given namespace hold exactly those records (none for an
empty one) in one atomic step: together they let a snapshot be read and restored whole
(mockserver.snapshot).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

__all__ = ["Store", "Updater", "open_store", "StoreUnavailable"]

R = TypeVar("R")
# fn(old_value_or_None) -> (new_value_or_None_to_delete, result)
Updater = Callable[[dict | None], tuple[dict | None, R]]


class StoreUnavailable(Exception):
    """The shared store can't be reached; the request gets its API's 503."""


class Store(Protocol):
    kind: str
    local: bool
    rewrites: int

    async def get(self, ns: str, key: str) -> dict | None: ...

    async def get_many(self, ns: str, keys: list[str]) -> list[dict | None]: ...

    async def read_batch(
        self, gets: Sequence[tuple[str, str]], scans: Sequence[str]
    ) -> tuple[list[dict | None], list[list[tuple[str, dict]]]]: ...

    async def put(self, ns: str, key: str, value: dict) -> None: ...

    async def delete(self, ns: str, key: str) -> bool: ...

    async def scan(self, ns: str) -> list[tuple[str, dict]]: ...

    async def count(self, ns: str) -> int: ...

    async def update(self, ns: str, key: str, fn: Updater[R]) -> R: ...

    async def insert(
        self, ns: str, key: str, value: dict, expired: Callable[[dict], bool] | None = None
    ) -> bool: ...

    async def namespaces(self, prefix: str) -> list[str]: ...

    async def replace(self, records: dict[str, dict[str, dict]]) -> None: ...

    async def log_append(self, ns: str, entry: dict, cap: int, seq: int | None = None) -> int: ...

    async def log_append_numbered(
        self, ns: str, head: str, tail: str, cap: int, counter: tuple[str, str]
    ) -> int: ...

    async def log_read(
        self, ns: str, after: int | None = None, limit: int | None = None
    ) -> list[dict]: ...

    async def log_read_text(
        self, ns: str, after: int | None = None, limit: int | None = None
    ) -> list[tuple[int, str]]: ...

    async def log_clear(self, ns: str) -> None: ...

    async def clear(self, prefix: str | None = None) -> None: ...

    async def purge(self, now: float) -> int: ...

    async def close(self) -> None: ...


def open_store(url: str) -> Any:
    """`memory` (default) or `redis://host:port/db`."""
    if url in ("", "memory", "memory://"):
        from mockserver.store.memory import MemoryStore

        return MemoryStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            from mockserver.store.redis import RedisStore
        except ImportError as exc:  # pragma: no cover - redis is a hard dependency
            raise ValueError(f"the Redis store is not available: {exc}") from exc
        return RedisStore(url)
    raise ValueError(f"unknown store {url!r}: use 'memory' or 'redis://host:port/db'")
