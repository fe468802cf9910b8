"""State stores: where every piece of mock state lives.

Records are JSON objects (dicts) kept per namespace and key. A record may carry `expires_at`
(epoch seconds on the mock clock); the store uses it only for late clean-up (`purge`), never to
decide expiry: the API fakes compare it with `Clock.now()` when they read (DESIGN.md, "One clock").

`update` is the one way to change a record from its old value: it runs the given function on the
current value and stores the result atomically (the memory store runs it without an await in
between; the Redis store as an optimistic transaction, a compare-and-set retried on conflict), so
concurrent requests can't interleave. `fn` may therefore run more than once: it must be a pure
function of the old record (no side effects outside its return value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

__all__ = ["Store", "Updater", "open_store", "StoreUnavailable"]

R = TypeVar("R")
# fn(old_value_or_None) -> (new_value_or_None_to_delete, result)
Updater = Callable[[dict | None], tuple[dict | None, R]]


class StoreUnavailable(Exception):
    """The shared store can't be reached; the request gets its API's 503."""


class Store(Protocol):
    kind: str

    async def get(self, ns: str, key: str) -> dict | None: ...

    async def get_many(self, ns: str, keys: list[str]) -> list[dict | None]: ...

    async def put(self, ns: str, key: str, value: dict) -> None: ...

    async def delete(self, ns: str, key: str) -> bool: ...

    async def scan(self, ns: str) -> list[tuple[str, dict]]: ...

    async def count(self, ns: str) -> int: ...

    async def update(self, ns: str, key: str, fn: Updater[R]) -> R: ...

    async def log_append(self, ns: str, entry: dict, cap: int) -> int: ...

    async def log_read(self, ns: str) -> list[dict]: ...

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
