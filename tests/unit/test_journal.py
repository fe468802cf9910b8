from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.apis import api_class, api_names
from mockserver.core.redaction import KEEP, MAX_SECRETS, Redactor, Secrets
from mockserver.journal import Journal, body_for_journal, new_entry
from mockserver.store.memory import MemoryStore

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


# --- secrets outside their own field (issue 23, item 8) --------------------------------------
TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"


def begun(headers=(), query=""):
    """A journal entry begun in a context of its own, as the gate begins one per request."""
    ctx = contextvars.copy_context()
    entry = ctx.run(
        new_entry,
        api="statusbadge",
        operation="statusbadge_heartbeat",
        method="POST",
        path="/api/heartbeat",
        query=query,
        at=0.0,
        headers=list(headers),
        redactor=REDACTOR,
    )
    return ctx, entry


def test_a_token_sent_as_an_array_or_an_object_is_masked_inside():
    body = {"token": [TOKEN, {"v": TOKEN}], "n": {"token": 12345678901234}}
    assert REDACTOR.body(body) == {
        "token": ["sk_liv***", {"v": "sk_liv***"}],
        "n": {"token": "123456***"},
    }


def test_secret_query_parameters_keep_a_short_prefix():
    _, entry = begun(query="a=1&api_key=abcdefghijkl&Token=sk_live_xyz12345&api%5Fkey=qwertyuiop")
    assert entry["query"] == "a=1&api_key=abcdef***&Token=sk_liv***&api%5Fkey=qwerty***"


@pytest.mark.parametrize(
    "raw",
    [
        f"token={TOKEN}&data=x".encode(),
        f"token={TOKEN.replace('_', '%5F')}&data=x".encode(),
        f'{{"token": "{TOKEN}", "data": '.encode(),
        f'{{"token": ["{TOKEN}"'.encode(),
        f"TOKEN: {TOKEN}".encode(),
    ],
)
def test_bodies_that_are_not_json_mask_secret_fields_found_by_name(raw):
    ctx, _ = begun()
    text = ctx.run(body_for_journal, raw, 4096, REDACTOR)
    assert "***" in text and "550e8400" not in text


def test_an_oversized_body_is_scanned_whole_so_a_token_cut_by_the_cap_is_masked():
    raw = json.dumps({"pad": "x" * 90, "token": TOKEN}).encode()
    ctx, _ = begun()
    text = ctx.run(body_for_journal, raw, 120, REDACTOR, json.loads(raw))
    assert text.endswith(f"... ({len(raw)} bytes)") and "550e" not in text
    raw = json.dumps({"token": TOKEN, "pad": "x" * 200}).encode()
    assert "550e" not in ctx.run(body_for_journal, raw, 60, REDACTOR, json.loads(raw))


def test_a_secret_cut_short_at_the_end_of_a_string_is_masked():
    secrets = Secrets()
    secrets.add(TOKEN)
    assert secrets.scrub("value: " + TOKEN[:20]) == "value: sk_liv***"
    assert secrets.scrub("value: " + TOKEN[:6]) == "value: " + TOKEN[:6]
    assert secrets.scrub(f"['{TOKEN}'] is not") == "['sk_liv***'] is not"


def test_basic_credentials_mask_what_they_encode():
    cred = base64.b64encode(b"agent:correct-horse-battery").decode()
    ctx, entry = begun(headers=[(b"authorization", f"Basic {cred}".encode())])
    entry["violations"] = [
        {"key": "", "rule": "x", "message": f"agent:correct-horse-battery {cred}", "value": ""}
    ]
    secrets = entry.pop("_secrets")
    text = json.dumps(secrets.scrub_all(entry))
    assert "horse" not in text and cred[KEEP:] not in text


def test_violations_of_secret_fields_and_headers_show_no_value_in_the_journal():
    ctx, entry = begun(headers=[(b"appidv3", b"LCUID-LAP-not-a-uuid-at-all")])
    entry["violations"] = [
        {"key": "token", "rule": "pattern", "message": "'abc' does not match", "value": "abc"},
        {
            "key": "AppIdV3",
            "rule": "pattern",
            "message": "'LCUID-LAP-not-a-uuid-at-all' no",
            "value": "LCUID-LAP-not-a-uuid-at-all",
            "location": "header",
        },
    ]
    store = MemoryStore()
    journal = Journal(store, cap=10, apis=["statusbadge"], redactor=REDACTOR)
    asyncio.run(journal.record("statusbadge", entry))
    (stored,) = asyncio.run(journal.entries())
    token, app_id = stored["violations"]
    assert (token["value"], token["message"]) == ("***", "'***' does not match")
    assert app_id["value"] == "LCUID-***" and "not-a-uuid" not in app_id["message"]
    assert "_secrets" not in stored


def test_log_lines_written_while_a_request_is_served_mask_its_secrets(caplog):
    ctx, _ = begun(query="api_key=abcdefghijklmnop")
    log = logging.getLogger("mockserver.test")
    with caplog.at_level(logging.DEBUG, logger="mockserver.test"):
        ctx.run(log.warning, "GET /x?api_key=%s failed", "abcdefghijklmnop")
        try:
            raise ValueError("bad key abcdefghijklmnop")
        except ValueError:
            ctx.run(log.exception, "boom")
        log.warning("outside any request: %s", "abcdefghijklmnop")
    first, second, outside = caplog.records
    assert first.getMessage() == "GET /x?api_key=abcdef*** failed"
    assert "abcdef***" in caplog.text and caplog.text.count("abcdefghijklmnop") == 1
    assert outside.getMessage().endswith("abcdefghijklmnop")  # no request, nothing to mask


