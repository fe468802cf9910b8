"""Outside tester, round 4: today's hot-path changes (issue 16) and the secrets they guard.

- A credential used as an object key in a body (`{"data": {"<token>": 1}}`) reached the
  journal whole: the journal masks every occurrence of a request's secrets in every string of
  its entry, but skipped keys. The new `may_show_in` does see keys; `scrub_all` did not.
- A form-encoded body whose secret field name is percent-encoded (`%74oken=`) had its value
  remembered only decoded, so the value as sent (`sk_live_…%2D…`) stayed in the journal whole.
- A JSON body the strict parser refuses (a NaN, a duplicate key) or over the journal's cap is
  journaled as text, where secret fields are found by name: a name written with a JSON escape
  (`"tok\\u0065n"`) was not, and the token showed whole.
"""

from __future__ import annotations

import uuid

from mockserver.core.redaction import KEEP

STATUSBADGE = "/api/heartbeat"
DATA = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}


def _token() -> str:
    return f"sk_live_{uuid.uuid4()}"


def _surfaces(http) -> str:
    return "\n".join(
        http.get(path).text
        for path in ("/__mock/requests", "/__mock/report", "/__mock/report?format=html")
    )


def _windows(secret: str) -> set[str]:
    rest = secret[KEEP:]
    return {rest[i : i + 10] for i in range(max(1, len(rest) - 9))}


def _leaked(text: str, secret: str) -> bool:
    return any(w in text for w in _windows(secret))


def test_a_credential_used_as_a_key_never_shows_in_the_journal(http):
    token, header_key = _token(), "k" + uuid.uuid4().hex
    in_header = "Bearer " + header_key
    bodies = [
        {"token": token, "data": {**DATA, token: 1}},  # valid shape, extra key
        {"token": token, "data": {"nested": [{token + "-suffix": {token: token}}]}},
    ]
    for body in bodies:
        http.post(STATUSBADGE, json=body)
    # a header credential used as a key of the body of another API
    http.post(
        "/v2/general/servers/1/heartbeat",
        json={header_key: 1},
        headers={"Authorization": in_header},
    )
    entries = http.get("/__mock/requests").json()["requests"]
    assert len(entries) == 3
    text = _surfaces(http)
    assert not _leaked(text, token)
    assert not _leaked(text, header_key)
    # the entry keeps its shape: the masked key is still there, by its prefix
    assert any(k.startswith(token[:KEEP]) for k in entries[0]["request"]["body"]["data"])


def test_a_percent_encoded_form_field_is_masked_as_sent(http):
    token = _token()
    sent = token.replace("-", "%2D").replace("_", "%5F")
    for content_type in ("application/x-www-form-urlencoded", "application/json"):
        http.post(
            STATUSBADGE,
            content=f"data=1&%74oken={sent}&x=2",
            headers={"content-type": content_type},
        )
    assert len(http.get("/__mock/requests").json()["requests"]) == 2
    text = _surfaces(http)
    assert not _leaked(text, token)
    assert not _leaked(text, sent)


def test_a_secret_field_named_with_a_json_escape_is_masked_in_a_body_kept_as_text(http):
    tokens = [_token() for _ in range(4)]
    esc, dash = "\\u0065", "\\u002d"  # an `e`, a `-` as JSON escapes
    escaped, pad = tokens[3].replace("-", dash, 1), "x" * 8000
    bodies = [
        f'{{"tok{esc}n": "{tokens[0]}", "x": NaN}}',  # refused: kept as text
        f'{{"tok{esc}n": "{tokens[1]}", "data": 1, "data": 2}}',  # refused: duplicate key
        f'{{"\\u0074oken": ["{tokens[2]}"], "data": 1, "data": 2}}',  # in an array
        # over the journal's cap, the value escaped too
        f'{{"tok{esc}n": "{escaped}", "data": {{"pad": "{pad}"}}}}',
    ]
    for body in bodies:
        r = http.post(STATUSBADGE, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400
    assert len(http.get("/__mock/requests").json()["requests"]) == 4
    text = _surfaces(http)
    for token in tokens:
        assert not _leaked(text, token)
        assert not _leaked(text, token.replace("-", dash, 1))


def test_a_body_of_escaped_quotes_is_answered_and_journaled(http):
    """Looking for escaped names must cost linear time: a general JSON-string pattern took
    minutes on a few hundred KB of `"\\"\\"…` (every quote starts a string to the end)."""
    for body in ('"\\' * 200_000, '"' + '\\"' * 200_000):
        r = http.post(STATUSBADGE, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400
    assert len(http.get("/__mock/requests").json()["requests"]) == 2
