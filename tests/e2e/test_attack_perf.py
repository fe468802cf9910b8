"""Outside tester, round 4: today's hot-path changes (issue 16) and the secrets they guard.

- A credential used as an object key in a body (`{"data": {"<token>": 1}}`) reached the
  journal whole: the journal masks every occurrence of a request's secrets in every string of
  its entry, but skipped keys. The new `may_show_in` does see keys; `scrub_all` did not.
- A form-encoded body whose secret field name is percent-encoded (`%74oken=`) had its value
  remembered only decoded, so the value as sent (`sk_live_…%2D…`) stayed in the journal whole.
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
