"""Every code sample the docs show for a vendor operation is run against a live mock (both
stores), exactly as generated for that mock's address, and must get the documented answer: the
operation's documented success status, a body that matches that response's schema (and has the
documented example's fields), and a request the mock's journal calls valid. So no sample goes
stale when a spec, a samples file or the mock changes.

cURL samples run in bash with /usr/bin/curl, Python ones with this interpreter (httpx, requests
and the Sonoran.py SDK are dev dependencies), JavaScript ones with Node's built-in fetch. The
samples nothing here can run (another runtime, or an SDK from another registry) are listed in
NOT_RUN with the reason, and the test fails if that list and the docs drift apart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from mockserver.docs.model import load_api_docs
from mockserver.docs.samples import Sample, build_request
from mockserver.docs.spec_page import PageContext, SpecPage
from mockserver.docs.vendor import load_vendor
from mockserver.spec.check import _resolve
from mockserver.spec.loader import SPEC_DIR
from tests.conftest import seed_body

pytestmark = pytest.mark.e2e

APIS, _ = load_api_docs(SPEC_DIR)
OPERATIONS = [(api, op) for api in APIS for op in api.spec.operations]
CURL = "/usr/bin/curl"
NODE = shutil.which("node")
# (API, sample label): why this runner cannot run it.
NOT_RUN = {
    ("sonoran", "Sonoran.lua"): "needs Lua and the sonoran.lua rock",
    ("sonoran", "Sonoran.js"): "needs the @sonoransoftware/sonoran.js npm package",
    ("sonoran", "Sonoran.Net"): "needs .NET and the Sonoran.Net NuGet package",
    ("lucit", "PHP (Guzzle)"): "needs PHP and Guzzle",
    ("playwave", "Luau"): "runs inside a Roblox game server",
}
SESSION = {
    "provider_user_id": "123456789",
    "game_session_id": "gs_550e8400-e29b-41d4-a716-446655440000",
}


def prepare(http: httpx.Client, api: str, operation_id: str) -> None:
    """What must exist before the operation can give its documented answer."""
    if api == "playwave":  # sessions come from PlayWave's (undocumented) verify endpoint
        http.post("/__mock/playwave/sessions", json=SESSION).raise_for_status()
    if operation_id in ("statusbadge_badge", "statusbadge_status"):
        http.post("/api/heartbeat", json=seed_body("statusbadge")).raise_for_status()


def run(sample: Sample, workdir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    if sample.lang == "shell":
        command = ["bash", "-euo", "pipefail", "-c", sample.code]
    elif sample.lang == "python":
        command = [sys.executable, "-c", sample.code]
    else:  # top-level await needs an ES module; the document's .then() style runs as either
        script = workdir / "sample.mjs"
        script.write_text(sample.code, encoding="utf-8")
        command = [NODE, str(script)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=env, cwd=workdir, check=False
    )


def journaled_after(http: httpx.Client, api: str, known: int) -> list[dict]:
    """The journal entries past the first `known`, waiting (bounded) until there is one. The
    gate journals a request before the last byte of its answer, but a client of a bodiless
    answer (the CORS preflight's 204) may be done before that byte: on Redis, curl is back
    before the entry in about a third of runs."""
    deadline = time.monotonic() + 10
    while True:
        entries = http.get("/__mock/requests", params={"api": api}).json()["requests"]
        if len(entries) > known or time.monotonic() > deadline:
            return entries[known:]
        time.sleep(0.05)


def runnable(api: str, samples: list[Sample]) -> list[Sample]:
    return [s for s in samples if (api, s.label) not in NOT_RUN]


def success_schema(doc, op, status: int):
    response = _resolve(op.op["responses"][str(status)], doc.spec)
    content = response.get("content") or {}
    media = next(iter(content.values()), None)
    return media


@pytest.fixture(scope="module")
def tools():
    assert Path(CURL).is_file(), "the sample runner needs curl at /usr/bin/curl"
    assert NODE, "the sample runner needs Node.js (`node`) for the JavaScript samples"


def test_every_sample_not_run_here_is_still_shown():
    shown = set()
    for api, op in OPERATIONS:
        page = SpecPage(api.spec, PageContext(samples=True, vendor=load_vendor(api.name)))
        shown |= {(api.name, s.label) for s in page.sample_list(op)}
    assert set(NOT_RUN) <= shown, sorted(set(NOT_RUN) - shown)


@pytest.mark.parametrize(
    ("api", "op"), OPERATIONS, ids=[f"{a.name}-{o.op['operationId']}" for a, o in OPERATIONS]
)
def test_every_sample_gets_the_documented_answer(tools, live_server, http, tmp_path, api, op):
    origin = live_server.url
    vendor = load_vendor(api.name)
    page = SpecPage(api.spec, PageContext(origin=origin, samples=True, vendor=vendor))
    samples = runnable(api.name, page.sample_list(op))
    labels = [s.label for s in samples]
    assert {"cURL", "Python (httpx)", "JavaScript (fetch)"} <= set(labels)
    expect = build_request(api.spec, op, origin, vendor.overrides).expect
    assert expect is not None, f"{op.native}: no documented success answer"
    media = success_schema(api.spec, op, expect)
    op_id = op.op["operationId"]
    for sample in samples:
        http.post("/__mock/reset", params={"api": api.name}).raise_for_status()
        prepare(http, api.name, op_id)
        before = http.get("/__mock/requests", params={"api": api.name}).json()["requests"]
        done = run(sample, tmp_path)
        where = f"{api.name} {op_id} [{sample.label}]"
        assert done.returncode == 0, f"{where} failed:\n{done.stdout}\n{done.stderr}"
        sent = journaled_after(http, api.name, len(before))
        assert len(sent) == 1, f"{where} sent {len(sent)} requests"
        entry = sent[0]
        assert entry["operation"] == op_id, where
        assert (entry["status"], entry["valid"]) == (expect, True), (where, entry["violations"])
        if media is not None and media.get("schema") is not None:
            body = entry["response"]["body"]
            errors = [e.message for e in OAS30Validator(media["schema"]).iter_errors(body)]
            assert not errors, f"{where}: {errors[0]}"
            example = media.get("example")
            if isinstance(example, dict) and isinstance(body, dict):
                assert set(body) == set(example), f"{where}: fields differ from the example"
        if sample.source == "generated" and sample.lang != "shell":
            assert done.stdout.startswith(f"{expect} "), f"{where} printed {done.stdout[:200]!r}"
