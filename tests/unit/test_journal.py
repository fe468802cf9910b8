from __future__ import annotations

from mockserver.apis import api_class, api_names
from mockserver.core.redaction import Redactor
from mockserver.journal import body_for_journal

# What the enabled APIs declare (each API's own secret headers and fields), as build_app does.
REDACTOR = Redactor(
    headers=[h for n in api_names() for h in api_class(n).secret_headers],
    fields=[f for n in api_names() for f in api_class(n).secret_fields],
)


def test_secret_headers_keep_a_short_prefix():
    assert REDACTOR.header("Authorization", "Bearer abcdefghijkl") == "Bearer abcdef***"
    assert REDACTOR.header("X-Api-Key", "key-1234567890") == "key-12***"
    assert REDACTOR.header("AppIdV3", "LCUID-LAP-1234") == "LCUID-***"
    assert REDACTOR.header("Content-Type", "application/json") == "application/json"
    assert REDACTOR.header("authorization", "Basic dXNlcjpwYXNz") == "Basic dXNlcj***"


def test_api_secrets_are_only_secret_when_an_api_declares_them():
    assert Redactor().header("X-Api-Key", "key-1234567890") == "key-1234567890"
    assert Redactor(headers=["X-Api-Key"]).header("x-api-key", "key-1234567890") == "key-12***"


def test_token_fields_are_redacted_at_any_depth():
    body = {"token": "sk_live_550e8400-e29b", "data": {"items": [{"token": "sk_live_x1234567"}]}}
    assert REDACTOR.body(body) == {
        "token": "sk_liv***",
        "data": {"items": [{"token": "sk_liv***"}]},
    }


def test_bodies_are_json_when_they_parse_else_capped_text():
    assert body_for_journal(b'{"a": 1}', 100, REDACTOR) == {"a": 1}
    assert body_for_journal(b"not json", 100, REDACTOR) == "not json"
    assert body_for_journal(b"x" * 50, 10, REDACTOR) == "xxxxxxxxxx... (50 bytes)"
    assert body_for_journal(b"\xa9\x11", 100, REDACTOR) == "\ufffd\x11"
    assert body_for_journal(b"", 100, REDACTOR) is None
