"""Whole namespaces on Redis, for snapshots (mockserver.snapshot): which namespaces under a
prefix hold records, and several namespaces replaced in one MULTI/EXEC. A part of RedisStore
(mockserver.store.redis), which it reaches through `_under`, `_hash`, `_guard` and `_redis`;
it counts its `rewrites` (mockserver.store).
"""

from __future__ import annotations

from mockserver.core import jsontext

__all__ = ["RedisBulk"]

_dumps = jsontext.dumps


class RedisBulk:
    async def namespaces(self, prefix: str) -> list[str]:
        start = len(self.prefix) + 2  # <prefix>h:<ns>
        return sorted(k[start:] for k in await self._under(prefix, "h"))

    async def replace(self, records: dict[str, dict[str, dict]]) -> None:
        """One MULTI/EXEC: every namespace is emptied and refilled together, or none is.
        Everything is encoded first: a value that can't be stored leaves all as it was."""
        encoded = {ns: {k: _dumps(v) for k, v in space.items()} for ns, space in records.items()}
        try:
            with self._guard():
                async with self._redis.pipeline(transaction=True) as pipe:
                    for ns, space in encoded.items():
                        pipe.unlink(self._hash(ns))
                        if space:
                            pipe.hset(self._hash(ns), mapping=space)
                    await pipe.execute()
        finally:  # once it is done (or perhaps done): a read made before may be stale
            self.rewrites += 1
