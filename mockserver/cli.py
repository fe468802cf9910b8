"""`mockserver serve | docs | contract | check-specs`; `mockserver --version`."""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys

__all__ = ["main"]


def _fail(message: str) -> int:
    print(f"mockserver: error: {message}", file=sys.stderr)
    return 2


def _serve(args: argparse.Namespace) -> int:
    """Settings, app, state and socket (any problem: one line, exit 2), then the summary, then
    the server until it is stopped."""
    # connexion imports httpx, whose package imports its command-line client (rich, pygments:
    # ~40 ms of start-up) unless that is missing; serve never runs it (httpx then keeps a stub).
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from mockserver.settings import SettingsError
    from mockserver.snapshot import SnapshotError

    try:
        settings = _serve_settings(args)
        app = _build(settings)
        state = _StateArgs(args, app)  # reads and checks --state FILE
        if not state.load():  # before a scenario starts: its steps follow the restored clock
            return 1
        if args.scenario:
            from mockserver.scenarios import start_at_startup

            fresh = None if settings.store == "memory" else lambda: _build(settings)
            print(asyncio.run(start_at_startup(args.scenario, app, fresh)), flush=True)
        from mockserver.server import bind_socket

        sock = bind_socket(settings.host, settings.port, app.settings)  # refuses an exposed /__mock
    except (SettingsError, SnapshotError) as exc:
        return _fail(str(exc))

    host, port = sock.getsockname()[:2]
    base = f"http://{host}:{port}"
    _announce(app, settings, base)
    _log_to_stderr(settings)
    code = _run_server(app, settings, sock, base)
    return state.save() if code == 0 else code


def _serve_settings(args: argparse.Namespace):
    from mockserver.http.proxy import proxy_overrides
    from mockserver.settings import SettingsError, load_settings

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
        quiet=True if args.quiet else None,
        engine=args.engine,
        api_settings=proxy_overrides(args.proxy),
    )
    if settings.workers > 1 and settings.store == "memory":
        raise SettingsError(
            "the memory store can't be shared by several workers; use --store redis://HOST:PORT/DB"
        )
    return settings


def _build(settings):
    from mockserver.app import build_app

    return build_app(settings)


def _announce(app, settings, base: str) -> None:
    """Where each API listens and how to authenticate (stdout); warnings (stderr)."""
    from mockserver.docs.landing import seeding_warnings, serve_summary
    from mockserver.http.proxy import proxy_summary
    from mockserver.settings import env_warnings

    print("\n".join(serve_summary(app.ctx.apis, base, settings)), flush=True)
    print(*proxy_summary(app.ctx.apis, app.ctx.journal.redactor), sep="\n", flush=True)
    for warning in env_warnings() + seeding_warnings(app.ctx.apis, settings):
        print(warning, file=sys.stderr, flush=True)

    if app.ctx.store.kind == "redis":
        from mockserver.store.redis import unreachable

        problem = unreachable(settings.store)
        if problem:
            warning = f"mockserver: warning: {problem}; requests get 503 until it answers"
            print(warning, file=sys.stderr, flush=True)


def _log_to_stderr(settings) -> None:
    """The request log (one line per request, unless `quiet`) and the mock's own messages at
    `log_level` and above, on stderr. Only `serve` does this: in-process servers leave logging
    to their caller (README, "The request log")."""
    import logging

    from mockserver.http.requestlog import LOGGER

    levels = {"mockserver": settings.log_level.upper()}
    levels[LOGGER] = logging.CRITICAL + 1 if settings.quiet else logging.INFO
    for name, level in levels.items():
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "mockserver_serve", False)]:
            logger.removeHandler(old)  # a second `serve` in one process: one line each still
        to_stderr = logging.StreamHandler(sys.stderr)
        to_stderr.setFormatter(logging.Formatter("%(message)s"))
        to_stderr.mockserver_serve = True  # type: ignore[attr-defined]
        logger.addHandler(to_stderr)
        logger.setLevel(level)
        logger.propagate = False


def _run_server(app, settings, sock, base: str) -> int:
    """Serve until SIGTERM/SIGINT: 0 once stopped, non-zero if the server never started."""
    ready = f"ready {base} (store: {app.ctx.store.kind}"
    if settings.workers > 1:
        from mockserver.server import serve_workers

        def announce() -> None:
            print(f"{ready}; {settings.workers} workers; Ctrl-C to stop)", flush=True)

        code = serve_workers(settings, sock, on_ready=announce)
        sock.close()
        return code

    from mockserver.server import (
        MockUvicornServer,
        run_serving,
        tune_gc_for_serving,
        uvicorn_config,
    )

    server = MockUvicornServer(uvicorn_config(app, settings))
    tune_gc_for_serving()

    async def run() -> None:
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.005)
        if server.started:
            print(f"{ready}; Ctrl-C to stop)", flush=True)
        await task

    run_serving(run(), server.config)
    sock.close()
    return 0 if server.started else 1


class _StateArgs:
    """`--state FILE` (restored before the first request) and `--save-state FILE` (written
    once the server has stopped, on SIGTERM or SIGINT): mockserver.snapshot.StateFiles."""

    def __init__(self, args: argparse.Namespace, app) -> None:
        from mockserver.snapshot import StateFiles, read_file

        self.load_from, self.save_to = args.state, args.save_state
        self.files = StateFiles(app.settings.store, app.ctx.apis, app.ctx.store)
        self.doc = None
        if self.load_from:
            self.doc = read_file(self.load_from)
            self.files.check(self.doc)

    def _run(self, what: str, step) -> bool:
        from mockserver.store import StoreUnavailable

        try:
            print(f"state: {what} {asyncio.run(step)}", flush=True)
            return True
        except (StoreUnavailable, OSError) as exc:
            print(f"mockserver: error: state not {what.split()[0]}: {exc}", file=sys.stderr)
            return False

    def load(self) -> bool:
        if self.doc is None:
            return True
        return self._run(f"loaded from {self.load_from}:", self.files.load(self.doc))

    def save(self) -> int:
        if not self.save_to:
            return 0
        return 0 if self._run(f"saved to {self.save_to}:", self.files.save(self.save_to)) else 1


