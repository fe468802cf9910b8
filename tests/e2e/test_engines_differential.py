"""The two engines answer alike (issue 16; DESIGN.md, "Two engines, one behaviour").

The same settings are built twice, once with `engine = "connexion"` (the reference engine alone)
and once with `engine = "compiled"`, seeded alike on one frozen clock. Every request goes to both
in process, as an ASGI server would send it (so headers, framing and odd bytes are exactly what
the test says), and the two must agree on the status, every header in order, the body bytes, the
warnings and errors they log, and afterwards on every journal entry and every stored record.
Generated ids (PlayWave's request_id, Lucit's instruction ids) are masked.

The cases: the research differential's hand-written ones (engine_requests.fixed_cases), and
hypothesis-generated sequences of requests to every native operation (engine_requests.requests),
in four configurations: default and pinned settings, response validation on and off. Each test
also checks that the compiled path answered every operation it compiled at least once, so a
compiled path that never answers cannot pass.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import re
from collections import deque
from http import HTTPStatus
from urllib.parse import quote

import pytest
from connexion.lifecycle import ConnexionResponse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from mockserver.apis import api_class
from mockserver.app import build_app
from mockserver.http.gate import ApiGate
from mockserver.settings import Settings
from mockserver.store import StoreUnavailable
from tests.e2e.engine_requests import (
    APIS,
    APP_ID,
    JSON,
    PUBLIC_ID,
    SYSTEM,
    Req,
    dump,
    fixed_cases,
    requests,
)

pytestmark = pytest.mark.e2e

EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z
MASKS = [
    (re.compile(r"req_[0-9a-f]{12}"), "req_<id>"),
    (re.compile(r"LCUID-LDRI-[0-9a-f-]{36}"), "LCUID-LDRI-<uuid>"),
]
PINNED = {
    "collect": {
        "forbidden_users": ["evil"],
        "users": {"alice": "secret", "user": "pw", "evil": "pw"},
        "systems": [SYSTEM],
    },
    "lucit": {"app_ids": [APP_ID], "tokens": ["t", "k"]},
    "playwave": {"api_keys": ["k1", "gamekey", "pinned-key"]},
    "sonoran": {"server_ids": [1, 5, 7, 2147483647], "rate_limit_per_minute": 10},
}
CONFIGS = {
    "default": Settings(validate_responses=True),
    "default-unvalidated": Settings(),
    "pinned": Settings(validate_responses=True, api_settings=PINNED),
    "pinned-unvalidated": Settings(api_settings=PINNED),
}


def masked(text: str | bytes) -> str:
    text = text.decode("latin-1") if isinstance(text, bytes) else text
    for rx, replacement in MASKS:
        text = rx.sub(replacement, text)
    return text


async def call(app, req: Req) -> dict:
    headers = list(req.headers)
    if req.chunked:
        headers.append((b"transfer-encoding", b"chunked"))
    else:
        headers.append((b"content-length", str(len(req.body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": req.method,
        "scheme": "http",
        "path": req.path,
        "raw_path": quote(req.path).encode(),
        "root_path": "",
        "query_string": req.query,
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    half = len(req.body) // 2 if req.chunked else len(req.body)
    chunks = deque([(req.body[:half], True), (req.body[half:], False)] if req.chunked else [])
    chunks = chunks or deque([(req.body, False)])
    out = {"status": None, "headers": None, "body": b""}

    async def receive():
        if not chunks:
            await asyncio.Event().wait()  # the client is still there; nothing more comes
        body, more = chunks.popleft()
        return {"type": "http.request", "body": body, "more_body": more}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = [(bytes(k), bytes(v)) for k, v in message["headers"]]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await asyncio.wait_for(app(scope, receive, send), 30)
    return out


class _Logged(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, masked(record.getMessage())))


class Engines:
    """One configuration built twice (reference engine alone, compiled), seeded alike."""

    def __init__(self, config: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.ref = build_app(config.replace(engine="connexion"))
        self.fast = build_app(config.replace(engine="compiled"))
        for app in (self.ref, self.fast):
            self.run(seed(app))
        self.saved = [_state(app) for app in (self.ref, self.fast)]
        self.log = _Logged()
        logging.getLogger().addHandler(self.log)

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def restore(self) -> None:
        """Both apps back to their seeded state (the memory store's records and journals)."""
        for app, (data, logs) in zip((self.ref, self.fast), self.saved, strict=True):
            app.ctx.store._data = {ns: dict(space) for ns, space in data.items()}
            app.ctx.store._logs = {ns: deque(log, maxlen=log.maxlen) for ns, log in logs.items()}

    def close(self) -> None:
        logging.getLogger().removeHandler(self.log)
        self.loop.close()

    def differences(self, req: Req) -> list[str]:
        """Send `req` to both; what differs (nothing, when they agree)."""
        answers = []
        for app in (self.ref, self.fast):
            self.log.records = []
            answer = self.run(call(app, req))
            answers.append((answer["status"], answer["headers"], masked(answer["body"])))
            answers[-1] += (list(self.log.records),)
        if answers[0] == answers[1]:
            return []
        return [f"{req}:\n  connexion {answers[0]}\n  compiled  {answers[1]}"]

    def state_differences(self) -> list[str]:
        """Every journal entry (ids included) and every stored record, as the store holds them."""
        found = []
        for what, (a, b) in {
            "journal": _store_text(self.ref, self.fast, "_logs"),
            "store": _store_text(self.ref, self.fast, "_data"),
        }.items():
            if a != b:
                found.append(f"{what} differs:\n  connexion {a[:3000]}\n  compiled  {b[:3000]}")
        return found

    def answered(self) -> dict[str, int]:
        """How many requests the compiled path answered, per compiled operation."""
        counts = {}
        for _, gate in self.fast.routes:
            if isinstance(gate, ApiGate) and gate.compiled is not None:
                counts.update({k: op.answered for k, op in gate.compiled.operations.items()})
        return counts


def _state(app) -> tuple[dict, dict]:
    store = app.ctx.store
    logs = {ns: deque(log, maxlen=log.maxlen) for ns, log in store._logs.items()}
    return {ns: dict(space) for ns, space in store._data.items()}, logs


def _store_text(ref, fast, table: str) -> tuple[str, str]:
    """One of the memory store's tables (`_data`: records, `_logs`: journals), as masked text."""

    def text(app) -> str:
        spaces = getattr(app.ctx.store, table)
        rows = {
            ns: sorted(v.items()) if isinstance(v, dict) else list(v) for ns, v in spaces.items()
        }
        return masked(json.dumps(dict(sorted(rows.items()))))

    return text(ref), text(fast)


async def seed(app) -> None:
    """Both apps: the same clock, PlayWave sessions in every state, a queued Lucit instruction,
    one statusbadge server."""
    await app.ctx.clock.set(EPOCH, frozen=True)
    sessions = [
        {"game_session_id": "gs_live", "provider_user_id": "u1"},
        {"game_session_id": "gs_ended", "provider_user_id": "u1"},
        {"game_session_id": "gs_ending", "provider_user_id": "u1"},
        {"game_session_id": "gs_keyed", "provider_user_id": "u3", "game_api_key": "gamekey"},
        {"game_session_id": "gs_exhaust", "provider_user_id": "u4"},
    ]
    steps = [Req("seed", "POST", "/__mock/playwave/sessions", JSON, dump(s)) for s in sessions]
    steps.append(Req("seed", "POST", "/__mock/playwave/sessions/gs_ended/end"))
    for step in steps:
        assert (await call(app, step))["status"] in (200, 201)
    await app.ctx.clock.set(EPOCH + 10, frozen=True)
    path = "/__mock/lucit/devices/LCUID-LD-Q/instructions"
    for step in [
        Req("seed", "POST", "/__mock/playwave/sessions/gs_ending/end"),
        Req("seed", "POST", "/__mock/playwave/sessions/gs_exhaust/exhaust"),
        Req("seed", "POST", path, JSON, dump({"instruction": "reload"})),
    ]:
        assert (await call(app, step))["status"] in (200, 201)
    await call(
        app, Req("seed", "POST", APIS["statusbadge"].path, JSON, dump(APIS["statusbadge"].body))
    )


# One valid request per compiled operation, first: the compiled path answers in this harness.
VALID = [
    Req(f"valid {a.name}", a.method, a.path, a.auth + JSON, dump(a.body)) for a in APIS.values()
]
VALID += [Req("valid", "GET", f"/api/{kind}/{PUBLIC_ID}") for kind in ("status", "badge")]


@pytest.fixture(params=list(CONFIGS))
def engines(request):
    pair = Engines(CONFIGS[request.param])
    yield pair
    pair.close()


def test_the_research_cases_answer_alike(engines):
    found = []
    for name in APIS:
        for req in fixed_cases(name):
            found += engines.differences(req)
    found += engines.state_differences()
    assert not found, "\n".join(found[:20])
    assert engines.answered() and all(engines.answered().values()), engines.answered()


def test_generated_requests_answer_alike(engines):
    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(requests(), min_size=1, max_size=5))
    @example(VALID)
    def check(sequence):
        engines.restore()
        found = [d for req in sequence for d in engines.differences(req)]
        found += engines.state_differences()
        assert not found, "\n".join(found[:10])

    check()
    assert engines.answered() and all(engines.answered().values()), engines.answered()


