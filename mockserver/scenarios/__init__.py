"""Scenarios: control-API calls at mock-clock offsets, fired exactly once, in order (issue 21).

A scenario is a name and a list of steps, each `{at_seconds, method, path, body}`: a call of the
control API (`/__mock/...`) due `at_seconds` after the scenario started on the mock clock. There
is no timer thread: steps due by the mock's `now` fire when a request arrives or the clock is
moved, so a "two-minute outage at minute 10" runs in a test that takes milliseconds.

Each step is claimed atomically in the store (`pending` -> `firing`) before it runs, and a step
is claimable only when every step before it has finished, so with several workers on one store
each step fires once, in order. A step runs the control API in process (the ASGI app is called
directly, no socket), so a step fired from inside a request cannot deadlock on the server.

The named library (mockserver/scenarios/library/*.yaml) is data: each file is a scenario with
`vars` (defaults a caller may override) and a description from the vendor document.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml

from mockserver.core.clock import iso_utc
from mockserver.core.errors import FieldError
from mockserver.faults import Faults
from mockserver.settings import SettingsError
from mockserver.spec.loader import Operation
from mockserver.store import Store

__all__ = [
    "LIBRARY",
    "Scenarios",
    "check_scenario",
    "library_names",
    "load_scenario",
    "start_at_startup",
]

LIBRARY = Path(__file__).parent / "library"
NS = "_scenarios"
ANSWER_CAP = 4096  # bytes of a step's answer kept for GET /__mock/scenarios
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TIME = re.compile(r"\$\{(now|due)(?:\+(\d{1,9}))?\}")
_VALUE = re.compile(r"[A-Za-z0-9._~:@-]{1,256}")


def library_names() -> list[str]:
    return sorted(p.stem for p in LIBRARY.glob("*.yaml"))


def load_scenario(ref: str) -> dict[str, Any]:
    """A scenario from a library name or a YAML/JSON file; ValueError says why not."""
    path = LIBRARY / f"{ref}.yaml" if ref in library_names() else Path(ref)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        names = ", ".join(library_names())
        raise ValueError(
            f"no scenario {ref!r}: not a file ({exc.strerror}); named: {names}"
        ) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{ref}: not YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{ref}: a scenario is an object with name and steps")
    return data


def check_scenario(spec: dict[str, Any], ops: list[Operation]) -> list[FieldError]:
    """Why a scenario can't start (the schema has checked shapes): each step must call a
    control route (never the scenario routes themselves), and each var must be known."""
    problems = []
    known = spec.get("vars") or {}
    for name, value in known.items():
        if not isinstance(value, str) or not _VALUE.fullmatch(value):
            problems.append(FieldError(f"vars.{name}", "format", "letters, digits, ._~:@-"))
    for i, step in enumerate(spec.get("steps") or []):
        path = step["path"].split("?", 1)[0]
        unknown = [
            v for v in _VAR.findall(json.dumps(step)) if v not in ("now", "due") and v not in known
        ]
        if unknown:
            problems.append(FieldError(f"steps.{i}", "unknown", f"no var {unknown[0]!r}"))
            continue
        path = _VAR.sub(lambda m: known.get(m.group(1), "x"), path)
        if path.startswith("/__mock/scenarios"):
            problems.append(FieldError(f"steps.{i}.path", "forbidden", "a step can't start one"))
        elif not any(op.method == step["method"] and op.match(path) is not None for op in ops):
            message = f"{step['method']} {path} is no control route"
            problems.append(FieldError(f"steps.{i}.path", "not_found", message, step["path"]))
    return problems


def _fill(value: Any, env: dict[str, str], times: dict[str, float]) -> Any:
    """`${var}` from the scenario's vars; `${now}`/`${now+N}` the mock time when the step fires
    and `${due}`/`${due+N}` its due time (ISO-8601 UTC, plus N seconds). The clock may jump past
    a step's time, so a step fires late: `from: ${due}` pins a fault window to the scenario's
    timeline, where `after_seconds`/`for_seconds` count from when the step fired."""
    if isinstance(value, str):
        value = _TIME.sub(lambda m: iso_utc(times[m.group(1)] + int(m.group(2) or 0)), value)
        return _VAR.sub(lambda m: env[m.group(1)], value)
    if isinstance(value, list):
        return [_fill(v, env, times) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, env, times) for k, v in value.items()}
    return value


class Scenarios:
    """Running scenarios, kept in the store (see the module docstring)."""

    def __init__(self, store: Store, faults: Faults, token: str | None) -> None:
        self._store = store
        self._faults = faults
        self._token = token
        self._app = None
        # Only `start` creates steps. A store this process alone writes (memory) then lets it
        # know when none can be pending, and skip the scan every request made (issue 16); a
        # shared store is read each time, since another worker or host may have started one.
        self._local = store.local
        self._maybe_pending = True
        faults.before_reads = self.reads

    def bind(self, app) -> None:
        """The ASGI app steps call (the whole mock, so a step's path routes as a client's)."""
        self._app = app

    async def start(self, spec: dict[str, Any], now: float) -> dict | None:
        """Store a run of `spec` (None if one by that name runs); steps sorted by offset, ties
        in the order given."""
        if await self._store.get(NS, spec["name"]) is not None:
            return None  # a 409 changes nothing (not even the run counter)
        self._maybe_pending = True
        order = sorted(enumerate(spec["steps"]), key=lambda pair: pair[1]["at_seconds"])
        run = await self._store.update(
            "_scenarios_seq",
            "seq",
            lambda s: ({"n": (s or {"n": 0})["n"] + 1}, (s or {"n": 0})["n"] + 1),
        )
        record = {
            "name": spec["name"],
            "run": run,
            "description": spec.get("description"),
            "vars": dict(spec.get("vars") or {}),
            "started_at": iso_utc(now),
            "steps": [
                {
                    "index": i,
                    "at_seconds": step["at_seconds"],
                    "due": now + step["at_seconds"],
                    "due_at": iso_utc(now + step["at_seconds"]),
                    "method": step["method"],
                    "path": step["path"],
                    "body": step.get("body"),
                    "state": "pending",
                    "status": None,
                    "answer": None,
                    "fired_at": None,
                }
                for i, step in order
            ],
        }
        if not await self._store.insert(NS, spec["name"], record):
            return None
        self._maybe_pending = True  # again: a scan may have finished while this was stored
        await self.fire_due(now)
        return await self._store.get(NS, spec["name"]) or record

    async def list(self) -> list[dict]:
        runs = [v for _, v in await self._store.scan(NS)]
        return sorted(runs, key=lambda r: r["run"])

    async def stop(self, name: str | None = None) -> bool:
        if name is not None:
            return await self._store.delete(NS, name)
        for key, _ in await self._store.scan(NS):
            await self._store.delete(NS, key)
        return True

    def reads(self) -> list[str]:
        """The namespaces `fire_due` scans, for a caller that reads them with its other reads
        and passes them in (`read`): on a shared store only; a local one is read when asked
        (it costs no round trip, and `start` may change what can be pending meanwhile)."""
        return [] if self._local else [NS]

    async def fire_due(self, now: float, read: dict[str, list] | None = None) -> bool:
        """Run every step due by `now` that no one has claimed, each scenario in order; True if
        any step ran. `read`: the request's reads, which hold the scenarios if `reads` named
        them (else the store is scanned here)."""
        if self._local and not self._maybe_pending:
            return False
        records = None if read is None else read.get(NS)
        if records is None:
            records = await self._store.scan(NS)
        fired = False
        # all finished (or none): nothing will be due until `start` runs again
        self._maybe_pending = any(
            step["state"] == "pending" for _, record in records for step in record["steps"]
        )
        for key, record in records:
            for _ in range(len(record["steps"])):  # bounded: a step fires at most once
                claimed = await self._store.update(NS, key, lambda r: _claim(r, now))
                if claimed is None:
                    break
                fired = True
                run, step, env = claimed
                status, answer = await self._call(step, env, now)
                if status == 201 and step["path"] == "/__mock/faults" and isinstance(answer, dict):
                    mark = {"name": record["name"], "step": step["index"]}
                    await self._faults.tag(answer["api"], answer["id"], mark)
                    answer["scenario"] = mark
                done = functools.partial(_finish, run=run, step=step, status=status, answer=answer)
                await self._store.update(NS, key, lambda r, done=done: done(r, now=now))
        return fired

    async def _call(self, step: dict, env: dict[str, str], now: float) -> tuple[int, Any]:
        times = {"now": now, "due": step["due"]}
        body = None if step.get("body") is None else _fill(step["body"], env, times)
        return await self.call(step["method"], _fill(step["path"], env, times), body)

    async def call(self, method: str, target: str, body: Any = None) -> tuple[int, Any]:
        """One control-API call in process: (status, JSON answer or text)."""
        if self._app is None:
            return 0, "the scenario runner is not bound to the app"
        path, _, query = target.partition("?")
        raw = b"" if body is None else json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
        ]
        if self._token is not None:
            headers.append((b"x-mock-token", self._token.encode("latin-1")))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
        }
        sent = False
        answer: dict[str, Any] = {"status": 0, "body": bytearray()}

        async def receive():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body" and len(answer["body"]) < ANSWER_CAP:
                answer["body"] += message.get("body", b"")

        await self._app(scope, receive, send)
        return answer["status"], _decode(bytes(answer["body"][:ANSWER_CAP]))


async def start_at_startup(ref: str, app, fresh=None) -> str:
    """`mockserver serve --scenario FILE|NAME`: start it through the control API in process
    (so a file is checked exactly as a POST would be). `fresh()` builds a throwaway app on the
    same (shared) store, for a store whose connections belong to one event loop (Redis); the
    answer of a scenario already running there (another worker started it) is kept. A bad
    file or step is a SettingsError: serve refuses to start."""
    try:
        spec = {"name": ref} if ref in library_names() else load_scenario(ref)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if not app.settings.control:
        raise SettingsError("--scenario needs the control API (steps call it); drop --no-control")
    target = app if fresh is None else fresh()
    try:
        status, answer = await target.control.scenarios.call("POST", "/__mock/scenarios", spec)
    finally:
        if target is not app:
            await target.ctx.store.close()
    if status == 409:
        return f"scenario {spec.get('name')!r} runs already on this store"
    if status != 201:
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        raise SettingsError(f"{ref}: {error.get('message', answer)}")
    steps = len(answer["steps"])
    return f"scenario {answer['name']!r}: {steps} steps from {answer['started_at']} (mock clock)"


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode("utf-8", "replace")


def _claim(record: dict | None, now: float):
    """Mark the first unfinished step `firing` if it is due and nothing before it is still
    firing; the result says what to run (pure: the store may rerun it)."""
    if record is None:
        return None, None
    for step in record["steps"]:
        if step["state"] in ("done", "failed"):
            continue
        if step["state"] != "pending" or step["due"] > now:
            return record, None
        step["state"] = "firing"
        return record, (record["run"], dict(step), record["vars"])
    return record, None


def _finish(record: dict | None, *, run: int, step: dict, status: int, answer: Any, now: float):
    if record is None or record["run"] != run:
        return record, None  # stopped (or replaced) while the step ran
    for current in record["steps"]:
        if current["index"] == step["index"]:
            current["state"] = "done" if 200 <= status < 300 else "failed"
            current["status"] = status
            current["answer"] = answer
            current["fired_at"] = iso_utc(now)
    return record, None