def test_a_body_nested_too_deep_to_walk_is_journaled_as_text():
    deep: list = []
    inner = deep
    for _ in range(3000):  # deeper than the interpreter's stack: built without recursion
        inner.append([])
        inner = inner[0]
    raw = b"[" * 3001 + b"]" * 3001
    text = body_for_journal(raw, 100, REDACTOR, deep)
    assert text == "[" * 100 + f"... ({len(raw)} bytes)"


def test_a_request_stuffed_with_secrets_is_searched_for_a_bounded_number():
    secrets = Secrets()
    for i in range(5000):
        secrets.add(f"sk_live_{i:08d}")
    assert len(secrets.values) == MAX_SECRETS
    body = {"token": [f"sk_live_{i:08d}" for i in range(5000)]}
    assert set(REDACTOR.body(body)["token"]) == {"sk_liv***"}  # by name, every one


@pytest.mark.parametrize("key", ['ab"cdefghijkl', "ab\\cdefghijkl", "abcdefghijkl"])
def test_the_cheap_test_before_scrubbing_never_skips_a_secret(key):
    """Journal.record walks an entry only when its JSON text may hold a secret; a secret that
    JSON escapes (a quote, a backslash) is always walked for."""
    ctx, entry = begun(headers=[(b"x-api-key", key.encode())])
    entry["violations"] = [{"key": "", "rule": "x", "message": f"got {key[:9]}", "value": key}]
    journal = Journal(MemoryStore(), cap=10, apis=["statusbadge"], redactor=REDACTOR)
    asyncio.run(journal.record("statusbadge", entry))
    (stored,) = asyncio.run(journal.entries())
    assert stored["violations"][0]["value"] == key[:KEEP] + "***"
    assert stored["violations"][0]["message"] == f"got {key[:KEEP]}***"


def test_entries_are_numbered_by_the_journal_in_one_store_call_whatever_id_they_carry():
    store = MemoryStore()
    journal = Journal(store, cap=10, apis=["a", "b"])

    async def run():
        calls = []
        append = store.log_append_numbered

        async def counted(*args):
            calls.append(args[0])
            return await append(*args)

        store.log_append_numbered = counted
        for api, carried in (("a", 99), ("b", None), ("a", 0)):
            entry = {"api": api, "violations": [], "_secrets": None, "note": 'ü "{x}"'}
            if carried is not None:
                entry["id"] = carried
            await journal.record(api, entry)
        return calls, await journal.entries()

    calls, entries = asyncio.run(run())
    assert calls == ["a:journal", "b:journal", "a:journal"]
    assert [(e["id"], e["api"]) for e in entries] == [(1, "a"), (2, "b"), (3, "a")]
    assert all(list(e)[0] == "id" and e["note"] == 'ü "{x}"' for e in entries)


APP_ID = "LCUID-LAP-00000000-0000-0000-0000-000000000001"


@given(
    st.lists(
        st.sampled_from(["LCUID-LD-1234", APP_ID, APP_ID[:7], APP_ID[:12], APP_ID[:-1], "x", " "]),
        max_size=5,
    ).map("".join)
)
def test_the_cheap_test_says_no_only_when_scrubbing_changes_nothing(text):
    """Journal.record skips the walk when `may_show_in` says no: that must never hide a change
    `scrub` would make (a whole secret, or one cut short at a string's end)."""
    secrets = Secrets()
    secrets.add(APP_ID)
    document = json.dumps({"path": text, "n": 1}, ensure_ascii=False)
    assert secrets.may_show_in(document) or secrets.scrub(text) == text


def test_a_value_that_only_shares_a_secrets_first_characters_is_not_walked_for():
    """Lucit's device ids and app ids share `LCUID-L`: a heartbeat's path is no reason to
    walk its entry."""
    secrets = Secrets()
    secrets.add(APP_ID)
    path = json.dumps({"path": "/api/v3/analytics/lightning-devices/LCUID-LD-1/heartbeat"})
    assert not secrets.may_show_in(path)
    assert secrets.may_show_in(json.dumps({"v": APP_ID[:20]}))  # cut short at the end
    assert secrets.may_show_in(json.dumps({"v": f"a {APP_ID} b"}))


@pytest.mark.parametrize("cap", range(20, 44))
def test_a_non_ascii_credential_header_is_masked_where_a_utf8_body_repeats_it(cap):
    """A credential header's bytes are text in two ways: as headers are read (Latin-1) and as
    the same bytes in a UTF-8 body; the second is masked too, whatever the cap leaves."""
    secret = "sk_éé€€€€€€-0123456789"
    raw = json.dumps({"note": secret, "pad": "x" * 80}, ensure_ascii=False).encode()
    ctx, _ = begun(headers=[(b"authorization", f"Bearer {secret}".encode())])
    text = ctx.run(body_for_journal, raw, cap, REDACTOR, None)
    assert secret[: KEEP + 1] not in text, text
