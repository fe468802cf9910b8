"""The gate's answer completes even when its journal entry can't be written (issue 23, item 5: on
Redis an accepted heartbeat once went out as a 200 with a Content-Length and no body)."""

from __future__ import annotations

import asyncio
import json

import pytest

from mockserver.app import build_app
from mockserver.settings import Settings
from tests.conftest import leave_mid_body


def call(app, body: bytes) -> list[dict]:
    """One POST /v2/general/servers/1/heartbeat straight into the ASGI app; what it sent."""
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v2/general/servers/1/heartbeat",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer gate-key"),
        ],
        "asgi": {"version": "3.0"},
    }
    try:
        asyncio.run(app(scope, receive, send))
    except RuntimeError as exc:
        assert "journal broke" in str(exc)
    return sent


def test_the_answer_goes_out_whole_when_the_journal_fails():
    app = build_app(Settings(apis=["sonoran"]))

    async def broken(api, entry):
        raise RuntimeError("journal broke")

    app.ctx.journal.record = broken
    sent = call(app, b'{"playerCount": 7}')
    start, *bodies = sent
    assert start["type"] == "http.response.start" and start["status"] == 200
    body = b"".join(m.get("body", b"") for m in bodies)
    assert json.loads(body)["playerCount"] == 7
    assert bodies[-1].get("more_body", False) is False


@pytest.mark.parametrize("raw", [b'{"playerCount": 7, "x": "\\ud800"}', b'{"playerCount": 1e400}'])
def test_a_body_the_validator_refuses_reaches_the_journal_as_text(raw):
    app = build_app(Settings(apis=["sonoran"]))
    recorded: list[dict] = []

    async def record(api, entry):
        recorded.append(entry)

    app.ctx.journal.record = record
    (start, *_) = call(app, raw)
    assert start["status"] == 400
    assert recorded[0]["request"]["body"] == raw.decode()


def _preflight(app, events: list[str]) -> None:
    """One CORS preflight into the ASGI app, noting the order of answer messages and the
    journal write in `events`."""
    record = app.ctx.journal.record

    async def journal(api, entry):
        events.append("journal")
        await record(api, entry)

    app.ctx.journal.record = journal

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        events.append(message["type"])

    scope = {
        "type": "http",
        "method": "OPTIONS",
        "path": "/api/heartbeat",
        "query_string": b"",
        "headers": [(b"origin", b"https://example.test")],
        "asgi": {"version": "3.0"},
    }
    asyncio.run(app(scope, receive, send))


def test_an_answer_without_a_body_starts_only_after_its_journal_entry():
    """A 204 is complete for the client once its start is sent (no body follows), so its start
    must wait for the journal too: a client asking the journal right after its answer finds it
    (on Redis 13 of 40 preflights once found the journal empty)."""
    app = build_app(Settings(apis=["statusbadge"]))
    events: list[str] = []
    _preflight(app, events)
    assert events == ["journal", "http.response.start", "http.response.body"]


def test_a_native_request_whose_client_leaves_before_its_body_ends_changes_nothing(store_url):
    """The body so far is a whole, valid heartbeat, but the client declared more and went away:
    no server is stored, nothing is sent to nobody, and the journal keeps what arrived, marked
    incomplete (status 0, as a dropped request)."""
    app = build_app(Settings(store=store_url(), apis=["statusbadge"]))
    beat = json.dumps({"token": "sk_live_gone", "data": {"name": "half", "status": "online"}})

    async def call() -> tuple[list, list, list]:
        try:
            sent = await leave_mid_body(app, "/api/heartbeat", beat.encode() + b"   ", 900)
            now = await app.ctx.clock.now()
            stored = await app.ctx.apis["statusbadge"].fake.all(now)
            return stored, await app.ctx.journal.entries(), sent
        finally:
            await app.ctx.store.close()

    stored, journal, sent = asyncio.run(call())
    assert stored == [] and sent == []
    [entry] = journal
    assert entry["status"] == 0 and not entry["valid"]
    assert [v["rule"] for v in entry["violations"]] == ["incomplete"]
