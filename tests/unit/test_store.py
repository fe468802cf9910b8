"""The store protocol (mockserver/store/__init__.py), with the same assertions on both stores:
`[memory]` and `[redis]` (a real redis-server; see tests/conftest.py)."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis

from mockserver.store import StoreUnavailable, open_store
from mockserver.store.redis import DEFAULT_PREFIX, RedisStore, split_prefix
from tests.conftest import drop_prefix, redis_url
from tests.redisproc import free_port


@pytest.fixture
def on_store(store_kind, store_url):
    """Run `scenario(store, twin, stranger)` in one event loop: `twin` is a second handle on the
    same state (another worker: a second connection pool on Redis), `stranger` another mock's
    store (another key prefix on the same Redis)."""

    def run(scenario):
        async def main():
            url = store_url()
            store = open_store(url)
            twin = store if store_kind == "memory" else open_store(url)
            stranger = open_store(store_url())
            try:
                return await scenario(store, twin, stranger)
            finally:
                for s in {id(x): x for x in (store, twin, stranger)}.values():
                    await s.close()

        return asyncio.run(main())

    return run


def test_a_record_reads_back_as_written(on_store):
    record = {"name": "Zoë ✓", "n": 1.5, "nested": {"list": [1, None, True]}, "expires_at": 10}

    async def scenario(store, twin, _):
        assert await store.get("api:things", "k") is None
        await store.put("api:things", "k", record)
        assert await twin.get("api:things", "k") == record

    on_store(scenario)


def test_records_are_copies_not_aliases(on_store):
    async def scenario(store, _, __):
        record = {"a": [1]}
        await store.put("x", "k", record)
        record["a"].append(2)
        got = await store.get("x", "k")
        got["a"].append(3)
        assert await store.get("x", "k") == {"a": [1]}

    on_store(scenario)


def test_get_many_answers_in_key_order_with_none_for_missing(on_store):
    async def scenario(store, _, __):
        await store.put("x", "a", {"v": "a"})
        await store.put("x", "c", {"v": "c"})
        assert await store.get_many("x", ["c", "b", "a"]) == [{"v": "c"}, None, {"v": "a"}]
        assert await store.get_many("x", []) == []

    on_store(scenario)


def test_a_batch_read_gives_what_get_and_scan_give(on_store):
    async def scenario(store, twin, stranger):
        await store.put("a:x", "k", {"v": 1})
        await store.put("a:y", "k1", {"v": 2})
        await store.put("a:y", "k2", {"v": 3})
        await stranger.put("a:x", "gone", {"v": 4})  # another mock's: never read
        records, spaces = await twin.read_batch(
            [("a:x", "k"), ("a:x", "nothing"), ("none", "k"), ("a:y", "k2")],
            ["a:y", "none", "a:x"],
        )
        assert records == [{"v": 1}, None, None, {"v": 3}]
        assert [sorted(items) for items in spaces] == [
            sorted(await store.scan("a:y")),
            [],
            [("k", {"v": 1})],
        ]
        assert await twin.read_batch([], []) == ([], [])
        got = (await twin.read_batch([("a:x", "k")], []))[0][0]
        got["v"] = 9  # a copy, as `get` gives
        assert await store.get("a:x", "k") == {"v": 1}

    on_store(scenario)


def redis_commands(url: str, warm, measured) -> tuple[object, dict[str, int]]:
    """What `measured(store)` returned, and the commands Redis counted while it ran (INFO
    commandstats, scripted commands included), after `warm(store)`."""

    async def main():
        store = open_store(url)
        client = redis.Redis.from_url(split_prefix(url)[0])
        try:
            await warm(store)
            client.config_resetstat()
            got = await measured(store)
            stats = client.info("commandstats")
        finally:
            await store.close()
            client.close()
        return got, {k: v["calls"] for k, v in stats.items() if k != "cmdstat_config|resetstat"}

    return asyncio.run(main())


def test_a_batch_read_is_one_redis_command(store_kind, store_url):
    """Issue 16: the reads a request makes before its engine travel as one EVALSHA."""
    if store_kind != "redis":
        pytest.skip("counts Redis commands")

    async def warm(store):
        await store.put("s", "k", {"v": 1})
        await store.read_batch([("s", "k")], ["s"])  # loads the script

    got, sent = redis_commands(
        store_url(), warm, lambda store: store.read_batch([("s", "k"), ("t", "k")], ["s", "t"])
    )
    assert got == ([{"v": 1}, None], [[("k", {"v": 1})], []])
    assert sent.get("cmdstat_evalsha") == 1
    assert set(sent) - {"cmdstat_evalsha"} <= {"cmdstat_hget", "cmdstat_hgetall"}


def test_clear_and_replace_count_as_rewrites(on_store):
    """What a reader holding a record (the clock's, for one request) checks it by."""

    async def scenario(store, _, __):
        start = store.rewrites
        await store.put("a", "k", {})
        await store.update("a", "k", lambda old: ({"n": 1}, None))
        assert store.rewrites == start  # ordinary writes don't count
        await store.clear("a")
        assert store.rewrites == start + 1
        await store.replace({"a": {"k": {}}})
        assert store.rewrites == start + 2
        await store.clear()
        assert store.rewrites == start + 3

    on_store(scenario)


def test_a_batch_read_on_a_restarted_redis_is_sent_again_not_a_503():
    """A read only reads: one whose pooled connection Redis closed is sent once more."""
    from tests.redisproc import RedisProcess

    with RedisProcess() as server:

        async def main():
            store = open_store(server.url)
            try:
                await store.put("s", "k", {"v": 1})
                assert (await store.read_batch([("s", "k")], []))[0] == [{"v": 1}]
                server.stop()
                server.start()
                return await store.read_batch([("s", "k")], ["s"])
            finally:
                await store.close()

        assert asyncio.run(main()) == ([None], [[]])  # a fresh Redis: nothing kept


def test_delete_says_whether_there_was_a_record(on_store):
    async def scenario(store, _, __):
        await store.put("x", "k", {})
        assert await store.delete("x", "k") is True
        assert await store.delete("x", "k") is False
        assert await store.get("x", "k") is None

    on_store(scenario)


def test_scan_and_count_see_one_namespace_only(on_store):
    async def scenario(store, _, __):
        await store.put("api:s", "1", {"i": 1})
        await store.put("api:s", "2", {"i": 2})
        await store.put("api:st", "3", {"i": 3})
        await store.put("api", "4", {"i": 4})
        assert sorted(await store.scan("api:s"), key=lambda kv: kv[0]) == [
            ("1", {"i": 1}),
            ("2", {"i": 2}),
        ]
        assert await store.count("api:s") == 2
        assert await store.count("nothing") == 0
        assert await store.scan("nothing") == []

    on_store(scenario)


def test_update_creates_changes_and_deletes_and_returns_fns_result(on_store):
    async def scenario(store, _, __):
        assert await store.update("x", "k", lambda old: ({"n": 1}, ("made", old))) == (
            "made",
            None,
        )
        assert await store.update("x", "k", lambda old: ({"n": old["n"] + 1}, old["n"])) == 1
        assert await store.get("x", "k") == {"n": 2}
        assert await store.update("x", "k", lambda old: (None, "gone")) == "gone"
        assert await store.get("x", "k") is None
        assert await store.update("x", "k", lambda old: (None, old)) is None

    on_store(scenario)


def test_update_writes_nothing_when_fn_raises(on_store):
    def boom(old):
        old["n"] = 99
        raise ValueError("no")

    async def scenario(store, _, __):
        await store.put("x", "k", {"n": 1})
        with pytest.raises(ValueError):
            await store.update("x", "k", boom)
        assert await store.get("x", "k") == {"n": 1}

    on_store(scenario)


def test_concurrent_updates_from_two_workers_lose_nothing(on_store):
    def increment(old):
        n = (old or {"n": 0})["n"] + 1
        return {"n": n}, n

    async def scenario(store, twin, _):
        results = await asyncio.gather(
            *[(store if i % 2 else twin).update("x", "counter", increment) for i in range(300)]
        )
        assert sorted(results) == list(range(1, 301))  # every increment saw a distinct value
        assert await store.get("x", "counter") == {"n": 300}

    on_store(scenario)


def test_concurrent_updates_of_other_records_in_a_namespace_all_land(on_store):
    async def scenario(store, twin, _):
        await asyncio.gather(
            *[
                (store if i % 2 else twin).update("x", f"k{i}", lambda old, i=i: ({"i": i}, None))
                for i in range(200)
            ]
        )
        assert await store.count("x") == 200

    on_store(scenario)


def test_insert_creates_only_when_absent(on_store):
    async def scenario(store, twin, _):
        assert await store.insert("x", "k", {"n": 1, "expires_at": 5}) is True
        assert await twin.insert("x", "k", {"n": 2}) is False
        assert await store.get("x", "k") == {"n": 1, "expires_at": 5}
        await store.delete("x", "k")
        assert await twin.insert("x", "k", {"n": 3}) is True
        assert await store.get("x", "k") == {"n": 3}

    on_store(scenario)


def test_insert_replaces_only_a_record_the_callers_rule_calls_expired(on_store):
    judged = []

    def expired(old):
        judged.append(old)
        return old["until"] < 10

    async def scenario(store, _, __):
        await store.put("x", "live", {"until": 10})
        await store.put("x", "dead", {"until": 9})
        assert await store.insert("x", "live", {"until": 99}, expired) is False
        assert await store.insert("x", "dead", {"until": 99}, expired) is True
        assert await store.get_many("x", ["live", "dead"]) == [{"until": 10}, {"until": 99}]
        assert judged == [{"until": 10}, {"until": 9}]
        assert await store.insert("x", "new", {"until": 1}, expired) is True
        assert len(judged) == 2  # nothing stored: nothing to judge

    on_store(scenario)


def test_insert_writes_nothing_when_the_rule_raises(on_store):
    def boom(old):
        raise ValueError("no")

    async def scenario(store, _, __):
        await store.put("x", "k", {"n": 1})
        with pytest.raises(ValueError):
            await store.insert("x", "k", {"n": 2}, boom)
        assert await store.get("x", "k") == {"n": 1}

    on_store(scenario)


@pytest.mark.parametrize("stored", [None, {"n": -1}], ids=["absent", "expired"])
def test_of_concurrent_inserts_from_two_workers_exactly_one_writes(on_store, stored):
    def expired(old):
        return old["n"] < 0

    async def scenario(store, twin, _):
        for round_ in range(20):
            key = f"k{round_}"
            if stored is not None:
                await store.put("x", key, stored)
            wins = await asyncio.gather(
                *[(store if i % 2 else twin).insert("x", key, {"n": i}, expired) for i in range(8)]
            )
            assert wins.count(True) == 1, (round_, wins)
            assert await store.get("x", key) == {"n": wins.index(True)}

    on_store(scenario)


def test_log_is_a_ring_buffer_oldest_first(on_store):
    async def scenario(store, twin, _):
        lengths = [await store.log_append("api:journal", {"i": i}, 3) for i in range(5)]
        assert lengths == [1, 2, 3, 3, 3]
        assert [e["i"] for e in await twin.log_read("api:journal")] == [2, 3, 4]
        await store.log_clear("api:journal")
        assert await store.log_read("api:journal") == []

    on_store(scenario)


def test_an_update_after_another_worker_wrote_builds_on_what_it_wrote(on_store):
    """The Redis store may guess a record from its own last write (one round trip): the guess
    never wins over what another worker stored since."""

    def add(n):
        return lambda old: ({"n": (old or {"n": 0})["n"] + n}, None)

    async def scenario(store, twin, _):
        await store.update("ns", "k", add(1))
        await twin.update("ns", "k", add(10))
        await store.update("ns", "k", add(100))
        await twin.delete("ns", "k")
        await store.update("ns", "k", add(1000))
        assert await twin.get("ns", "k") == {"n": 1000}

    on_store(scenario)


def test_two_workers_hammering_one_record_never_give_up(on_store):
    """Under steady contention a conflict is retried on a fresh read, never on what the
    compare-and-set answered before a back-off (it would be old by then, every time)."""

    def add(old):
        return {"n": (old or {"n": 0})["n"] + 1}, None

    async def scenario(store, twin, _):
        async def hammer(s, times):
            for _ in range(times):
                await s.update("ns", "hot", add)

        await asyncio.gather(hammer(store, 40), hammer(twin, 1500), hammer(twin, 1500))
        assert await store.get("ns", "hot") == {"n": 3040}

    on_store(scenario)


def test_an_update_that_refuses_a_stale_guess_is_judged_on_the_stored_record(on_store):
    def revive(old):
        if not (old or {}).get("alive"):
            raise LookupError("gone")
        return {**old, "beats": old["beats"] + 1}, old["beats"] + 1

    async def scenario(store, twin, _):
        await store.update("ns", "k", lambda old: ({"alive": False, "beats": 0}, None))
        await twin.put("ns", "k", {"alive": True, "beats": 5})
        assert await store.update("ns", "k", revive) == 6
        await twin.put("ns", "k", {"alive": False, "beats": 6})
        with pytest.raises(LookupError):
            await store.update("ns", "k", revive)
        assert await twin.get("ns", "k") == {"alive": False, "beats": 6}

    on_store(scenario)


def test_a_numbered_append_counts_and_appends_in_one_step(on_store):
    async def scenario(store, twin, _):
        counter = ("_journal", "seq")
        seqs = [
            await (store if i % 2 else twin).log_append_numbered(
                "api:journal", '{"id":', f',"i":{i}}}', 3, counter
            )
            for i in range(5)
        ]
        assert seqs == [1, 2, 3, 4, 5]  # one counter, whichever worker writes
        assert await twin.get("_journal", "seq") == {"n": 5}
        assert await store.log_read("api:journal") == [{"id": n, "i": n - 1} for n in (3, 4, 5)]
        assert [seq for seq, _ in await twin.log_read_text("api:journal")] == [3, 4, 5]

    on_store(scenario)


def test_a_numbered_append_continues_a_counter_another_writer_left(on_store):
    async def scenario(store, _, __):
        await store.put("_journal", "seq", {"n": 41})
        assert await store.log_append_numbered("a:journal", "[", "]", 10, ("_journal", "seq")) == 42
        assert await store.log_read_text("a:journal") == [(42, "[42]")]
        await store.put("_journal", "seq", {"n": 50, "by": "a snapshot"})  # any record's form
        assert await store.log_append_numbered("a:journal", "[", "]", 10, ("_journal", "seq")) == 51
        assert await store.get("_journal", "seq") == {"n": 51}

    on_store(scenario)


def test_concurrent_numbered_appends_from_two_workers_get_distinct_ids(on_store):
    async def scenario(store, twin, _):
        async def write(s, i):
            return await s.log_append_numbered("a:journal", "[", "]", 100, ("_journal", "seq"))

        seqs = await asyncio.gather(*(write(store if i % 2 else twin, i) for i in range(40)))
        assert sorted(seqs) == list(range(1, 41))
        assert [seq for seq, _ in await store.log_read_text("a:journal")] == list(range(1, 41))

    on_store(scenario)


def test_one_journal_write_is_one_redis_round_trip(store_kind, store_url):
    """Issue 16: the counter, the append and the trim in one EVALSHA (INFO commandstats)."""
    if store_kind != "redis":
        pytest.skip("counts Redis commands")

    def append(store):
        return store.log_append_numbered("a:journal", "[", "]", 5, ("_journal", "seq"))

    _, sent = redis_commands(store_url(), append, append)  # the first loads the script
    # scripted commands are counted too; only EVALSHA travelled
    assert sent.get("cmdstat_evalsha") == 1
    assert set(sent) - {"cmdstat_evalsha"} <= {
        "cmdstat_hget",
        "cmdstat_hset",
        "cmdstat_zadd",
        "cmdstat_zremrangebyrank",
    }


def test_a_log_and_records_of_one_namespace_are_apart(on_store):
    async def scenario(store, _, __):
        await store.put("api:journal", "k", {"record": True})
        await store.log_append("api:journal", {"entry": True}, 10)
        assert await store.scan("api:journal") == [("k", {"record": True})]
        assert await store.log_read("api:journal") == [{"entry": True}]

    on_store(scenario)


def test_clear_by_prefix_keeps_other_apis(on_store):
    async def scenario(store, _, __):
        await store.put("a", "1", {})
        await store.put("a:x", "1", {})
        await store.put("ab:x", "1", {})
        await store.log_append("a:journal", {}, 10)
        await store.log_append("ab:journal", {}, 10)
        await store.clear("a")
        assert await store.count("a") == 0 and await store.count("a:x") == 0
        assert await store.log_read("a:journal") == []
        assert await store.count("ab:x") == 1
        assert len(await store.log_read("ab:journal")) == 1

    on_store(scenario)


def test_clear_forgets_everything_of_this_mock_only(on_store):
    async def scenario(store, _, stranger):
        await store.put("a:x", "1", {})
        await store.log_append("a:journal", {}, 10)
        await stranger.put("a:x", "1", {"theirs": True})
        await store.clear()
        assert await store.count("a:x") == 0 and await store.log_read("a:journal") == []
        assert await stranger.get("a:x", "1") == {"theirs": True}

    on_store(scenario)


def test_two_mocks_never_see_each_others_records(on_store):
    async def scenario(store, _, stranger):
        await store.put("a:x", "1", {"mine": True})
        assert await stranger.get("a:x", "1") is None
        assert await stranger.scan("a:x") == []

    on_store(scenario)


def test_purge_removes_only_records_expired_before_now(on_store):
    async def scenario(store, _, __):
        await store.put("s", "old", {"expires_at": 10})
        await store.put("s", "edge", {"expires_at": 20})
        await store.put("s", "new", {"expires_at": 30})
        await store.put("s", "forever", {})
        await store.put("t", "old", {"expires_at": 5})
        assert await store.purge(20) == 2
        assert sorted(k for k, _ in await store.scan("s")) == ["edge", "forever", "new"]
        assert await store.count("t") == 0

    on_store(scenario)


# --- Redis only ----------------------------------------------------------------------------


def test_the_key_prefix_comes_from_the_url_and_defaults_to_mockserver():
    assert split_prefix("redis://h:1/2?prefix=staging:&socket_timeout=1") == (
        "redis://h:1/2?socket_timeout=1",
        "staging:",
    )
    assert split_prefix("redis://h:1/2") == ("redis://h:1/2", DEFAULT_PREFIX)


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:1/0?socket_timeout=soon", "redis://127.0.0.1:abc/0", "redis://h:1/x"],
)
def test_an_invalid_redis_url_is_a_clear_error(url):
    with pytest.raises(ValueError, match="invalid Redis URL"):
        RedisStore(url)


