"""`mockserver serve | docs | contract | check-specs`."""

from __future__ import annotations

import argparse
import asyncio
import sys

__all__ = ["main"]


def _fail(message: str) -> int:
    print(f"mockserver: error: {message}", file=sys.stderr)
    return 2


def _serve(args: argparse.Namespace) -> int:
    from mockserver.settings import SettingsError, load_settings

    try:
        settings = load_settings(
            args.config,
            host=args.host,
            port=args.port,
            apis=args.api or None,
            store=args.store,
            workers=args.workers,
            control_token=args.control_token,
            control=False if args.no_control else None,
            validate_responses=True if args.validate_responses else None,
            log_level=args.log_level,
        )
        from mockserver.server import is_loopback

        if settings.workers > 1 and settings.store == "memory":
            raise SettingsError(
                "the memory store can't be shared by several workers; use --store redis://HOST:PORT/DB"
            )
        if not is_loopback(settings.host) and settings.control and not settings.control_token:
            raise SettingsError(
                f"binding {settings.host} exposes the control API; pass --control-token TOKEN or --no-control"
            )
        from mockserver.app import build_app
        from mockserver.server import bind_socket

        app = build_app(settings)
        sock = bind_socket(settings.host, settings.port)
    except SettingsError as exc:
        return _fail(str(exc))

    host, port = sock.getsockname()[:2]
    base = f"http://{host}:{port}"
    for name, api in app.ctx.apis.items():
        print(f"{name:<12} {base}{api.prefixes[0]:<34} auth: {api.auth_hint()}", flush=True)
    control = "off" if not settings.control else f"{base}/__mock" + (" (X-Mock-Token required)" if settings.control_token else "")
    print(f"{'control':<12} {control}", flush=True)

    if app.ctx.store.kind == "redis":
        from mockserver.store.redis import unreachable

        problem = unreachable(settings.store)
        if problem:
            warning = f"mockserver: warning: {problem}; requests get 503 until it answers"
            print(warning, file=sys.stderr, flush=True)

    if settings.workers > 1:
        from mockserver.server import serve_workers

        def ready() -> None:
            store = f"store: {app.ctx.store.kind}; {settings.workers} workers"
            print(f"ready {base} ({store}; Ctrl-C to stop)", flush=True)

        code = serve_workers(settings, sock, on_ready=ready)
        sock.close()
        return code

    from mockserver.server import MockUvicornServer, uvicorn_config

    server = MockUvicornServer(uvicorn_config(app, settings))

    async def run() -> None:
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.005)
        if server.started:
            print(f"ready {base} (store: {app.ctx.store.kind}; Ctrl-C to stop)", flush=True)
        await task

    asyncio.run(run())
    sock.close()
    return 0 if server.started else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the mock APIs")
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8080; 0 picks a free one)")
    serve.add_argument("--api", action="append", metavar="NAME", help="serve only this API (repeatable)")
    serve.add_argument("--config", metavar="FILE", help="TOML settings file")
    serve.add_argument("--store", metavar="URL", help="memory (default) or redis://host:port/db")
    serve.add_argument("--workers", type=int, default=None, help="worker processes (needs a shared store)")
    serve.add_argument("--control-token", metavar="TOKEN", help="require X-Mock-Token on /__mock")
    serve.add_argument("--no-control", action="store_true", help="disable the /__mock control API")
    serve.add_argument("--validate-responses", action="store_true", help="check every answer against its spec")
    serve.add_argument("--log-level", default=None, choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)