def _docs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mockserver.docs.model import load_api_docs
    from mockserver.docs.readme import readme_tables, update_readme
    from mockserver.docs.static import build_site
    from mockserver.spec.loader import SPEC_DIR

    if not (args.out or args.readme or args.check_readme):
        return _fail("docs: pass --out DIR, --readme FILE or --check-readme FILE")
    if args.out:
        written = build_site(args.out)
        pages = sum(1 for path in written if path.suffix == ".html")
        print(f"wrote {pages} pages to {args.out}/ (open {Path(args.out) / 'index.html'})")
    readme = args.readme or args.check_readme
    if readme:
        path = Path(readme)
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        updated = update_readme(text, readme_tables(load_api_docs(SPEC_DIR)[0]))
        if args.check_readme and updated != text:
            print(f"{readme}: the API tables are stale; run `mockserver docs --readme {readme}`")
            return 1
        if args.readme and updated != text:
            path.write_text(updated, encoding="utf-8")
            print(f"{readme}: API tables updated")
        else:
            print(f"{readme}: API tables are current")
    return 0


@functools.cache
def version() -> str:
    """The installed distribution's version (the package's own when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("heartbeat-mockserver")
    except PackageNotFoundError:
        from mockserver import __version__

        return __version__


def _add_serve_parser(sub) -> None:
    serve = sub.add_parser("serve", help="serve the mock APIs")
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=None, help="port (default 8080; 0 picks a free one)"
    )
    serve.add_argument(
        "--api", action="append", metavar="NAME", help="serve only this API (repeatable)"
    )
    serve.add_argument("--config", metavar="FILE", help="TOML settings file")
    serve.add_argument("--store", metavar="URL", help="memory (default) or redis://host:port/db")
    serve.add_argument(
        "--workers", type=int, default=None, help="worker processes (needs a shared store)"
    )
    serve.add_argument("--control-token", metavar="TOKEN", help="require X-Mock-Token on /__mock")
    serve.add_argument("--no-control", action="store_true", help="disable the /__mock control API")
    serve.add_argument(
        "--validate-responses", action="store_true", help="check every answer against its spec"
    )
    serve.add_argument(
        "--log-level",
        default=None,
        choices=["critical", "error", "warning", "info", "debug"],
        help="the mock's and uvicorn's own messages from this level up: warning (default) "
        "shows problems such as a lost journal entry, info adds uvicorn's start and stop "
        "lines, debug their debug messages; error and critical only failures (the request log "
        "is not a level: --quiet turns it off)",
    )
    serve.add_argument(
        "--quiet",
        action="store_true",
        help="no request log (by default one line per request on stderr: mock time, API, "
        "method, path, status, duration, verdict, fault)",
    )
    serve.add_argument(
        "--scenario", metavar="FILE|NAME", help="start a scenario (YAML/JSON file or a named one)"
    )
    serve.add_argument(
        "--engine",
        default=None,
        choices=["compiled", "connexion"],
        help="compiled (default): a compiled path answers valid requests, connexion the rest; "
        "connexion: the reference engine answers everything",
    )
    serve.add_argument("--proxy", action="append", metavar="API=URL", help="forward API to URL")
    serve.add_argument("--state", metavar="FILE", help="restore this state snapshot at start-up")
    serve.add_argument(
        "--save-state", metavar="FILE", help="write a state snapshot here on SIGTERM/SIGINT"
    )
    serve.set_defaults(func=_serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mockserver {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    parser.set_defaults(commands=sub.choices)

    _add_serve_parser(sub)

    docs = sub.add_parser("docs", help="write the static API docs and/or the README's API tables")
    docs.add_argument("--out", metavar="DIR", help="write the HTML site (index + a page per API)")
    readme = docs.add_mutually_exclusive_group()
    readme.add_argument("--readme", metavar="FILE", help="write the per-API tables into FILE")
    readme.add_argument("--check-readme", metavar="FILE", help="exit 1 if FILE's tables are stale")
    docs.set_defaults(func=_docs)

    from mockserver.contract.cli import add_parser as add_contract_parser

    add_contract_parser(sub)
    from mockserver.report_file import add_parser as add_report_parser

    add_report_parser(sub)

    check = sub.add_parser("check-specs", help="validate every spec (OpenAPI 3) and its examples")
    check.set_defaults(func=_check_specs)
    return parser


def _check_specs(args: argparse.Namespace) -> int:
    """Every bundled spec against openapi-spec-validator, and every documented example against
    its own schema: what `mockserver serve` trusts when it skips connexion's re-validation."""
    from mockserver.spec.check import check_all

    failures = 0
    for name, problems in check_all():
        print(f"{'ok    ' if not problems else 'FAILED'} {name}")
        for problem in problems:
            print(f"       {problem}")
        failures += bool(problems)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Every error names the command it belongs to and shows that command's usage (argparse
    alone reports an unknown option of `serve` with the top-level usage). Arguments after `--`
    go to a command that passes them on (`contract` to pytest) and are refused by the others."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    args, unknown = parser.parse_known_args(argv)
    command = args.commands[args.command]
    if unknown:
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    if extra and not getattr(args, "extra_args_for", None):
        command.error(f"takes no arguments after --: {' '.join(extra)}")
    args.extra_args = extra
    return args.func(args)
