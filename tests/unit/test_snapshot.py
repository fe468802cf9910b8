"""Snapshots (mockserver.snapshot) and the two store calls they stand on, `namespaces` and
`replace`, on both stores (`[memory]` and `[redis]`, a real redis-server)."""

from __future__ import annotations

import asyncio

import pytest

from mockserver.core.clock import Clock
from mockserver.snapshot import FORMAT, SnapshotError, Snapshots
from mockserver.store import StoreUnavailable, open_store
from tests.redisproc import free_port

T0 = 1_800_000_000.0
SCHEMAS = {
    "things": {
        "type": "object",
        "required": ["n"],
        "properties": {"n": {"type": "integer", "minimum": 0}},
    }
}


class Declared:
    """An API that declares its record schemas."""

    record_schemas = SCHEMAS


class Undeclared:
    """An API that declares none: any JSON object is a record."""


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


def frozen_clock(store) -> Clock:
    return Clock(store, real_time=lambda: T0)


def doc(apis: dict, now: str = "2027-01-15T08:00:00.000000Z", frozen: bool = True) -> dict:
    return {"format": FORMAT, "clock": {"now": now, "frozen": frozen}, "apis": apis}


def test_namespaces_lists_only_the_prefix_and_its_children_with_records(on_store):
    async def scenario(store):
        await store.put("alpha:things", "k", {"n": 1})
        await store.put("alpha", "k", {"n": 1})
        await store.put("alphabet:x", "k", {"n": 1})
        await store.put("alpha:gone", "k", {"n": 1})
        await store.delete("alpha:gone", "k")
        await store.log_append("alpha:journal", {"id": 1}, 10)
        return await store.namespaces("alpha")

    assert on_store(scenario) == ["alpha", "alpha:things"]


def test_replace_sets_every_namespace_exactly(on_store):
    async def scenario(store):
        await store.put("a:one", "old", {"n": 1})
        await store.put("a:two", "old", {"n": 2})
        await store.put("b:other", "keep", {"n": 3})
        await store.replace({"a:one": {"new": {"n": 4, "expires_at": 5.0}}, "a:two": {}})
        return (
            dict(await store.scan("a:one")),
            await store.scan("a:two"),
            dict(await store.scan("b:other")),
            await store.namespaces("a"),
            await store.purge(10.0),
        )

    one, two, other, spaces, purged = on_store(scenario)
    assert one == {"new": {"n": 4, "expires_at": 5.0}} and two == []
    assert other == {"keep": {"n": 3}} and spaces == ["a:one"]
    assert purged == 1  # replaced records carry their expiry for the purge, as put's do


def test_replace_with_a_value_it_cannot_store_writes_nothing(on_store):
    async def scenario(store):
        await store.put("a:one", "old", {"n": 1})
        with pytest.raises(TypeError):
            await store.replace({"a:two": {"k": {"n": 2}}, "a:one": {"k": {"n": object()}}})
        return await store.namespaces("a"), dict(await store.scan("a:one"))

    assert on_store(scenario) == (["a:one"], {"old": {"n": 1}})


def test_a_snapshot_holds_records_and_the_clock_but_not_faults_or_the_journal(on_store):
    async def scenario(store):
        clock = frozen_clock(store)
        await clock.set(T0 + 60, frozen=True)
        await store.put("alpha:things", "b", {"n": 2})
        await store.put("alpha:things", "a", {"n": 1})
        await store.put("alpha:faults", "fault-1", {"seq": 1})
        await store.log_append("alpha:journal", {"id": 1}, 10)
        return await Snapshots(store, clock, {"alpha": Declared, "beta": Undeclared}).take()

    taken = on_store(scenario)
    assert taken["format"] == 1 and taken["mock"] == "heartbeat-mockserver"
    assert taken["clock"] == {"now": "2027-01-15T08:01:00.000000Z", "frozen": True}
    assert taken["apis"] == {"alpha": {"things": {"a": {"n": 1}, "b": {"n": 2}}}, "beta": {}}
    assert list(taken["apis"]["alpha"]["things"]) == ["a", "b"]  # sorted: diffable documents


def test_restore_replaces_the_whole_state_and_keeps_faults_and_journal(on_store):
    async def scenario(store):
        clock = frozen_clock(store)
        snapshots = Snapshots(store, clock, {"alpha": Declared, "beta": Undeclared})
        await store.put("alpha:things", "old", {"n": 9})
        await store.put("beta:stuff", "old", {"x": 1})
        await store.put("alpha:faults", "fault-1", {"seq": 1})
        await store.log_append("alpha:journal", {"id": 1}, 10)
        answer = await snapshots.restore(doc({"alpha": {"things": {"new": {"n": 1}}}}))
        return (
            answer,
            await snapshots.take(),
            await store.scan("alpha:faults"),
            await store.log_read("alpha:journal"),
        )

    answer, after, faults, journal = on_store(scenario)
    assert answer["restored"] == {"alpha": {"things": 1}, "beta": {}}
    assert answer["clock"]["now"] == "2027-01-15T08:00:00.000000Z" and answer["clock"]["frozen"]
    assert after["apis"] == {"alpha": {"things": {"new": {"n": 1}}}, "beta": {}}
    assert faults == [("fault-1", {"seq": 1})] and journal == [{"id": 1}]