def _odd_answers() -> dict:
    """Heartbeat handlers that answer in every way connexion accepts, or break their spec."""
    good = {"success": True, "publicId": PUBLIC_ID, "message": "Heartbeat recorded successfully"}

    async def raising(exc):
        raise exc

    return {
        "breaks the schema": lambda: ({**good, "publicId": "nope"}, 200),
        "text/plain": lambda: ("hello", 200, {"Content-Type": "text/plain"}),
        "bare dict": lambda: good,
        "IntEnum status": lambda: (good, HTTPStatus.OK),
        "3-tuple JSON": lambda: (good, 200, {"Content-Type": "application/json"}),
        "201 and a header": lambda: (good, 201, {"X-Extra": "1"}),
        "204": lambda: (None, 204),
        "a datetime inside": lambda: ({**good, "message": datetime.datetime(2026, 1, 1, 12)}, 200),
        "ConnexionResponse": lambda: ConnexionResponse(status_code=202, body=b"{}"),
        "Starlette response": lambda: JSONResponse(good, status_code=200),
        "KeyError": lambda: raising(KeyError("x")),
        "store down": lambda: raising(StoreUnavailable("redis gone")),
    }


@pytest.mark.parametrize("validate", [True, False], ids=["validated", "unvalidated"])
@pytest.mark.parametrize("answer", list(_odd_answers()))
def test_every_kind_of_handler_answer_is_rendered_alike(monkeypatch, answer, validate):
    make = _odd_answers()[answer]

    async def heartbeat(self, body: dict):
        result = make()
        return await result if asyncio.iscoroutine(result) else result

    monkeypatch.setattr(api_class("statusbadge"), "statusbadge_heartbeat", heartbeat)
    pair = Engines(Settings(validate_responses=validate))
    try:
        found = [d for req in VALID if "statusbadge" in req.label for d in pair.differences(req)]
        found += pair.state_differences()
        assert not found, "\n".join(found)
        assert pair.answered()["statusbadge_heartbeat"] == 2  # the seed's and the test's
    finally:
        pair.close()
