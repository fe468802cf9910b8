"""Outside tester, round 3: promises of the control API and MockClient that were breakable.

- A fault rule's `match` names a credential (the Sonoran key a rule picks, a statusbadge
  `token`): the rule held it, and GET /__mock/faults and the POST's answer showed it whole
  ("Credentials never reach the journal, the report or the logs ..., and so does every other
  place the same value shows up"). The rule still matches on the raw value.
- MockClient's id helpers put ids into the path unescaped: `collect.system("a?b")` asked for
  system "a" (a system id is any non-empty string).
- MockClient had no helper for GET /__mock/events.
"""

from __future__ import annotations

import base64
import uuid

import pytest

from mockserver.client import MockClient, MockClientError
from mockserver.core.redaction import KEEP

SONORAN = "/v2/general/servers/1/heartbeat"
DATA = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}


def _shown(text: str, secret: str) -> bool:
    return secret[KEEP:][:10] in text or secret[KEEP + 4 :] in text


def test_a_fault_rule_matching_a_credential_never_shows_it(http):
    key = "k" + uuid.uuid4().hex
    token = f"sk_live_{uuid.uuid4()}"
    added = [
        http.post(
            "/__mock/faults",
            json={
                "api": "sonoran",
                "status": 503,
                "match": {"headers": {"Authorization": f"Bearer {key}"}},
            },
        ),
        http.post(
            "/__mock/faults",
            json={"api": "statusbadge", "status": 503, "match": {"body": {"token": token}}},
        ),
    ]
    assert [r.status_code for r in added] == [201, 201]
    # The rules still pick exactly the request with that credential.
    assert (
        http.post(
            SONORAN, json={"playerCount": 1}, headers={"Authorization": "Bearer other"}
        ).status_code
        == 200
    )
    assert (
        http.post(
            SONORAN, json={"playerCount": 1}, headers={"Authorization": f"Bearer {key}"}
        ).status_code
        == 503
    )
    assert http.post("/api/heartbeat", json={"token": token, "data": DATA}).status_code == 503
    other = f"sk_live_{uuid.uuid4()}"
    assert http.post("/api/heartbeat", json={"token": other, "data": DATA}).status_code == 200
    surfaces = [r.text for r in added] + [
        http.get(p).text
        for p in (
            "/__mock/faults",
            "/__mock/faults?api=sonoran",
            "/__mock/events",
            "/__mock/requests",
            "/__mock/report",
            "/__mock/report?format=text",
            "/__mock/report?format=html",
        )
    ]
    for text in surfaces:
        assert not _shown(text, key) and not _shown(text, token), text[:300]
    faults = http.get("/__mock/faults").json()["faults"]
    assert faults[0]["match"]["headers"]["Authorization"].startswith("Bearer k")
    assert faults[1]["match"]["body"]["token"].startswith(token[:KEEP])


def test_a_scenario_naming_a_credential_never_shows_it(http):
    """A scenario step adding a fault rule that names a credential, through a var and
    literally: the scenario's answers show both by their prefix, and the step still fires with
    the raw value (the rule picks exactly that key)."""
    key = "k" + uuid.uuid4().hex
    token = f"sk_live_{uuid.uuid4()}"
    steps = [
        {
            "at_seconds": 0,
            "method": "POST",
            "path": "/__mock/faults",
            "body": {
                "api": "sonoran",
                "status": 503,
                "match": {"headers": {"Authorization": "Bearer ${key}"}},
            },
        },
        {
            "at_seconds": 0,
            "method": "POST",
            "path": "/__mock/faults",
            "body": {"api": "statusbadge", "status": 503, "match": {"body": {"token": token}}},
        },
    ]
    started = http.post(
        "/__mock/scenarios", json={"name": "leak", "vars": {"key": key}, "steps": steps}
    )
    assert started.status_code == 201, started.text
    auth = {"Authorization": f"Bearer {key}"}
    assert http.post(SONORAN, json={"playerCount": 1}, headers=auth).status_code == 503
    assert http.post("/api/heartbeat", json={"token": token, "data": DATA}).status_code == 503
    listed = http.get("/__mock/scenarios")
    for text in (started.text, listed.text, http.get("/__mock/report").text):
        assert not _shown(text, key) and not _shown(text, token), text[:300]
    [run] = listed.json()["scenarios"]
    assert run["vars"]["key"].startswith(key[:KEEP])
    shown_token = run["steps"][1]["body"]["match"]["body"]["token"]
    assert shown_token.startswith(token[:KEEP]) and shown_token != token


