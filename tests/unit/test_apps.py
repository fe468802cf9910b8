"""mockserver/http/apps.py: how connexion's apps find each operation's handler."""

from __future__ import annotations

import asyncio
import logging

import pytest
from connexion.exceptions import InternalServerError, ResolverError
from starlette.testclient import TestClient

from mockserver.apis.statusbadge import StatusbadgeApi
from mockserver.app import build_app
from mockserver.http.apps import api_app, gate_methods
from tests.conftest import leave_mid_body, test_settings


@pytest.fixture
def statusbadge():
    return build_app(test_settings(store="memory")).ctx.apis["statusbadge"]


def test_the_gate_answers_the_preflight_of_an_api_with_cors(statusbadge):
    assert gate_methods(statusbadge) == {"OPTIONS"}


def test_an_api_without_cors_leaves_every_method_to_its_engine():
    apis = build_app(test_settings(store="memory")).ctx.apis
    assert gate_methods(apis["sonoran"]) == frozenset()


def test_an_operation_whose_handler_is_not_a_method_fails_the_build(statusbadge):
    """A placeholder (`= None`) would pass connexion's own resolver and fail at the first
    request; here it stops the build, naming the operation."""

    class Placeholder(StatusbadgeApi):
        statusbadge_status = None

    api = Placeholder(statusbadge.ctx, statusbadge.config)
    app = api_app(api, test_settings(store="memory"), [])
    with pytest.raises(ResolverError, match="statusbadge_status"), TestClient(app) as client:
        client.get("/api/status/srv_pub_a3a9e1ed9732")  # connexion builds its app on first use


def test_a_connexion_server_error_is_the_apis_own_500_logged_with_its_traceback(
    statusbadge, caplog
):
    """A server error connexion raises (here from a handler) answers in the API's own format,
    never connexion's problem+json, with nothing of its detail; the log has it all."""

    class Failing(StatusbadgeApi):
        async def statusbadge_status(self, publicId: str):
            raise InternalServerError(detail="secret detail")

    api = Failing(statusbadge.ctx, statusbadge.config)
    with TestClient(api_app(api, test_settings(store="memory"), [])) as client:
        r = client.get("/api/status/srv_pub_a3a9e1ed9732")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"error": "Internal Server Error", "message": "internal server error"}
    logged = [rec for rec in caplog.records if rec.levelno == logging.ERROR]
    assert len(logged) == 1 and logged[0].exc_info[1].detail == "secret detail"


MALFORMED_FORM = {"content": b"{}", "headers": {"Content-Type": "multipart/form-data; boundary=x"}}


@pytest.mark.parametrize(
    "path",
    [
        "/api/status/srv_pub_a3a9e1ed9732",
        "/api/badge/srv_pub_a3a9e1ed9732",
        "/__mock/clock",
        "/__mock/health",
        "/__mock/faults",
    ],
)
def test_an_operation_without_a_request_body_ignores_the_one_it_is_sent(http, path):
    """On both engines: connexion read a form body for every operation, and a GET sent with a
    malformed multipart body answered 400 "Invalid multipart data.", a status the operation's
    spec does not list, where the compiled path answers as if there were no body."""
    plain = http.get(path)
    r = http.request("GET", path, **MALFORMED_FORM)
    assert (r.status_code, r.headers["content-type"]) == (
        plain.status_code,
        plain.headers["content-type"],
    )
    assert "multipart" not in r.text


def test_a_control_call_whose_client_leaves_before_its_body_ends_changes_nothing(store_url):
    """The body so far would parse (`{"seconds": 100}` and padding), but the client declared
    400 bytes and went away: the clock must not move, and nothing is sent to nobody."""
    app = build_app(test_settings(store=store_url()))

    async def call() -> tuple[float, float, list]:
        try:
            await app.ctx.clock.freeze()
            before = await app.ctx.clock.now()
            sent = await leave_mid_body(app, "/__mock/clock/advance", b'{"seconds": 100}    ', 400)
            return before, await app.ctx.clock.now(), sent
        finally:
            await app.ctx.store.close()

    before, after, sent = asyncio.run(call())
    assert after == before
    assert sent == []
