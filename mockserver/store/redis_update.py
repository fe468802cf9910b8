"""`update` on Redis: an optimistic transaction per record (see mockserver.store.redis), in one
round trip when this worker knows what the record holds. A part of RedisStore, which registers
CAS_OR_CURRENT and gives `_hash`, `_guard`, `_redis`, `_queues` and `_seen`.

Each worker remembers the text it last read or wrote for the records it updates most recently
(at most SEEN_CAP). The compare-and-set is then sent at once against that text; if the record
changed meanwhile (another worker wrote it) the script answers with what it holds now, and `fn`
runs again on that. A remembered text is only ever a guess: nothing is written unless the
record still holds exactly what `fn` was given, and an `fn` that raises on a guess (a record it
judges gone, say) runs again on the stored record before its error counts.
"""

from __future__ import annotations

import asyncio
import random

from mockserver.core import jsontext
from mockserver.store import StoreUnavailable, Updater

__all__ = ["CAS_OR_CURRENT", "MAX_UPDATE_ATTEMPTS", "SEEN_CAP", "RedisUpdate", "backoff"]

# `update` gives up (503) after this many conflicting attempts; updates queue per record within
# a worker, so only other workers conflict, and that is far more than a few dozen workers need.
MAX_UPDATE_ATTEMPTS = 200
SEEN_CAP = 1024  # records whose last text a worker remembers (a few hundred bytes each)

_dumps, _loads = jsontext.dumps, jsontext.loads
_UNKNOWN = object()

# If the field holds ARGV[3] (or is absent when ARGV[2] == "0"), write ARGV[5] (or delete it
# when ARGV[4] == "0") and return {1}; else change nothing and return {0, what it holds} ({0}
# when it is absent).
CAS_OR_CURRENT = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (ARGV[2] == '0' and current) or (ARGV[2] == '1' and current ~= ARGV[3]) then
  if current then return {0, current} end
  return {0}
end
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return {1}
"""


async def backoff(attempt: int) -> None:
    """A random wait before the next try after a conflict with another worker, growing with
    the attempt to 20 ms at the most."""
    await asyncio.sleep(random.uniform(0, min(0.02, 0.0005 * 2 ** min(attempt, 6))))


class RedisUpdate:
    async def update(self, ns: str, key: str, fn: Updater):
        """Atomic read-modify-write by compare-and-set; `fn` may run more than once.

        Within this process, updates of one record queue behind each other first, so a
        conflict can only come from another worker: a hot record (one API key's rate window)
        costs each worker a queue, not a storm of retries."""
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

    def _remember(self, slot: tuple[str, str], text: str | None) -> None:
        if text is None:
            self._seen.pop(slot, None)
            return
        self._seen[slot] = text
        self._seen.move_to_end(slot)
        if len(self._seen) > SEEN_CAP:
            self._seen.popitem(last=False)

    async def _compare_and_set(self, ns: str, key: str, fn: Updater):
        name, slot = self._hash(ns), (ns, key)
        known = self._seen.get(slot, _UNKNOWN)
        stored = known is _UNKNOWN  # whether `known` was read from Redis, not remembered
        for attempt in range(MAX_UPDATE_ATTEMPTS):
            if known is _UNKNOWN:
                with self._guard():
                    known = await self._redis.hget(name, key)
                stored = True
            old_text = known
            try:
                new, result = fn(None if old_text is None else _loads(old_text))
            except Exception:
                if stored:
                    raise  # nothing was written
                known = _UNKNOWN  # judged a remembered text: judge the stored one
                continue
            new_text = None if new is None else _dumps(new)
            if stored and new_text == old_text:
                self._remember(slot, old_text)
                return result  # nothing to write: the read was the atomic step
            with self._guard():
                written, *current = await self._cas_or_current(
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
                self._remember(slot, new_text)
                return result
            if stored:
                # Another worker changed it between our read and write: back off, then read
                # again (what the script answered would be old by the time the wait ends).
                await backoff(attempt)
                known = _UNKNOWN
            else:  # the guess was old: what the script answered is the record now
                known, stored = (current[0] if current else None), True
        self._seen.pop(slot, None)
        raise StoreUnavailable(f"Redis at {self.where}: {ns}/{key} kept changing; gave up")