@pytest.mark.parametrize("system_id", ["a?b", "a#b", "%41", "a b", "é"])
def test_client_id_helpers_escape_the_id(http, live_server, system_id):
    auth = {"Authorization": "Basic YTpi"}
    assert (
        http.post("/api/systems/heartbeat", json={"system_id": system_id}, headers=auth).status_code
        == 200
    )
    with MockClient(live_server.url) as mock:
        assert mock.collect.system(system_id)["system_id"] == system_id
        with pytest.raises(MockClientError) as missing:
            mock.statusbadge.server("srv_pub_x?y")
        assert missing.value.status == 404
        with pytest.raises(MockClientError) as no_fault:
            mock.delete_fault("fault-1?x")
        assert "fault-1?x" in str(no_fault.value.body)


def test_client_reads_the_events(http, live_server):
    with MockClient(live_server.url) as mock:
        mock.freeze()
        mock.advance(30)
        mock.add_fault("statusbadge", status=503, times=1)
        kinds = [e["kind"] for e in mock.events()]
        assert kinds[-3:] == ["clock.freeze", "clock.advance", "fault.added"]
        assert [e["kind"] for e in mock.events(api="statusbadge")][-1] == "fault.added"
        mock.reset(api="statusbadge")
        assert "fault.added" not in [e["kind"] for e in mock.events(api="statusbadge")]


def test_the_text_report_keeps_one_line_per_item_whatever_the_client_sent(http):
    """A client's identity (a collect system_id is any string), a path and a scenario name
    are the client's text: a newline or a bidi control in one must not forge a report line."""
    auth = {"Authorization": "Basic YTpi"}
    forged = "sys\nstatusbadge: 999 requests, 0 invalid\r\u2028\u202e\x1b[31m"
    assert (
        http.post("/api/systems/heartbeat", json={"system_id": forged}, headers=auth).status_code
        == 200
    )
    assert http.post("/api/systems/heartbeat%0Aforged: 1 request", headers=auth).status_code == 404
    steps = [{"at_seconds": 99, "method": "POST", "path": "/__mock/clock/freeze"}]
    r = http.post("/__mock/scenarios", json={"name": "s\nforged", "steps": steps})
    text = http.get("/__mock/report", params={"format": "text"}).text
    assert not any(line.startswith(("statusbadge", "forged")) for line in text.splitlines())
    for char in "\r\u2028\u202e\x1b":
        assert char not in text
    assert "sys\\nstatusbadge: 999 requests" in text  # shown, escaped
    if r.status_code == 201:
        assert "s\\nforged" in text


@pytest.mark.parametrize(
    "api,changes,secrets",
    [
        ("collect", {"users": {"agent": "pw-" + "a1" * 12}}, ["pw-" + "a1" * 12]),
        ("sonoran", {"api_keys": ["key-" + "b2" * 12]}, ["key-" + "b2" * 12]),
        ("playwave", {"api_keys": ["key-" + "c3" * 12]}, ["key-" + "c3" * 12]),
        ("lucit", {"tokens": ["tok-" + "d4" * 12]}, ["tok-" + "d4" * 12]),
    ],
)
def test_settings_show_pinned_credentials_by_their_prefix(http, api, changes, secrets):
    """Pinned passwords, keys and tokens are the credentials clients send: GET and PATCH
    /__mock/settings show each by its prefix (user names stay readable), and they still work."""
    patched = http.patch(f"/__mock/settings/{api}", json=changes)
    assert patched.status_code == 200
    shown = [patched.text, http.get("/__mock/settings").text, http.get("/__mock/").text]
    for text in shown:
        for secret in secrets:
            assert secret[KEEP:] not in text, text[:300]
    value = http.get("/__mock/settings").json()["apis"][api][next(iter(changes))]["value"]
    if api == "collect":
        assert value == {"agent": "pw-a1a***"}
        good = {
            "Authorization": "Basic " + base64.b64encode(f"agent:{secrets[0]}".encode()).decode()
        }
        r = http.post("/api/systems/heartbeat", json={"system_id": "s"}, headers=good)
        assert r.status_code == 200
    else:
        assert value == [secrets[0][:KEEP] + "***"]


@pytest.mark.parametrize(
    "api,change",
    [
        ("sonoran", {"api_keys": ["key-" + "e5" * 12, {"a": 1}]}),
        ("sonoran", {"api_keys": ["key-" + "e5" * 12, None]}),
        ("sonoran", {"api_keys": ["key-" + "e5" * 12, ""]}),
        ("collect", {"users": {"agent": 5, "other": "key-" + "e5" * 12}}),
        ("lucit", {"tokens": ["key-" + "e5" * 12], "heartbeat_interval_seconds": "x"}),
    ],
)
def test_a_refused_credential_setting_does_not_echo_the_credentials(http, api, change):
    r = http.patch(f"/__mock/settings/{api}", json=change)
    assert r.status_code == 400
    assert "e5" * 8 not in r.text, r.text
    assert r.json()["error"]["fields"], r.text
