"""`read_batch` on Redis: a request's reads made together, in one round trip. A part of RedisStore
(mockserver.store.redis), which registers READ_BATCH and gives `_hash`, `_guard` and `_redis`.

One read-only Lua script, not a pipeline: it is one command where a pipeline is one per read
(MONITOR, and Redis's own work per command, count them all), and Redis runs it whole, so the
records it returns are even one instant's, as fresh as reads sent one after another. A read only
reads, so one whose connection dies under it is sent once more on a fresh connection, as
`_Redis` does for a plain read (mockserver.store.redis says why, and why a timeout is not).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from mockserver.core import jsontext

__all__ = ["READ_BATCH", "RedisRead"]

_loads = jsontext.loads

# KEYS: the hashes; ARGV[1] = n, the first n keys are read by field ARGV[i + 1] (HGET), the
# others whole (HGETALL). Returns one answer per key (false, sent as nil: no such field).
READ_BATCH = """
local out, n = {}, tonumber(ARGV[1])
for i = 1, #KEYS do
  if i <= n then
    out[i] = redis.call('HGET', KEYS[i], ARGV[i + 1])
  else
    out[i] = redis.call('HGETALL', KEYS[i])
  end
end
return out
"""


class RedisRead:
    async def read_batch(
        self, gets: Sequence[tuple[str, str]], scans: Sequence[str]
    ) -> tuple[list[dict | None], list[list[tuple[str, dict]]]]:
        if not gets and not scans:
            return [], []
        keys = [self._hash(ns) for ns, _ in gets] + [self._hash(ns) for ns in scans]
        args = [len(gets), *(key for _, key in gets)]
        with self._guard():
            try:
                answers = await self._read_batch(keys=keys, args=args)
            except RedisConnectionError as exc:
                if isinstance(exc.__cause__, TimeoutError):
                    raise  # no free pooled connection within the pool's timeout
                with contextlib.suppress(RedisError, OSError):
                    await self._redis.connection_pool.disconnect(inuse_connections=False)
                answers = await self._read_batch(keys=keys, args=args)
        n = len(gets)
        records = [None if text is None else _loads(text) for text in answers[:n]]
        spaces = [
            [(flat[i], _loads(flat[i + 1])) for i in range(0, len(flat), 2)] for flat in answers[n:]
        ]
        return records, spaces
