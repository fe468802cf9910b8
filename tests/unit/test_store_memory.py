from __future__ import annotations

import asyncio

import pytest

from mockserver.store.memory import MemoryStore


def run(coro):
    return asyncio.run(coro)


def test_records_are_copies_not_aliases():
    store = MemoryStore()
    rec = {"a": [1]}
    run(store.put("x", "k", rec))
    rec["a"].append(2)
    got = run(store.get("x", "k"))
    got["a"].append(3)
    assert run(store.get("x", "k")) == {"a": [1]}


def test_update_writes_result_or_nothing_when_fn_raises():
    store = MemoryStore()
    assert run(store.update("x", "k", lambda old: ({"n": 1}, "made"))) == "made"

    def boom(old):
        old["n"] = 99
        raise ValueError("no")

    with pytest.raises(ValueError):
        run(store.update("x", "k", boom))
    assert run(store.get("x", "k")) == {"n": 1}
    run(store.update("x", "k", lambda old: (None, None)))
    assert run(store.get("x", "k")) is None


def test_log_is_a_ring_buffer():
    store = MemoryStore()
    for i in range(5):
        run(store.log_append("j", {"i": i}, cap=3))
    assert [e["i"] for e in run(store.log_read("j"))] == [2, 3, 4]


def test_clear_by_prefix_keeps_other_apis():
    store = MemoryStore()
    run(store.put("a:x", "1", {}))
    run(store.put("ab:x", "1", {}))
    run(store.log_append("a:journal", {}, 10))
    run(store.clear("a"))
    assert run(store.count("a:x")) == 0 and run(store.log_read("a:journal")) == []
    assert run(store.count("ab:x")) == 1


def test_purge_removes_only_expired_records():
    store = MemoryStore()
    run(store.put("s", "old", {"expires_at": 10}))
    run(store.put("s", "new", {"expires_at": 30}))
    run(store.put("s", "forever", {}))
    assert run(store.purge(20)) == 1
    assert sorted(k for k, _ in run(store.scan("s"))) == ["forever", "new"]
