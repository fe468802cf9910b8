"""Shared fixtures: a real server on 127.0.0.1 and a free port, and the ASGI app in process.

Every test gets a reset mock (state, journal, faults, clock), so tests never share state.
Connexion's response validation is on: every answer a handler gives is checked against its spec.

Every test that uses `live_server`, `http` or `make_server` runs once per store and engine (see
ENGINES below): `[memory-...]` and `[redis-...]` (a real redis-server this session starts on a
free port; issue 10: the whole API
suite passes on both stores). `--stores memory` runs only the first, e.g. without redis-server.

Shared helpers for test modules: `advance(http, seconds)` (time moves only on the mock clock) and
`seed_body(api)` (the documented example request body of each API's heartbeat).
"""

from __future__ import annotations

import copy
import os
import uuid

import httpx
import pytest

from mockserver.app import build_app
from mockserver.server import BackgroundServer
from mockserver.settings import Settings
from tests.redisproc import RedisProcess

STORES = ("memory", "redis")

# The documented example request body of each API's heartbeat, as its spec (specs/<api>.yaml)
# copies it from the seed document; tests/unit/test_specs.py holds them equal. Lucit's document
# sends no body although its schema requires `lightning_version` (README), so its body is the
# smallest one the schema accepts.
SEED_BODIES: dict[str, dict] = {
    "statusbadge": {
        "token": "sk_live_550e8400-e29b-41d4-a716-446655440000",
        "data": {
            "status": "online",
            "players": 15,
            "maxPlayers": 100,
            "tps": 19.8,
            "software": "PocketMine-MP",
            "version": "5.0.0",
            "heartbeatIntervalSec": 30,
        },
    },
    "sonoran": {"playerCount": 42},
    "collect": {"system_id": "4cf3053f-d0d5-4b10-b752-ff8f7b63c2f7"},
    "playwave": {
        "game_session_id": "gs_550e8400-e29b-41d4-a716-446655440000",
        "provider_user_id": "123456789",
    },
    "lucit": {"lightning_version": "2.4.1"},
}
SEED_WITHOUT_EXAMPLE = {"lucit": "003's examples send no body; its schema requires one"}


def seed_body(api: str) -> dict:
    """A private copy of `api`'s documented heartbeat body, free to change in a test."""
    return copy.deepcopy(SEED_BODIES[api])


def advance(http: httpx.Client, seconds: float) -> dict:
    """Move the mock clock forward `seconds` (the way tests move time: never sleep); returns
    the clock as the mock describes it."""
    r = http.post("/__mock/clock/advance", json={"seconds": seconds})
    r.raise_for_status()
    return r.json()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stores",
        default=",".join(STORES),
        help="comma-separated stores to run the live-server tests on (default: memory,redis)",
    )
    parser.addoption(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated engines to run the live-server tests on (default: compiled,"
        "connexion; Redis runs with the first only)",
    )


# Issue 16: the live-server tests also run per engine, the compiled path (`compiled`, the default)
# and the reference engine alone (`connexion`): both on the memory store, and on Redis with the
# first engine of `--engines` only (`[memory-compiled]`, `[memory-connexion]`, `[redis-compiled]`):
# every API test on both stores and both engines would be too slow for CI on 2 cores, and
# tests/e2e/test_engines_differential.py holds the two engines to identical answers.
ENGINES = ("compiled", "connexion")


def _option_list(metafunc: pytest.Metafunc, option: str, known: tuple[str, ...]) -> list[str]:
    values = [v.strip() for v in metafunc.config.getoption(option).split(",") if v.strip()]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise pytest.UsageError(f"{option}: unknown value {unknown[0]!r}; use {known}")
    return values


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    engines = _option_list(metafunc, "--engines", ENGINES)
    if "store_kind" in names:
        stores = _option_list(metafunc, "--stores", STORES)
        if "engine" not in names:
            metafunc.parametrize("store_kind", stores, indirect=True, scope="session")
            return
        pairs = [(s, e) for s in stores for e in (engines if s == "memory" else engines[:1])]
        metafunc.parametrize(
            ("store_kind", "engine"),
            pairs,
            indirect=True,
            scope="session",
            ids=[f"{s}-{e}" for s, e in pairs],
        )
    elif "engine" in names:
        metafunc.parametrize("engine", engines, indirect=True, scope="session")


@pytest.fixture(scope="session")
def store_kind(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def engine(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server on 127.0.0.1 and a free port for this session (no persistence)."""
    with RedisProcess() as server:
        yield server


def redis_url(server: RedisProcess) -> str:
    """A store URL with a prefix of its own: servers sharing one Redis never see each other."""
    return f"{server.url}?prefix=test-{uuid.uuid4().hex[:12]}:"


def drop_prefix(server: RedisProcess, url: str) -> None:
    prefix = url.rsplit("prefix=", 1)[1]
    client = server.client()
    try:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def store_snapshot(server: BackgroundServer, api: str) -> dict:
    """Every record of an API's namespaces, read between requests from outside the server's
    event loop: {namespace: {key: record as stored}}, for "this request changed nothing"."""
    store = server.app.ctx.store
    if store.kind == "memory":
        return {ns: dict(v) for ns, v in store._data.items() if ns.startswith(api + ":")}
    import redis

    client = redis.Redis.from_url(store.where, decode_responses=True)
    try:
        start = len(store.prefix) + 2  # <prefix>h:<ns>
        return {
            name[start:]: client.hgetall(name)
            for name in client.scan_iter(match=f"{store.prefix}h:{api}:*")
        }
    finally:
        client.close()


@pytest.fixture(scope="session")
def store_url(request, store_kind):
    """A factory of store URLs for the store under test (a fresh key prefix each on Redis)."""
    if store_kind == "memory":
        yield lambda: "memory"
        return
    server = request.getfixturevalue("redis_server")
    made: list[str] = []

    def make() -> str:
        made.append(redis_url(server))
        return made[-1]

    yield make
    for url in made:
        drop_prefix(server, url)


def test_settings(**overrides) -> Settings:
    return Settings(port=0, validate_responses=True, **overrides)


test_settings.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def live_server(store_url, engine):
    with BackgroundServer(test_settings(store=store_url(), engine=engine)) as server:
        yield server


@pytest.fixture
def http(live_server):
    """An httpx client on the shared live server, after a full reset."""
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        client.post("/__mock/reset").raise_for_status()
        yield client


@pytest.fixture
def make_server(store_url, engine):
    """Start a dedicated live server with its own settings (closed after the test), on the
    store and engine under test unless `store=` or `engine=` is given."""
    servers: list[BackgroundServer] = []

    def start(**overrides) -> BackgroundServer:
        overrides.setdefault("store", store_url())
        overrides.setdefault("engine", engine)
        server = BackgroundServer(test_settings(**overrides)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


async def leave_mid_body(app, path: str, sent_so_far: bytes, declared: int) -> list[dict]:
    """POST `path` straight into the ASGI app as a client that declares `declared` bytes of
    JSON, sends `sent_so_far` and goes away; what the app sent back (nobody is listening)."""
    incoming = [
        {"type": "http.request", "body": sent_so_far, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"content-type", b"application/json"), (b"content-length", str(declared).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    await app(scope, receive, send)
    return sent


@pytest.fixture
def asgi_client():
    """The ASGI app in process (no socket), with its own fresh state."""
    from starlette.testclient import TestClient

    def make(**overrides):
        return TestClient(build_app(test_settings(**overrides)))

    return make


@pytest.fixture(scope="session")
def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
