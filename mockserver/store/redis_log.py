"""The logs (the journal) on Redis: a sorted set per log, members `<seq>:<JSON entry>` scored by
seq, trimmed to the newest `cap`; a page is one ZRANGEBYSCORE. Each write is one Lua script (one
round trip). A part of RedisStore (mockserver.store.redis), which registers the scripts and
gives `_log`, `_hash`, `_guard` and `_redis`.
"""

from __future__ import annotations

from mockserver.core import jsontext

__all__ = ["LOG_APPEND", "LOG_APPEND_NUMBERED", "RedisLog"]

_dumps, _loads = jsontext.dumps, jsontext.loads

# Add ARGV[3] to the log KEYS[1] at seq ARGV[1] (one past the newest when empty) and keep the
# newest ARGV[2] entries (ranks 0 .. -(cap+1) go). Returns the log's length.
LOG_APPEND = """
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
local seq = tonumber(ARGV[1]) or tonumber(newest or 0) + 1
redis.call('ZADD', KEYS[1], seq, string.format('%d', seq) .. ':' .. ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[2]) - 1)
return redis.call('ZCARD', KEYS[1])
"""

# The journal's write in one round trip: the counter record KEYS[1]/ARGV[1] (`{"n":N}`) goes
# up by one, and the entry ARGV[3] .. N .. ARGV[4] joins the log KEYS[2] at seq N, which keeps
# the newest ARGV[2]. Returns N.
LOG_APPEND_NUMBERED = """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
local n = tonumber(stored and string.match(stored, '"n":(%d+)') or 0) + 1
local seq = string.format('%d', n)
redis.call('HSET', KEYS[1], ARGV[1], '{"n":' .. seq .. '}')
redis.call('ZADD', KEYS[2], n, seq .. ':' .. ARGV[3] .. seq .. ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[2]) - 1)
return n
"""


class RedisLog:
    async def log_append(self, ns: str, entry: dict, cap: int, seq: int | None = None) -> int:
        args = ["" if seq is None else str(seq), str(cap), _dumps(entry)]
        with self._guard():
            return int(await self._log_append(keys=[self._log(ns)], args=args))

    async def log_append_numbered(
        self, ns: str, head: str, tail: str, cap: int, counter: tuple[str, str]
    ) -> int:
        """One EVALSHA (the journal's write was three round trips: the counter's read and
        compare-and-set, then the append)."""
        keys = [self._hash(counter[0]), self._log(ns)]
        with self._guard():
            return int(
                await self._log_append_numbered(keys=keys, args=[counter[1], str(cap), head, tail])
            )

    async def log_read(
        self, ns: str, after: int | None = None, limit: int | None = None
    ) -> list[dict]:
        return [_loads(text) for _, text in await self.log_read_text(ns, after, limit)]

    async def log_read_text(
        self, ns: str, after: int | None = None, limit: int | None = None
    ) -> list[tuple[int, str]]:
        low = "-inf" if after is None else f"({after}"
        page = {} if limit is None else {"start": 0, "num": limit}
        with self._guard():
            members = await self._redis.zrangebyscore(self._log(ns), low, "+inf", **page)
        return [(int(seq), text) for seq, _, text in (m.partition(":") for m in members)]

    async def log_clear(self, ns: str) -> None:
        with self._guard():
            await self._redis.delete(self._log(ns))
