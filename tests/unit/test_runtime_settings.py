"""Runtime settings (mockserver.runtime_settings) with a small API of its own, on both stores:
two RuntimeSettings on one store are two workers (a second connection pool on Redis)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from mockserver.core.api import MockApi
from mockserver.runtime_settings import RuntimeSettings, SettingsChangeError
from mockserver.store import open_store


class Widget(MockApi):
    name = "widget"

    @dataclass
    class Config:
        limit: int = 10
        window: float = 60.0
        keys: list[str] | None = None
        tags: list[str] = field(default_factory=list)

        def __post_init__(self) -> None:
            if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 0:
                raise ValueError(f"limit must be an integer >= 0, got {self.limit!r}")
            if self.window < self.limit:
                raise ValueError("window must not be below limit")

    def __init__(self, ctx, config) -> None:
        super().__init__(ctx, config)
        self.built_with = config.limit  # something derived at __init__, as a rate window is


def widget(store, **startup) -> Widget:
    ctx = SimpleNamespace(store=store, clock=None)
    return Widget(ctx, Widget.make_config(startup))


@pytest.fixture
def on_store(store_kind, store_url):
    """`scenario(worker_a, worker_b, store)`: two workers' RuntimeSettings over one store."""

    def run(scenario, startup=None, sources=None):
        async def main():
            url = store_url()
            store = open_store(url)
            other = store if store_kind == "memory" else open_store(url)
            startup_ = startup or {}
            a = RuntimeSettings(
                store, {"widget": widget(store, **startup_)}, {"widget": startup_}, sources
            )
            b = RuntimeSettings(
                other, {"widget": widget(other, **startup_)}, {"widget": startup_}, sources
            )
            try:
                return await scenario(a, b, store)
            finally:
                for s in {id(store): store, id(other): other}.values():
                    await s.close()

        return asyncio.run(main())

    return run


def test_a_change_holds_at_once_here_and_from_the_next_refresh_on_another_worker(on_store):
    async def scenario(a, b, _):
        await a.change("widget", {"limit": 3})
        before = b.apis["widget"].config.limit
        await b.refresh()
        return a.apis["widget"], b.apis["widget"], before

    here, there, before = on_store(scenario)
    assert here.config.limit == 3 and here.built_with == 3  # rebuilt, not only re-pointed
    assert before == 10 and there.config.limit == 3 and there.built_with == 3


def test_changes_add_up_and_are_checked_with_the_start_up_settings(on_store):
    async def scenario(a, _, __):
        await a.change("widget", {"keys": ["k1"]})
        await a.change("widget", {"window": 45.0})
        with pytest.raises(SettingsChangeError) as caught:
            await a.change("widget", {"limit": 50})  # over the window of 45 changed before
        return a.apis["widget"].config, caught.value

    config, error = on_store(scenario, startup={"window": 40.0, "limit": 5})
    assert error.status == 400 and "window must not be below limit" in error.message
    assert (config.limit, config.window, config.keys) == (5, 45.0, ["k1"])


@pytest.mark.parametrize(
    ("changes", "setting", "says"),
    [
        ({"limit": "ten"}, "limit", "expected an integer"),
        ({"limit": -1}, "limit", "limit must be an integer"),
        ({"limit": True}, "limit", "expected an integer"),
        ({"colour": "red"}, "colour", "unknown setting"),
        ({"limit": 2, "colour": "red"}, "colour", "unknown setting"),
    ],
)
def test_a_bad_change_is_refused_whole_and_changes_nothing(on_store, changes, setting, says):
    async def scenario(a, b, _):
        await a.change("widget", {"window": 90.0})
        before = a.describe()
        with pytest.raises(SettingsChangeError) as caught:
            await a.change("widget", changes)
        await b.refresh()
        return caught.value, before, a.describe(), b.describe()

    error, before, after, other = on_store(scenario)
    assert error.status == 400 and error.setting == setting and says in error.message
    assert after == before == other


def test_an_api_that_is_not_enabled_is_404(on_store):
    async def scenario(a, _, __):
        with pytest.raises(SettingsChangeError) as caught:
            await a.change("nope", {"limit": 1})
        return caught.value

    error = on_store(scenario)
    assert error.status == 404 and "'nope' is not enabled" in error.message


def test_clearing_the_store_restores_the_start_up_settings_on_every_worker(on_store):
    async def scenario(a, b, store):
        await a.change("widget", {"limit": 3})
        await b.refresh()
        await store.clear()  # POST /__mock/reset
        await a.refresh()
        await b.refresh()
        return a.apis["widget"].config.limit, b.apis["widget"].config.limit

    assert on_store(scenario, startup={"limit": 7, "window": 90.0}) == (7, 7)


def test_a_reset_then_the_same_change_again_is_still_seen(on_store):
    """Versions are never reused: a worker that saw a change, then a reset, then the same change
    made again must not take the new record for the one it already has."""

    async def scenario(a, b, store):
        await a.change("widget", {"limit": 3})
        await b.refresh()
        await store.clear()
        await a.refresh()
        await a.change("widget", {"limit": 4})
        await b.refresh()
        return b.apis["widget"].config.limit

    assert on_store(scenario) == 4


def test_drop_the_runtime_changes(on_store):
    async def scenario(a, b, _):
        await a.change("widget", {"limit": 3})
        await a.clear("widget")
        await b.refresh()
        with pytest.raises(SettingsChangeError):
            await a.clear("nope")
        await a.change("widget", {"limit": 2})
        await a.clear()
        await b.refresh()
        return a.describe_api("widget")["limit"], b.apis["widget"].config.limit

    limit, other = on_store(scenario)
    assert limit == {"value": 10, "default": 10, "source": "default"} and other == 10


def test_describe_says_where_each_value_came_from(on_store):
    async def scenario(a, _, __):
        await a.change("widget", {"tags": ["x"]})
        return a.describe()

    described = on_store(
        scenario,
        startup={"limit": 5, "window": 90.0, "keys": ["k"]},
        sources={"widget": {"limit": "file", "window": "environment"}},
    )
    assert described == {
        "apis": {
            "widget": {
                "limit": {"value": 5, "default": 10, "source": "file"},
                "window": {"value": 90.0, "default": 60.0, "source": "environment"},
                "keys": {"value": ["k"], "default": None, "source": "arguments"},
                "tags": {"value": ["x"], "default": [], "source": "runtime"},
                # the generic settings every API's Config gets (proxy mode, issue 19)
                "proxy": {"value": None, "default": None, "source": "default"},
                "proxy_mode": {"value": "observe", "default": "observe", "source": "default"},
                "proxy_timeout_seconds": {"value": 10.0, "default": 10.0, "source": "default"},
            }
        }
    }


def test_a_record_this_mock_cannot_apply_leaves_the_start_up_settings(on_store, caplog):
    async def scenario(a, _, store):
        await store.put("_settings", "runtime", {"version": "v", "apis": {"widget": {"x": 1}}})
        await a.refresh()
        return a.apis["widget"].config.limit

    assert on_store(scenario) == 10
    assert "runtime settings of widget ignored" in caplog.text
