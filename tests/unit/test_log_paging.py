"""Logs (the journal's storage) read a page at a time, on both stores (issue 23, item 14):
`log_read(ns, after, limit)` returns only the entries past `after`, at most `limit`, in seq
order, whatever order they were appended in."""

from __future__ import annotations

import asyncio

import pytest

from mockserver.store import open_store


@pytest.fixture
def on_store(store_url):
    def run(scenario):
        async def main():
            store = open_store(store_url())
            try:
                return await scenario(store)
            finally:
                await store.close()

        return asyncio.run(main())

    return run


def test_a_page_is_the_entries_past_after_at_most_limit(on_store):
    async def scenario(store):
        for seq in range(1, 21):
            await store.log_append("api:journal", {"id": seq}, 100, seq=seq)
        ids = lambda page: [e["id"] for e in page]  # noqa: E731
        assert ids(await store.log_read("api:journal", after=0, limit=5)) == [1, 2, 3, 4, 5]
        assert ids(await store.log_read("api:journal", after=5, limit=5)) == [6, 7, 8, 9, 10]
        assert ids(await store.log_read("api:journal", after=18, limit=5)) == [19, 20]
        assert await store.log_read("api:journal", after=20, limit=5) == []
        assert ids(await store.log_read("api:journal", after=17)) == [18, 19, 20]
        assert len(await store.log_read("api:journal")) == 20

    on_store(scenario)


def test_entries_appended_out_of_order_read_in_seq_order_and_the_cap_keeps_the_newest(on_store):
    async def scenario(store):
        for seq in (3, 1, 2, 6, 5, 4, 7):  # concurrent writers finish in any order
            await store.log_append("api:journal", {"id": seq}, 5, seq=seq)
        assert [e["id"] for e in await store.log_read("api:journal")] == [3, 4, 5, 6, 7]
        assert [e["id"] for e in await store.log_read("api:journal", after=4, limit=2)] == [5, 6]

    on_store(scenario)


def test_identical_entries_are_kept_apart(on_store):
    async def scenario(store):
        for seq in (1, 2):
            await store.log_append("api:journal", {"same": True}, 10, seq=seq)
        await store.log_append("api:journal", {"same": True}, 10)  # no seq: one past the newest
        assert await store.log_read("api:journal") == [{"same": True}] * 3
        assert await store.log_read("api:journal", after=2) == [{"same": True}]

    on_store(scenario)
