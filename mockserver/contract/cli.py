"""`mockserver contract`: run the schemathesis contract suites (contracts/test_<api>.py).

The suites are ordinary pytest modules built on `mockserver.contract.suite`, so this command is
pytest on those modules in a subprocess, with the options turned into the environment the suites
read (MOCKSERVER_CONTRACT_*). pytest gives the progress lines, the failure reports (schemathesis
names the check and the operation, with a curl line to reproduce) and the JUnit XML; the
contracts' conftest adds a per-API summary of the statuses each operation answered.

Without --url every suite starts its own mock on 127.0.0.1 and a free port. With --url the
suites send everything to that base URL; against a real service, remember its rate limits
(Sonoran: 10 requests a minute per API key; the suite then paces itself to 9 a minute, so keep
--max-examples small) and that fuzzing sends invalid data with your real credentials.

Arguments after `--` go to pytest as they are, e.g. `mockserver contract -- -k heartbeat -x`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["add_parser", "contracts_dir", "run", "unreachable"]


def contracts_dir() -> Path:
    """contracts/ next to the package (a source checkout) or inside it (a wheel that ships it)."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "contracts", package.parent / "contracts"):
        if (candidate / "conftest.py").is_file():
            return candidate
    raise FileNotFoundError(
        "the contract suites (contracts/) were not found next to the mockserver package; "
        "run from a source checkout or an install that ships them"
    )


def _pairs(values: list[str] | None, option: str, known: list[str], *, sep: str = "=") -> dict:
    out: dict[str, str] = {}
    for value in values or []:
        api, found, rest = value.partition(sep)
        if not found or not api or not rest:
            raise ValueError(f"{option} wants API{sep}VALUE, got {value!r}")
        if api not in known:
            raise ValueError(f"{option}: unknown API {api!r}; known: {', '.join(known)}")
        out[api] = rest
    return out


def _urls(values: list[str] | None, known: list[str]) -> dict[str, str]:
    urls: dict[str, str] = {}
    for value in values or []:
        api, found, rest = value.partition("=")
        if found and "://" not in api:
            urls.update(_pairs([value], "--url", known))
        else:
            urls["*"] = value
    for api, url in urls.items():
        if not url.startswith(("http://", "https://")):
            raise ValueError(
                f"--url for {api if api != '*' else 'every API'} is not an http(s) URL: {url!r}"
            )
    return urls


def _headers(values: list[str] | None, known: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for value in values or []:
        api, found, header = value.partition(":")
        name, eq, content = header.partition("=")
        if not found or not eq or not name:
            raise ValueError(f"--header wants API:NAME=VALUE, got {value!r}")
        if api not in known:
            raise ValueError(f"--header: unknown API {api!r}; known: {', '.join(known)}")
        out.setdefault(api, {})[name] = content
    return out


def _environment(args: argparse.Namespace, known: list[str]) -> tuple[dict[str, str], dict]:
    """The suites' MOCKSERVER_CONTRACT_* environment from the arguments, and the URLs given;
    ValueError on anything wrong."""
    urls = _urls(args.url, known)
    env = dict(os.environ)
    env.update(
        MOCKSERVER_CONTRACT_URL=json.dumps(urls) if urls else "",
        MOCKSERVER_CONTRACT_AUTH=json.dumps(_pairs(args.auth, "--auth", known)),
        MOCKSERVER_CONTRACT_HEADERS=json.dumps(_headers(args.header, known)),
        MOCKSERVER_CONTRACT_SEED="" if args.seed is None else str(args.seed),
        MOCKSERVER_CONTRACT_MAX_EXAMPLES=""
        if args.max_examples is None
        else str(args.max_examples),
    )
    if args.max_examples is not None and args.max_examples < 1:
        raise ValueError("--max-examples must be at least 1")
    return env, urls


def unreachable(urls: dict[str, str], apis: list[str], timeout: float = 10.0) -> str | None:
    """Why the first target URL that does not answer HTTP can't be reached, or None: any answer,
    a 404 included, is a service; a refused connection, a DNS or TLS failure, or a silence of
    `timeout` seconds is not, and would fail every test of the run with a long traceback."""
    import httpx

    for url in dict.fromkeys(
        urls.get(api) or urls["*"] for api in apis if api in urls or "*" in urls
    ):
        try:
            httpx.get(url, timeout=timeout)
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            return f"the contract target {url} does not answer: {reason}"
    return None


def _pytest_command(args: argparse.Namespace, directory: Path, apis: list[str]) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *(str(directory / f"test_{a}.py") for a in apis),
        "-c",
        str(directory / "pytest.ini"),
        "--rootdir",
        str(directory),
        "-v" if not args.quiet else "-q",
    ]
    if args.junit:
        cmd += ["--junitxml", str(Path(args.junit).resolve()), "-o", "junit_suite_name=contracts"]
    return cmd + list(getattr(args, "extra_args", None) or [])


