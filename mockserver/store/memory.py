"""The embedded default store: one process, state in dicts of JSON text.

Records are kept serialized, as the Redis store keeps them: a handler can never alias stored
state and half-change it (100 000 session-sized records cost about 40 MB, as live dicts would).
All methods are `async` but never await, so each one is atomic on the event loop.
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from collections.abc import Sequence

from mockserver.core import jsontext
from mockserver.store import Updater

__all__ = ["MemoryStore"]

_dumps, _loads = jsontext.dumps, jsontext.loads
_EMPTY: dict = {}  # an absent namespace, for reads only: never written to


def _seq(item: tuple[int, str]) -> int:
    return item[0]


def _count(text: str) -> int:
    """A counter record's `n` (`{"n":5}`), read without a JSON parse when it has that form."""
    digits = text[5:-1]
    if text.startswith('{"n":') and digits.isdigit() and digits.isascii():
        return int(digits)
    return _loads(text)["n"]


class MemoryStore:
    kind = "memory"
    local = True  # this process alone writes it

    def __init__(self) -> None:
        self.rewrites = 0  # clear() and replace() calls (mockserver.store)
        # ns -> key -> (json text, expires_at or None)
        self._data: dict[str, dict[str, tuple[str, float | None]]] = {}
        self._logs: dict[str, deque[tuple[int, str]]] = {}  # ns -> (seq, json text), by seq

    async def get(self, ns: str, key: str) -> dict | None:
        item = self._data.get(ns, {}).get(key)
        return None if item is None else _loads(item[0])

    async def get_many(self, ns: str, keys: list[str]) -> list[dict | None]:
        space = self._data.get(ns, {})
        out = []
        for key in keys:
            item = space.get(key)
            out.append(None if item is None else _loads(item[0]))
        return out

    async def read_batch(
        self, gets: Sequence[tuple[str, str]], scans: Sequence[str]
    ) -> tuple[list[dict | None], list[list[tuple[str, dict]]]]:
        data = self._data  # every request's first reads: kept lean (no namespace is created)
        records = []  # a loop, not a comprehension: Python 3.11 gives that a frame of its own
        for ns, key in gets:
            item = data.get(ns, _EMPTY).get(key)
            records.append(None if item is None else _loads(item[0]))
        if not scans:
            return records, []
        return records, [
            [(k, _loads(v[0])) for k, v in data.get(ns, _EMPTY).items()] for ns in scans
        ]

    async def put(self, ns: str, key: str, value: dict) -> None:
        self._data.setdefault(ns, {})[key] = (_dumps(value), value.get("expires_at"))

    async def delete(self, ns: str, key: str) -> bool:
        return self._data.get(ns, {}).pop(key, None) is not None

    async def scan(self, ns: str) -> list[tuple[str, dict]]:
        return [(k, _loads(v[0])) for k, v in self._data.get(ns, {}).items()]

    async def count(self, ns: str) -> int:
        return len(self._data.get(ns, {}))

    async def update(self, ns: str, key: str, fn: Updater):
        space = self._data.setdefault(ns, {})
        item = space.get(key)
        old = None if item is None else _loads(item[0])
        new, result = fn(old)  # if fn raises, nothing was written
        if new is None:
            space.pop(key, None)
        else:
            space[key] = (_dumps(new), new.get("expires_at"))
        return result

    async def insert(self, ns: str, key: str, value: dict, expired=None) -> bool:
        space = self._data.setdefault(ns, {})
        item = space.get(key)
        if item is not None and (expired is None or not expired(_loads(item[0]))):
            return False
        space[key] = (_dumps(value), value.get("expires_at"))
        return True

    async def namespaces(self, prefix: str) -> list[str]:
        return sorted(
            ns
            for ns, space in self._data.items()
            if space and (ns == prefix or ns.startswith(prefix + ":"))
        )

    async def replace(self, records: dict[str, dict[str, dict]]) -> None:
        encoded = {  # all encoded first: a value that can't be stored leaves everything as it was
            ns: {k: (_dumps(v), v.get("expires_at")) for k, v in space.items()}
            for ns, space in records.items()
        }
        for ns, space in encoded.items():
            if space:
                self._data[ns] = space
            else:
                self._data.pop(ns, None)
        self.rewrites += 1

    async def log_append(self, ns: str, entry: dict, cap: int, seq: int | None = None) -> int:
        return self._append(ns, _dumps(entry), cap, seq)

    async def log_append_numbered(
        self, ns: str, head: str, tail: str, cap: int, counter: tuple[str, str]
    ) -> int:
        space = self._data.setdefault(counter[0], {})
        item = space.get(counter[1])
        seq = (0 if item is None else _count(item[0])) + 1
        space[counter[1]] = (f'{{"n":{seq}}}', None)  # as _dumps writes it, without its cost
        self._append(ns, f"{head}{seq}{tail}", cap, seq)
        return seq

    def _append(self, ns: str, text: str, cap: int, seq: int | None) -> int:
        log = self._logs.setdefault(ns, deque())
        last = log[-1][0] if log else 0
        if seq is None:
            seq = last + 1
        item = (seq, text)
        if seq >= last:
            log.append(item)  # the usual case: appends come in order
        else:
            log.insert(bisect.bisect_right(log, seq, key=_seq), item)
        while len(log) > cap:
            log.popleft()
        return len(log)

    async def log_read(
        self, ns: str, after: int | None = None, limit: int | None = None
    ) -> list[dict]:
        return [_loads(text) for _, text in await self.log_read_text(ns, after, limit)]

    async def log_read_text(
        self, ns: str, after: int | None = None, limit: int | None = None
    ) -> list[tuple[int, str]]:
        log = self._logs.get(ns)
        if not log:
            return []
        start = 0 if after is None else bisect.bisect_right(log, after, key=_seq)
        stop = None if limit is None else start + limit
        return list(itertools.islice(log, start, stop))

    async def log_clear(self, ns: str) -> None:
        self._logs.pop(ns, None)

    async def clear(self, prefix: str | None = None) -> None:
        self.rewrites += 1
        if prefix is None:
            self._data.clear()
            self._logs.clear()
            return
        for table in (self._data, self._logs):
            for ns in [ns for ns in table if ns == prefix or ns.startswith(prefix + ":")]:
                del table[ns]

    async def purge(self, now: float) -> int:
        removed = 0
        for space in self._data.values():
            dead = [k for k, (_, exp) in space.items() if exp is not None and exp < now]
            for key in dead:
                del space[key]
            removed += len(dead)
        return removed

    async def close(self) -> None:
        return None
