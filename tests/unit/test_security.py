"""mockserver.http.security: connexion's credential checks call the API's own closures (so the
vendor specs name no info function and pinned credentials can change at run time), and connexion
still decides what a missing, other-scheme or refused credential means."""

from __future__ import annotations

import asyncio
import base64
from types import SimpleNamespace

import pytest
from connexion.exceptions import OAuthProblem, OAuthResponseProblem
from connexion.security import (
    NO_VALUE,
    ApiKeySecurityHandler,
    BasicSecurityHandler,
    BearerSecurityHandler,
)
from starlette.datastructures import Headers

from mockserver.http.security import security_map

BEARER = {"type": "http", "scheme": "bearer", "x-bearerInfoFunc": "no.such.module.func"}
BASIC = {"type": "http", "scheme": "basic"}
API_KEY = {"type": "apiKey", "in": "header", "name": "X-Key"}


def request(**headers: str) -> SimpleNamespace:
    return SimpleNamespace(
        headers=Headers({k.replace("_", "-"): v for k, v in headers.items()}), query_params={}
    )


def check(fn, req):
    """Run connexion's verify function for one request: the closure's answer, or NO_VALUE."""
    answer = fn(req)
    return asyncio.run(answer) if asyncio.iscoroutine(answer) else answer


def test_only_the_schemes_given_get_a_handler():
    assert security_map() == {}
    assert set(security_map(bearer=lambda t: {})) == {"bearer"}
    both = security_map(basic=lambda u, p: {}, api_key=lambda k, required_scopes=None: {})
    assert set(both) == {"basic", "apiKey"}


@pytest.mark.parametrize(
    ("kind", "base"),
    [
        ("bearer", BearerSecurityHandler),
        ("basic", BasicSecurityHandler),
        ("api_key", ApiKeySecurityHandler),
    ],
)
def test_each_handler_is_connexions_own_with_the_closure_bound(kind, base):
    def func(*args, **kwargs):
        return {"sub": "x"}

    key = {"api_key": "apiKey"}.get(kind, kind)
    handler = security_map(**{kind: func})[key]
    assert issubclass(handler, base) and handler.__name__ == f"Bound{base.__name__}"
    assert handler()._resolve_func({"x-bearerInfoFunc": "no.such.module.func"}) is func


def test_bearer_calls_the_closure_with_the_token_and_ignores_the_specs_info_func(monkeypatch):
    monkeypatch.setenv("BEARERINFO_FUNC", "no.such.module.either")
    seen: list[str] = []

    def bearer(token: str):
        seen.append(token)
        return {"sub": token[:3]}

    fn = security_map(bearer=bearer)["bearer"]().get_fn(BEARER, None)
    assert check(fn, request(authorization="Bearer abc123")) == {"sub": "abc"}
    assert seen == ["abc123"]


def test_the_closure_sees_settings_changed_at_run_time():
    pinned = {"k1"}
    fn = security_map(bearer=lambda token: {"sub": token} if token in pinned else None)[
        "bearer"
    ]().get_fn(BEARER, None)
    assert check(fn, request(authorization="Bearer k1")) == {"sub": "k1"}
    pinned.clear()
    pinned.add("k2")
    with pytest.raises(OAuthResponseProblem):
        check(fn, request(authorization="Bearer k1"))
    assert check(fn, request(authorization="Bearer k2")) == {"sub": "k2"}


def test_a_missing_or_other_scheme_credential_is_no_value_for_connexion():
    fn = security_map(bearer=lambda token: {"sub": token})["bearer"]().get_fn(BEARER, None)
    assert check(fn, request()) is NO_VALUE
    assert check(fn, request(authorization="Basic dTpw")) is NO_VALUE


def test_a_malformed_authorization_header_is_connexions_auth_problem():
    fn = security_map(bearer=lambda token: {"sub": token})["bearer"]().get_fn(BEARER, None)
    with pytest.raises(OAuthProblem):
        check(fn, request(authorization="Bearer"))


def test_basic_gets_user_and_password_and_a_refusal_is_401():
    users = {"agent": "s3cret"}

    def basic(user: str, password: str):
        return {"sub": user} if users.get(user) == password else None

    fn = security_map(basic=basic)["basic"]().get_fn(BASIC, None)
    good = base64.b64encode(b"agent:s3cret").decode()
    bad = base64.b64encode(b"agent:wrong").decode()
    assert check(fn, request(authorization=f"Basic {good}")) == {"sub": "agent"}
    with pytest.raises(OAuthResponseProblem):
        check(fn, request(authorization=f"Basic {bad}"))


def test_an_api_key_comes_from_the_header_the_scheme_names():
    seen: list[str] = []

    def api_key(key: str, required_scopes=None):
        seen.append(key)
        return {"sub": key} if key else None

    fn = security_map(api_key=api_key)["apiKey"]().get_fn(API_KEY, None)
    assert check(fn, request(x_key="game-1")) == {"sub": "game-1"}
    assert check(fn, request(other="game-1")) is NO_VALUE
    assert seen == ["game-1"]