def test_a_running_clock_restores_running_from_the_snapshot_instant(on_store):
    real = [T0]

    async def scenario(store):
        clock = Clock(store, real_time=lambda: real[0])
        await Snapshots(store, clock, {}).restore(doc({}, "2030-01-01T00:00:00Z", frozen=False))
        first = await clock.describe()
        real[0] += 5
        return first, await clock.describe()

    first, later = on_store(scenario)
    assert first["now"] == "2030-01-01T00:00:00.000000Z" and first["frozen"] is False
    assert later["now"] == "2030-01-01T00:00:05.000000Z"


def test_a_taken_snapshot_restores_to_the_same_snapshot(on_store):
    async def scenario(store):
        clock = frozen_clock(store)
        apis = {"alpha": Declared, "beta": Undeclared}
        await store.put("alpha:things", "a", {"n": 1, "expires_at": T0 + 5})
        await store.put("beta:stuff", "k", {"deep": {"list": [1, "two", None]}})
        taken = await Snapshots(store, clock, apis).take()
        await store.clear()
        await Snapshots(store, clock, apis).restore(taken)
        return taken, await Snapshots(store, clock, apis).take()

    taken, again = on_store(scenario)
    assert taken == again


BAD = [
    ([], "", "must be a JSON object"),
    ({**doc({}), "format": 2}, "format", "must be 1"),
    ({**doc({}), "format": True}, "format", "must be 1"),
    ({"format": 1, "apis": {}}, "clock", "is required"),
    ({"format": 1, "clock": {"now": "2027-01-01T00:00:00Z", "frozen": True}}, "apis", "required"),
    ({**doc({}), "journal": []}, "journal", "unknown member"),
    (doc({}, now="yesterday"), "clock.now", "ISO-8601"),
    (doc({}, now="0001-01-01T00:00:00Z"), "clock.now", "1970"),
    (doc({}, now="9500-01-01T00:00:00Z"), "clock.now", "9000-12-31T23:59:59Z"),
    ({**doc({}), "clock": {"now": "2027-01-01T00:00:00Z"}}, "clock.frozen", "true or false"),
    ({**doc({}), "clock": {"now": 5, "frozen": False}}, "clock.now", "ISO-8601"),
    (doc({"gamma": {}}), "apis.gamma", "not an enabled API"),
    (doc({"alpha": []}), "apis.alpha", "JSON object"),
    (doc({"alpha": {"faults": {}}}), "apis.alpha.faults", "not a namespace"),
    (doc({"alpha": {"other": {}}}), "apis.alpha.other", "not one of this API's namespaces"),
    (doc({"beta": {"bad name!": {}}}), "apis.beta.bad name!", "not a namespace"),
    (doc({"alpha": {"things": {"k": []}}}), "apis.alpha.things.k", "JSON object"),
    (doc({"alpha": {"things": {"k": {"n": -1}}}}), "apis.alpha.things.k.n", "minimum"),
    (doc({"alpha": {"things": {"k": {}}}}), "apis.alpha.things.k", "required"),
    (doc({"beta": {"s": {"k": {"expires_at": "soon"}}}}), "apis.beta.s.k.expires_at", "number"),
    (doc({"beta": {"s": {"k": {"expires_at": True}}}}), "apis.beta.s.k.expires_at", "number"),
    (doc({"beta": {"s": {"": {}}}}), "apis.beta.s.", "1 to 1024"),
    (doc({"beta": {"s": {"\ud800": {}}}}), "", "not Unicode"),
    (doc({"beta": {"s": {"k": {"n": float("nan")}}}}), "", "NaN"),
]


@pytest.mark.parametrize(("document", "field", "says"), BAD, ids=[b[1] or "root" for b in BAD])
def test_a_bad_document_is_refused_naming_where_and_changes_nothing(
    on_store, document, field, says
):
    async def scenario(store):
        clock = frozen_clock(store)
        await clock.set(T0, frozen=True)
        snapshots = Snapshots(store, clock, {"alpha": Declared, "beta": Undeclared})
        await store.put("alpha:things", "old", {"n": 1})
        before = await snapshots.take()
        with pytest.raises(SnapshotError) as caught:
            await snapshots.restore(document)
        return caught.value, before, await snapshots.take()

    error, before, after = on_store(scenario)
    assert error.field == field and says in error.message
    assert after == before


def test_restore_against_an_unreachable_redis_is_unavailable_and_raises_nothing_else():
    async def scenario():
        store = open_store(f"redis://127.0.0.1:{free_port()}/0?socket_connect_timeout=0.5")
        try:
            await Snapshots(store, frozen_clock(store), {"beta": Undeclared}).restore(doc({}))
        finally:
            await store.close()

    with pytest.raises(StoreUnavailable):
        asyncio.run(scenario())