def run(args: argparse.Namespace) -> int:
    from mockserver.apis import api_names

    known = api_names()
    try:
        directory = contracts_dir()
        apis = args.api or known
        unknown = [a for a in apis if a not in known]
        if unknown:
            raise ValueError(f"unknown API {unknown[0]!r}; known: {', '.join(known)}")
        missing = [a for a in apis if not (directory / f"test_{a}.py").is_file()]
        if missing:
            raise ValueError(f"no contract suite for {', '.join(missing)} in {directory}")
        env, urls = _environment(args, known)
        problem = unreachable(urls, apis)
        if problem:
            raise ValueError(problem)
    except (ValueError, FileNotFoundError) as exc:
        print(f"mockserver: error: {exc}", file=sys.stderr)
        return 2

    target = (
        ", ".join(f"{k}={v}" if k != "*" else v for k, v in urls.items())
        or "a mock per API on 127.0.0.1"
    )
    generation = f"seed {args.seed}" if args.seed is not None else "deterministic generation"
    examples = args.max_examples or "default"
    print(
        f"contract: {', '.join(apis)} -> {target} ({generation}, max examples {examples})",
        flush=True,
    )
    cmd = _pytest_command(args, directory, apis)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mockserver-contract-") as scratch:
        # hypothesis keeps its database and caches in ./.hypothesis unless told otherwise; a
        # contract run is not a project of the caller's folder, so nothing is left there
        env.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", scratch)
        code = subprocess.call(cmd, env=env, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    if code == 5:
        print("contract: no contract test ran; that is a failure", flush=True)
        code = 1
    verdict = "passed" if code == 0 else "FAILED"
    junit = f"; JUnit XML: {args.junit}" if args.junit else ""
    print(f"contract: {verdict} in {elapsed:.0f} s{junit}", flush=True)
    return code


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "contract",
        help="run the schemathesis contract suites against the mock or a real service",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--api", action="append", metavar="NAME", help="only this API's suite (repeatable)"
    )
    parser.add_argument(
        "--url",
        action="append",
        metavar="[API=]BASE",
        help="send the requests to BASE (the service root; each spec's server path is appended) "
        "instead of a mock the suite starts; API=BASE for one API (repeatable)",
    )
    parser.add_argument(
        "--auth",
        action="append",
        metavar="API=CRED",
        help="credential for an API: user:password (Basic), the token (Bearer), the key (API key), "
        "or the token an API carries in its request body; repeatable",
    )
    parser.add_argument(
        "--header",
        action="append",
        metavar="API:NAME=VALUE",
        help="an extra request header for an API, e.g. one its spec requires besides the "
        "credential (repeatable)",
    )
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    parser.add_argument(
        "--seed", type=int, help="seeded random generation (default: deterministic)"
    )
    parser.add_argument(
        "--max-examples", type=int, metavar="N", help="examples per operation (default 20)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="one character per test instead of a line"
    )
    usage = parser.format_usage().removeprefix("usage: ").strip()
    parser.usage = f"{usage} [-- PYTEST_ARG ...]"
    parser.set_defaults(func=run, extra_args_for="pytest")