def test_every_call_on_an_unreachable_redis_raises_store_unavailable():
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0?socket_connect_timeout=0.5")
    calls = [
        lambda: store.get("x", "k"),
        lambda: store.get_many("x", ["k"]),
        lambda: store.read_batch([("x", "k")], ["x"]),
        lambda: store.put("x", "k", {}),
        lambda: store.delete("x", "k"),
        lambda: store.scan("x"),
        lambda: store.count("x"),
        lambda: store.update("x", "k", lambda old: ({}, None)),
        lambda: store.insert("x", "k", {}),
        lambda: store.log_append("x", {}, 10),
        lambda: store.log_read("x"),
        lambda: store.log_clear("x"),
        lambda: store.clear(),
        lambda: store.purge(0),
    ]

    async def scenario():
        try:
            for call in calls:
                with pytest.raises(StoreUnavailable, match="Redis at redis://127.0.0.1"):
                    await call()
        finally:
            await store.close()

    asyncio.run(scenario())


def test_an_expired_record_revived_while_insert_judged_it_is_judged_again(redis_server):
    """An `update` (a heartbeat) that lands between insert's read and its write wins: the
    replacement is a compare-and-set of exactly the record that was judged expired."""
    url = redis_url(redis_server)
    store = RedisStore(url)
    direct = redis.Redis.from_url(store.where, decode_responses=True)
    judged = []

    def expired(old):
        judged.append(old)
        if len(judged) == 1:  # a heartbeat from another worker refreshes it right now
            direct.hset(store._hash("x"), "k", json.dumps({"alive": True}))
        return "alive" not in old

    async def scenario():
        try:
            await store.put("x", "k", {"dead": True})
            assert await store.insert("x", "k", {"new": True}, expired) is False
            assert await store.get("x", "k") == {"alive": True}
            assert judged == [{"dead": True}, {"alive": True}]
        finally:
            await store.close()
            direct.close()
            drop_prefix(redis_server, url)

    asyncio.run(scenario())


def test_a_password_never_appears_in_a_store_error():
    store = RedisStore(f"redis://user:s3cret@127.0.0.1:{free_port()}/0")

    async def scenario():
        try:
            with pytest.raises(StoreUnavailable) as info:
                await store.get("x", "k")
            assert "s3cret" not in str(info.value)
        finally:
            await store.close()

    asyncio.run(scenario())
