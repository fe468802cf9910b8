"""The shared store: every worker and every host that points at one Redis behaves as one mock.

Layout, under a key prefix (default `mockserver:`; `redis://host:6379/0?prefix=staging:` picks
another, so several mocks can share one Redis; choose prefixes that don't start with one another):

    <prefix>h:<ns>   a hash per namespace: field = record key, value = the record as JSON
    <prefix>l:<ns>   a list per log (the journal): JSON entries, oldest first, trimmed to its cap

Atomicity. Each call is one Redis command, one MULTI/EXEC or one Lua script, so a lost
connection never leaves a half-written record. `update(ns, key, fn)` runs `fn` in Python, so it
is an optimistic transaction: read the record, compute, then write only if the record still
holds what was read (a compare-and-set in Lua on that one hash field), else read again and
retry. The compare is per record, not per namespace: WATCH could only watch the whole hash,
and every heartbeat of every server in a namespace would then conflict with every other.

Expiry. `expires_at` is mock-clock time, which Redis can't follow (a test may move the clock a
day ahead), so no Redis TTL is set: the API code decides expiry when it reads, and `purge(now)`
removes records whose `expires_at` has passed (a late clean-up, as in the memory store).
`reset` (`clear()`) removes everything under the prefix.

Failures. Every Redis or socket error becomes `StoreUnavailable` (the request gets its API's
503); redis-py opens a fresh connection on the next call, so the mock recovers by itself when
Redis is back. Commands are not retried automatically: a write whose answer was lost is
reported as unavailable, never applied twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from mockserver.store import StoreUnavailable, Updater

__all__ = ["RedisStore", "DEFAULT_PREFIX", "split_prefix", "unreachable"]

DEFAULT_PREFIX = "mockserver:"
# `update` gives up (503) after this many conflicting attempts; updates queue per record within
# a worker, so only other workers conflict, and that is far more than a few dozen workers need.
MAX_UPDATE_ATTEMPTS = 200

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads

# Write ARGV[4] (or delete when ARGV[3] == "0") only if the field still holds ARGV[2]
# (or is still absent when ARGV[1] == "0"). Returns 1 when written, 0 on a conflict.
_CAS = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '0' then
  if current then return 0 end
elseif current ~= ARGV[3] then
  return 0
end
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 1
"""

