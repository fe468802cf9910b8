"""mockserver/http/apps.py: how connexion's apps find each operation's handler."""

from __future__ import annotations

import pytest
from connexion.exceptions import ResolverError
from starlette.testclient import TestClient

from mockserver.apis.statusbadge import StatusbadgeApi
from mockserver.app import build_app
from mockserver.http.apps import api_app, gate_methods
from tests.conftest import test_settings


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
