"""In-process cost of one valid heartbeat, µs, on each engine (issue 16: <= 150 µs, memory store).

    .venv/bin/python bench/inprocess.py [--requests N] [--rounds K] [--api NAME] [--profile]
                                        [--store URL] [--json FILE]

Each request goes through the whole ASGI app as a server would call it (dispatcher, gate, engine,
journal, store), with no socket: the figure is the mock's own CPU time per request (process time,
so time the process spends descheduled on a shared machine does not count). Variants take turns
within each round and the best round counts (compare figures of one run only). The floor is the
same app with the engine replaced by a fixed answer: what the gate, dispatcher and journal cost
by themselves. `--profile` prints cProfile's top lines for the compiled engine. Settings are
workloads.MOCK_ENV's (Sonoran's rate limit off). `make bench` runs it too (bench/run.py).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from workloads import API_ORDER, PLAYWAVE_KEY, build_heartbeat  # noqa: E402

from mockserver.app import build_app  # noqa: E402
from mockserver.http.gate import ApiGate  # noqa: E402
from mockserver.settings import Settings  # noqa: E402

BENCH_SETTINGS = {"sonoran": {"rate_limit_per_minute": 0}}  # = workloads.MOCK_ENV


async def call(app, method: str, path: str, headers: dict, body: bytes) -> tuple[int, bytes]:
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw_headers += [(b"host", b"127.0.0.1:8080"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    out = {"status": 0, "body": b""}

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        else:
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["body"]


async def heartbeat_of(app, api: str):
    """(method, path, headers, body) of one valid heartbeat of `api`; seeds a session if needed."""
    if api == "playwave":
        seed = json.dumps({"provider_user_id": "123"}).encode()
        headers = {"Content-Type": "application/json", **PLAYWAVE_KEY}
        status, answer = await call(app, "POST", "/__mock/playwave/sessions", headers, seed)
        if status != 201:
            raise RuntimeError(f"seeding a PlayWave session: {status} {answer[:200]!r}")
        body = {"game_session_id": json.loads(answer)["game_session_id"], "provider_user_id": "123"}
        return "PATCH", "/v1/game/session/heartbeat", headers, json.dumps(body).encode()
    beat = build_heartbeat(api, "")  # no network: only PlayWave's builder seeds over HTTP
    return beat.method, beat.path, beat.headers, beat.first_body()


def make_app(engine: str, validate: bool, store: str):
    settings = Settings(
        engine=engine, validate_responses=validate, store=store, api_settings=BENCH_SETTINGS
    )
    return build_app(settings)


def floor_app(store: str):
    """The app with every API's engine replaced by a fixed 200 (the gate still runs)."""
    app = make_app("connexion", False, store)
    body = b'{"success": true}\n'

    async def fixed(scope, state, raw, send, parsed):
        headers = [(b"content-type", b"application/json"), (b"content-length", b"18")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return 200, body

    for _, target in app.routes:
        if isinstance(target, ApiGate):
            target._call_app = fixed
    return app


async def measure(variants: dict, api: str, n: int, k: int) -> dict[str, float]:
    requests = {}
    for name, app in variants.items():
        method, path, headers, body = await heartbeat_of(app, api)
        requests[name] = (method, path, headers, body)
        for _ in range(min(200, n)):
            status, answer = await call(app, method, path, headers, body)
            if status != 200:
                raise RuntimeError(f"{name} {api}: {status} {answer[:200]!r}")
    best = {name: float("inf") for name in variants}
    for _ in range(k):
        for name, app in variants.items():
            args = requests[name]
            t0 = time.process_time()
            for _ in range(n):
                await call(app, *args)
            best[name] = min(best[name], (time.process_time() - t0) / n * 1e6)
    return best


def profile(api: str, store: str, n: int, top: int) -> None:
    app = make_app("compiled", False, store)

    async def run():
        args = await heartbeat_of(app, api)
        for _ in range(n):
            await call(app, *args)

    prof = cProfile.Profile()
    prof.enable()
    asyncio.run(run())
    prof.disable()
    print(f"\n--- cProfile, compiled engine, {api}, {n} heartbeats, top {top} by tottime")
    pstats.Stats(prof).strip_dirs().sort_stats("tottime").print_stats(top)


VARIANTS = ("connexion", "compiled", "connexion+vr", "compiled+vr", "floor")


def measure_all(apis: list[str], n: int, k: int, store: str) -> dict[str, dict[str, float]]:
    """{api: {variant: µs}}; `+vr` = validate_responses on, floor = the engine replaced."""
    rows = {}
    for api in apis:
        variants = {
            "connexion": make_app("connexion", False, store),
            "compiled": make_app("compiled", False, store),
            "connexion+vr": make_app("connexion", True, store),
            "compiled+vr": make_app("compiled", True, store),
            "floor": floor_app(store),
        }
        best = asyncio.run(measure(variants, api, n, k))
        rows[api] = {name: round(us, 1) for name, us in best.items()}
    return rows


def format_table(rows: dict[str, dict[str, float]]) -> str:
    lines = ["µs per valid heartbeat in process (CPU time, memory store; issue 16: <= 150 µs)"]
    lines.append(f"{'API':<12}" + "".join(f"{v:>14}" for v in VARIANTS))
    for api, row in rows.items():
        lines.append(f"{api:<12}" + "".join(f"{row[v]:>14.1f}" for v in VARIANTS))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="per round and variant")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--api", action="append", choices=API_ORDER)
    parser.add_argument("--store", default="memory", help="memory or a redis:// URL")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    apis = args.api or list(API_ORDER)
    print(f"best of {args.rounds} x {args.requests} per variant, interleaved, store {args.store}")
    rows = {}
    for api in apis:  # one API at a time, so a long run shows progress
        rows.update(measure_all([api], args.requests, args.rounds, args.store))
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if args.profile:
        for api in apis:
            profile(api, args.store, args.requests, 25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