# Delete each field ARGV[2i-1] only if it still holds ARGV[2i] (purge must not remove a
# record that was refreshed after it was read). Returns the number deleted.
_DELETE_UNCHANGED = """
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    removed = removed + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return removed
"""


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def split_prefix(url: str) -> tuple[str, str]:
    """(URL for redis-py, key prefix): `prefix` is the mock's own query parameter."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = DEFAULT_PREFIX
    rest = []
    for name, value in query:
        if name == "prefix":
            prefix = value
        else:
            rest.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(rest))), prefix


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts._replace(query=""))


class RedisStore:
    """The store protocol of `mockserver.store` on Redis (see the module docstring).

    One instance belongs to one event loop (redis-py's asyncio connections do); each worker
    process builds its own.
    """

    kind = "redis"

    def __init__(self, url: str, *, prefix: str | None = None) -> None:
        redis_url, url_prefix = split_prefix(url)
        self.prefix = url_prefix if prefix is None else prefix
        self.where = _safe_url(redis_url)
        options = {
            "decode_responses": True,
            "socket_connect_timeout": 5.0,
            "socket_timeout": 5.0,
            "retry": Retry(NoBackoff(), 0),
            "max_connections": 32,
            "timeout": 10.0,  # wait this long for a free pooled connection under load
        }
        # Query parameters (socket_timeout=..., max_connections=...) override the defaults.
        database = urlsplit(redis_url).path.strip("/")
        if redis_url.startswith(("redis://", "rediss://")) and not (
            database == "" or database.isdigit()
        ):
            raise ValueError(
                f"invalid Redis URL {self.where!r}: database {database!r} is not a number"
            )
        try:
            pool = BlockingConnectionPool.from_url(redis_url, **options)
        except ValueError as exc:
            raise ValueError(f"invalid Redis URL {self.where!r}: {exc}") from None
        self._redis = Redis.from_pool(pool)
        self._cas = self._redis.register_script(_CAS)
        self._delete_unchanged = self._redis.register_script(_DELETE_UNCHANGED)
        self._queues: dict[tuple[str, str], list] = {}  # (ns, key) -> [lock, users]

    # --- keys -----------------------------------------------------------------------------
    def _hash(self, ns: str) -> str:
        return f"{self.prefix}h:{ns}"

    def _log(self, ns: str) -> str:
        return f"{self.prefix}l:{ns}"

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (TimeoutError, RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis at {self.where}: {exc}") from exc

    # --- records --------------------------------------------------------------------------
    async def get(self, ns: str, key: str) -> dict | None:
        with self._guard():
            text = await self._redis.hget(self._hash(ns), key)
        return None if text is None else _loads(text)

    async def get_many(self, ns: str, keys: list[str]) -> list[dict | None]:
        if not keys:
            return []
        with self._guard():
            texts = await self._redis.hmget(self._hash(ns), keys)
        return [None if t is None else _loads(t) for t in texts]

    async def put(self, ns: str, key: str, value: dict) -> None:
        with self._guard():
            await self._redis.hset(self._hash(ns), key, _dumps(value))

    async def delete(self, ns: str, key: str) -> bool:
        with self._guard():
            return bool(await self._redis.hdel(self._hash(ns), key))

    async def scan(self, ns: str) -> list[tuple[str, dict]]:
        """Every record of a namespace, in no particular order (callers sort)."""
        with self._guard():
            items = await self._redis.hgetall(self._hash(ns))
        return [(k, _loads(v)) for k, v in items.items()]

    async def count(self, ns: str) -> int:
        with self._guard():
            return await self._redis.hlen(self._hash(ns))

    async def update(self, ns: str, key: str, fn: Updater):
        """Atomic read-modify-write by compare-and-set; `fn` may run more than once.

        Within this process, updates of one record queue behind each other first, so a
        conflict can only come from another worker: a hot record (the journal's sequence,
        one API key's rate window) costs each worker a queue, not a storm of retries."""
        slot = (ns, key)
        entry = self._queues.get(slot)
        if entry is None:
            entry = self._queues[slot] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                return await self._compare_and_set(ns, key, fn)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._queues[slot]

    async def _compare_and_set(self, ns: str, key: str, fn: Updater):
        name = self._hash(ns)
        for attempt in range(MAX_UPDATE_ATTEMPTS):
            with self._guard():
                old_text = await self._redis.hget(name, key)
            new, result = fn(None if old_text is None else _loads(old_text))
            new_text = None if new is None else _dumps(new)
            if new_text == old_text:
                return result  # nothing to write: the read was the atomic step
            with self._guard():
                written = await self._cas(
                    keys=[name],
                    args=[
                        key,
                        "0" if old_text is None else "1",
                        old_text or "",
                        "0" if new_text is None else "1",
                        new_text or "",
                    ],
                )
            if written:
                return result
            # Another worker changed the record between our read and write: back off, retry.
            await asyncio.sleep(random.uniform(0, min(0.02, 0.0005 * 2 ** min(attempt, 6))))
        raise StoreUnavailable(f"Redis at {self.where}: {ns}/{key} kept changing; gave up")

    # --- logs -----------------------------------------------------------------------------
    async def log_append(self, ns: str, entry: dict, cap: int) -> int:
        name = self._log(ns)
        with self._guard():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(name, _dumps(entry))
                pipe.ltrim(name, -cap, -1)
                length, _ = await pipe.execute()
        return min(length, cap)

    async def log_read(self, ns: str) -> list[dict]:
        with self._guard():
            texts = await self._redis.lrange(self._log(ns), 0, -1)
        return [_loads(t) for t in texts]

    async def log_clear(self, ns: str) -> None:
        with self._guard():
            await self._redis.delete(self._log(ns))

    # --- housekeeping ---------------------------------------------------------------------
    async def _keys(self, pattern: str) -> list[str]:
        with self._guard():
            return [k async for k in self._redis.scan_iter(match=pattern, count=1000)]

    async def clear(self, prefix: str | None = None) -> None:
        """Everything under this store's prefix, or the namespaces `prefix` and `prefix:*`.
        The keys go in one UNLINK, so a reset is all or nothing."""
        if prefix is None:
            keys = await self._keys(_glob_escape(self.prefix) + "[hl]:*")
        else:
            start = len(self.prefix) + 2
            keys = [
                k
                for k in await self._keys(
                    f"{_glob_escape(self.prefix)}[hl]:{_glob_escape(prefix)}*"
                )
                if k[start:] == prefix or k[start:].startswith(prefix + ":")
            ]
        if keys:
            with self._guard():
                await self._redis.unlink(*keys)

    async def purge(self, now: float) -> int:
        """Remove records whose `expires_at` (mock-clock seconds) is before `now`."""
        removed = 0
        for name in await self._keys(_glob_escape(self.prefix) + "h:*"):
            with self._guard():
                items = await self._redis.hgetall(name)
            dead: list[str] = []
            for key, text in items.items():
                expires_at = _loads(text).get("expires_at")
                if isinstance(expires_at, (int, float)) and expires_at < now:
                    dead += [key, text]
            if dead:
                with self._guard():
                    removed += await self._delete_unchanged(keys=[name], args=dead)
        return removed

    async def ping(self) -> None:
        with self._guard():
            await self._redis.ping()

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._redis.aclose()


def unreachable(url: str) -> str | None:
    """Why Redis at `url` can't be used right now, or None (for `serve`'s start-up warning)."""
    import redis

    redis_url, _ = split_prefix(url)
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    except ValueError as exc:
        return f"invalid Redis URL: {exc}"
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        return f"Redis at {_safe_url(redis_url)} is not reachable ({exc})"
    finally:
        client.close()
    return None
