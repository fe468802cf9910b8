from __future__ import annotations

from mockserver.journal import body_for_journal, redact_body, redact_header


def test_secret_headers_keep_a_short_prefix():
    assert redact_header("Authorization", "Bearer abcdefghijkl") == "Bearer abcdef***"
    assert redact_header("X-Api-Key", "key-1234567890") == "key-12***"
    assert redact_header("AppIdV3", "LCUID-LAP-1234") == "LCUID-***"
    assert redact_header("Content-Type", "application/json") == "application/json"
    assert redact_header("authorization", "Basic dXNlcjpwYXNz") == "Basic dXNlcj***"


def test_token_fields_are_redacted_at_any_depth():
    body = {"token": "sk_live_550e8400-e29b", "data": {"items": [{"token": "sk_live_x1234567"}]}}
    assert redact_body(body) == {"token": "sk_liv***", "data": {"items": [{"token": "sk_liv***"}]}}


def test_bodies_are_json_when_they_parse_else_capped_text():
    assert body_for_journal(b'{"a": 1}', 100) == {"a": 1}
    assert body_for_journal(b"not json", 100) == "not json"
    assert body_for_journal(b"x" * 50, 10) == "xxxxxxxxxx... (50 bytes)"
    assert body_for_journal(b"\xa9\x11", 100) == "\ufffd\x11"
    assert body_for_journal(b"", 100) is None
