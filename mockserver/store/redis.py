"""The shared store: every worker and every host that points at one Redis behaves as one mock.

Layout, under a key prefix (default `mockserver:`; `redis://host:6379/0?prefix=staging:` picks
another, so several mocks can share one Redis; choose prefixes that don't start with one another):

    <prefix>h:<ns>   a hash per namespace: field = record key, value = the record as JSON
    <prefix>z:<ns>   a sorted set per log (the journal): members `<seq>:<JSON entry>` scored by
                     seq, trimmed to the newest `cap`; a page is one ZRANGEBYSCORE

Atomicity. Each call is one Redis command, one MULTI/EXEC or one Lua script, so a lost
connection never leaves a half-written record. `update(ns, key, fn)` runs `fn` in Python, so it
is an optimistic transaction: read the record, compute, then write only if the record still
holds what was read (a compare-and-set in Lua on that one hash field), else read again and
retry. The compare is per record, not per namespace: WATCH could only watch the whole hash,
and every heartbeat of every server in a namespace would then conflict with every other. A
worker that remembers what a record held sends the compare-and-set at once (one round trip
instead of two; mockserver.store.redis_update). The reads a request makes before its engine
(settings, clock, scenarios, faults) are one read-only script (`read_batch`;
mockserver.store.redis_read).

Expiry. `expires_at` is mock-clock time, which Redis can't follow (a test may move the clock a
day ahead), so no Redis TTL is set: the API code decides expiry when it reads, and `purge(now)`
removes records whose `expires_at` has passed (a late clean-up, as in the memory store).
`reset` (`clear()`) removes everything under the prefix.

Failures. Every Redis or socket error becomes `StoreUnavailable` (the request gets its API's
503), and the mock recovers by itself when Redis answers again. A restarted Redis leaves every
pooled connection dead, so two things keep its next burst from failing (issue 23, item 11):

- Before a pooled connection is used, redis-py checks it for an end-of-file that Redis sent
  when it closed it, and reconnects. redis-py 8.1 skips that check on RESP3 connections
  (redis/redis-py#4252), so the store speaks RESP2 (redis-py's default before 8.0).
- A read-only command whose connection dies under it (a close not seen yet, a reset) is sent
  once more on a fresh connection, after the idle pooled connections, as old as the dead one,
  are closed. A timeout is not retried (a Redis that doesn't answer costs one socket timeout,
  not two), nor is a wait for a free pooled connection.

Writes are never sent twice. Each is one command (a Lua compare-and-set, HSET, UNLINK, a
MULTI/EXEC), and a connection that died after sending it may have lost only the reply: a
compare-and-set sent again would then find its own write, take it for a conflict, read again
and apply `fn` a second time (a heartbeat counted twice, an instruction delivered twice). So
such a write is reported as unavailable (503): perhaps applied, once, never twice.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from mockserver.core import jsontext
from mockserver.store import StoreUnavailable
from mockserver.store.redis_bulk import RedisBulk
from mockserver.store.redis_log import LOG_APPEND, LOG_APPEND_NUMBERED, RedisLog
from mockserver.store.redis_read import READ_BATCH, RedisRead
from mockserver.store.redis_update import (
    CAS_OR_CURRENT,
    MAX_UPDATE_ATTEMPTS,
    RedisUpdate,
    backoff,
)

__all__ = ["RedisStore", "DEFAULT_PREFIX", "split_prefix", "unreachable"]

DEFAULT_PREFIX = "mockserver:"

_dumps, _loads = jsontext.dumps, jsontext.loads

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


# Create-if-absent: write ARGV[2] unless the field exists. Returns {1} when written, else
# {0, the stored value} for the caller to judge (is it expired by the API's rule?).
_INSERT = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then return {1} end
return {0, redis.call('HGET', KEYS[1], ARGV[1])}
"""

# The commands this store sends that only read: safe to send again after a dead connection.
_READ_ONLY = frozenset({"HGET", "HMGET", "HGETALL", "HLEN", "LRANGE", "SCAN"})


class _Redis(Redis):
    """redis-py's client, sending a read-only command once more on a fresh connection when
    its connection dies under it (the module docstring says why writes are not)."""

    async def execute_command(self, *args, **options):
        try:
            return await super().execute_command(*args, **options)
        except RedisConnectionError as exc:
            if str(args[0]).upper() not in _READ_ONLY or isinstance(exc.__cause__, TimeoutError):
                raise  # a write, or no free pooled connection within the pool's timeout
            # The dead connection is closed already; the idle ones date from the same Redis.
            with contextlib.suppress(RedisError, OSError):
                await self.connection_pool.disconnect(inuse_connections=False)
            return await super().execute_command(*args, **options)


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


class RedisStore(RedisUpdate, RedisRead, RedisBulk, RedisLog):
    """The store protocol of `mockserver.store` on Redis (see the module docstring).

    One instance belongs to one event loop (redis-py's asyncio connections do); each worker
    process builds its own.
    """

    kind = "redis"
    local = False  # other workers and hosts write it too

    def __init__(self, url: str, *, prefix: str | None = None) -> None:
        self.rewrites = 0  # clear() and replace() calls made here (mockserver.store)
        redis_url, url_prefix = split_prefix(url)
        self.prefix = url_prefix if prefix is None else prefix
        self.where = _safe_url(redis_url)
        options = {
            "decode_responses": True,
            "socket_connect_timeout": 5.0,
            "socket_timeout": 5.0,
            "retry": Retry(NoBackoff(), 0),  # never resend (see _Redis and the docstring)
            "protocol": 2,  # so redis-py 8.1 checks a pooled connection before using it
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
        self._redis = _Redis.from_pool(pool)
        self._delete_unchanged = self._redis.register_script(_DELETE_UNCHANGED)
        self._insert = self._redis.register_script(_INSERT)
        self._log_append = self._redis.register_script(LOG_APPEND)
        self._log_append_numbered = self._redis.register_script(LOG_APPEND_NUMBERED)
        self._cas_or_current = self._redis.register_script(CAS_OR_CURRENT)
        self._read_batch = self._redis.register_script(READ_BATCH)
        self._queues: dict[tuple[str, str], list] = {}  # (ns, key) -> [lock, users]
        self._seen: OrderedDict[tuple[str, str], str] = OrderedDict()  # RedisUpdate

    # --- keys -----------------------------------------------------------------------------
    def _hash(self, ns: str) -> str:
        return f"{self.prefix}h:{ns}"

    def _log(self, ns: str) -> str:
        return f"{self.prefix}z:{ns}"

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

    async def insert(self, ns: str, key: str, value: dict, expired=None) -> bool:
        """Create-if-absent in one round trip (HSETNX); a stored record that `expired` judges
        dead is replaced by a compare-and-set of exactly the text it judged, so a record an
        `update` revived meanwhile is judged again, never overwritten."""
        name, new_text = self._hash(ns), _dumps(value)
        for attempt in range(MAX_UPDATE_ATTEMPTS):
            with self._guard():
                written, *stored = await self._insert(keys=[name], args=[key, new_text])
            if written:
                return True
            old_text = stored[0]
            if expired is None or not expired(_loads(old_text)):
                return False
            with self._guard():
                written, *_ = await self._cas_or_current(
                    keys=[name], args=[key, "1", old_text, "1", new_text]
                )
            if written:
                return True
            await backoff(attempt)
        raise StoreUnavailable(f"Redis at {self.where}: {ns}/{key} kept changing; gave up")

    # --- housekeeping ---------------------------------------------------------------------
    async def _keys(self, pattern: str) -> list[str]:
        with self._guard():
            return [k async for k in self._redis.scan_iter(match=pattern, count=1000)]

    async def _under(self, prefix: str, kinds: str = "hlz") -> list[str]:
        """The keys of the namespaces `prefix` and `prefix:*` (hashes h, logs l/z)."""
        start, pattern = len(self.prefix) + 2, _glob_escape(prefix)
        keys = await self._keys(f"{_glob_escape(self.prefix)}[{kinds}]:{pattern}*")
        return [k for k in keys if k[start:] == prefix or k[start:].startswith(prefix + ":")]

    async def clear(self, prefix: str | None = None) -> None:
        """Everything under this store's prefix, or the namespaces `prefix` and `prefix:*`.
        The keys go in one UNLINK, so a reset is all or nothing."""
        if prefix is None:
            keys = await self._keys(_glob_escape(self.prefix) + "[hlz]:*")
        else:
            keys = await self._under(prefix)
        try:
            if keys:
                with self._guard():
                    await self._redis.unlink(*keys)
        finally:  # once it is done (or perhaps done): a read made before may be stale
            self.rewrites += 1

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
