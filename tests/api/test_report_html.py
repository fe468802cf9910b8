"""`GET /__mock/report?format=html`: one self-contained document whose every mark is a journal
entry on the mock clock's axis (issue 20). Parsed with the standard library's HTML parser, so
the tests read the marks, gaps and rows as a browser's DOM would hold them."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx

from mockserver.report_html import MAX_CLIENTS
from tests.conftest import seed_body
from tests.e2e.test_drift_browser import DRIFTS, HOSTILE, Drifted, drifted_traffic

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
PID = "srv_pub_a3a9e1ed9732"
SONORAN_KEY = "Bearer sonoran-key-abcdef123456"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text seen."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def having(self, cls: str) -> list[dict]:
        return [a for _, a in self.tags if cls in (a.get("class") or "").split()]


def badge(http, interval=30, token=TOKEN):
    data = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}
    data["heartbeatIntervalSec"] = interval
    return http.post("/api/heartbeat", json={"token": token, "data": data})


def advance(http, seconds):
    assert http.post("/__mock/clock/advance", json={"seconds": seconds}).status_code == 200


def html_report(http, **params) -> Elements:
    r = http.get("/__mock/report", params={"format": "html", **params})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    return Elements(r.text)


def test_the_document_is_self_contained(http):
    badge(http)
    doc = html_report(http)
    tags = {t for t, _ in doc.tags}
    assert "script" not in tags and "link" not in tags and "img" not in tags
    for _, attrs in doc.tags:  # nothing to fetch: no src, no external href
        assert "src" not in attrs
        assert attrs.get("href", "#").startswith("#")
    assert "style" in tags and "svg" in tags


def test_each_heartbeat_is_a_mark_coloured_by_its_status(http):
    http.post("/__mock/clock/freeze")
    for _ in range(3):
        assert badge(http).status_code == 200
        advance(http, 30)
    http.post("/api/heartbeat", json={"token": TOKEN, "data": {"status": "online"}})  # 400
    # (an invalid request names no client: it is listed as invalid, not drawn)
    doc = html_report(http)
    marks = doc.having("mark")
    journal = http.get("/__mock/requests", params={"api": "statusbadge"}).json()["requests"]
    beats = [e for e in journal if e["operation"] == "statusbadge_heartbeat" and e["identity"]]
    assert [m["data-at"] for m in marks] == [e["at"] for e in beats]
    assert [m["data-status"] for m in marks] == [str(e["status"]) for e in beats]
    assert len(marks) == 3 and all(m["class"] == "mark s2xx" for m in marks)
    xs = [float(m["x"]) for m in marks]
    assert xs == sorted(xs) and xs[0] == 0  # the axis starts at the first heartbeat


def test_the_documented_interval_is_drawn_as_guide_ticks(http):
    http.post("/__mock/clock/freeze")
    badge(http, interval=30)
    advance(http, 90)
    doc = html_report(http)
    assert len(doc.having("guide")) == 4  # at 0, 30, 60 and 90 s


def test_silence_past_the_stale_timeout_and_ttl_is_shaded_with_what_it_caused(http):
    """004: offline after the stale timeout (60 s for a 30 s interval), gone after 300 s."""
    http.post("/__mock/clock/freeze")
    badge(http)
    advance(http, 100)
    badge(http)
    advance(http, 400)
    doc = html_report(http)
    gaps = [(g["class"], g["data-effect"]) for g in doc.having("gap")]
    assert gaps == [
        ("gap stale", "the server showed offline"),  # 100 s gap: its last 40 s offline
        ("gap ttl", "the server's record was gone"),  # the 400 s since: gone after 300 s
        ("gap stale", "the server showed offline"),  # ... and offline after 60 s
    ]
    first_stale = doc.having("gap")[0]
    width = 720 * 40 / 500  # 40 s of the 500 s axis past the stale timeout
    assert abs(float(first_stale["width"]) - width) < 0.1


def test_a_playwave_session_heartbeating_past_its_ttl_shows_the_session_expired(http):
    """002: TTL 240 s; a client beating every 250 s loses its session in each gap."""
    http.post("/__mock/clock/freeze")
    seeded = http.post("/__mock/playwave/sessions", json={"provider_user_id": "123456789"})
    assert seeded.status_code == 201
    body = {"game_session_id": seeded.json()["game_session_id"], "provider_user_id": "123456789"}
    statuses = []
    for _ in range(3):
        r = http.patch("/v1/game/session/heartbeat", json=body, headers={"X-Api-Key": "k-1"})
        statuses.append(r)
        advance(http, 250)
    doc = html_report(http, api="playwave")
    effects = [g["data-effect"] for g in doc.having("gap")]
    assert effects == ["the session expired"] * 3  # two gaps, and the silence since
    assert [m["data-status"] for m in doc.having("mark")] == [str(r.status_code) for r in statuses]
    assert statuses[0].status_code == 200 and statuses[1].status_code != 200


def test_rate_limited_answers_are_marked_429(http):
    http.post("/__mock/clock/freeze")
    for _ in range(11):
        http.post(
            "/v2/general/servers/1/heartbeat",
            json={"playerCount": 3},
            headers={"Authorization": SONORAN_KEY},
        )
    doc = html_report(http, api="sonoran")
    classes = [m["class"] for m in doc.having("mark")]
    assert classes.count("mark s429") == 1 and classes.count("mark s2xx") == 10
    assert any("rate-limited once" in t for t in doc.text)


def test_a_faulted_heartbeat_is_outlined(http):
    """Coloured for the status the fault sent, with a dashed outline (`fault`)."""
    fault = {"api": "statusbadge", "operation": "statusbadge_heartbeat", "status": 429}
    assert http.post("/__mock/faults", json={**fault, "times": 1}).status_code == 201
    badge(http)
    badge(http)
    marks = html_report(http).having("mark")
    assert ["fault" in m["class"] for m in marks] == [True, False]
    assert marks[0]["data-status"] == "429"


def test_invalid_requests_are_listed_with_their_violations(http):
    http.post("/api/heartbeat", json={"token": TOKEN})
    doc = html_report(http)
    assert len(doc.having("invalid")) == 1
    assert any(t.startswith("data:") for t in doc.text)


def test_hostile_identities_and_bodies_are_escaped(http):
    token = "sk_live_<script>alert(1)</script>"
    badge(http, token=token)
    http.post("/api/heartbeat", json={"token": "<img src=x>", "data": "<b>"})
    doc = html_report(http)
    assert all(t not in ("script", "img", "b") for t, _ in doc.tags)


def test_past_the_cap_clients_are_counted_not_drawn(http):
    http.post("/__mock/clock/freeze")
    n = MAX_CLIENTS + 5
    for i in range(n):
        badge(http, token=f"sk_live_00000000-0000-4000-8000-{i:012d}")
    doc = html_report(http)
    assert len(doc.having("client")) == MAX_CLIENTS
    (more,) = doc.having("more")
    assert more is not None
    assert any(t.startswith("5 more clients not drawn") for t in doc.text)


def test_an_empty_journal_gives_a_document_too(http):
    doc = html_report(http)
    assert any("No requests yet." in t for t in doc.text)


def test_an_unknown_format_is_a_clear_400(http):
    r = http.get("/__mock/report", params={"format": "pdf"})
    assert r.status_code == 400
    assert r.json()["error"]["kind"] == "validation"


def test_one_of_a_thing_is_singular(http):
    badge(http)
    text = " ".join(html_report(http).text)
    assert "1 request: 1 valid" in text and "1 heartbeat," in text
    assert "1 requests" not in text and "1 heartbeats" not in text


# --- proxy mode (issue 19): the drift section and the proxied marks --------------------------


def drifted_report(make_server) -> tuple[Elements, list[dict]]:
    """The HTML report and statusbadge's journal after `drifted_traffic` through a mock that
    proxies statusbadge to a `Drifted` upstream."""
    with Drifted() as upstream:
        proxied = {"statusbadge": {"proxy": upstream.url, "proxy_timeout_seconds": 0.5}}
        server = make_server(api_settings=proxied)
        with httpx.Client(base_url=server.url, timeout=15) as px:
            drifted_traffic(px, upstream)
            doc = html_report(px)
            journal = px.get("/__mock/requests", params={"api": "statusbadge"}).json()
    return doc, journal["requests"]


def test_the_drift_section_groups_response_violations_and_tells_failures_apart(make_server):
    doc, journal = drifted_report(make_server)
    at = [e["at"] for e in journal]
    groups = {g["data-kind"]: g for g in doc.having("drift")}
    assert set(groups) == {"type", "status", "upstream_timeout", "upstream_dropped"}
    assert groups["type"]["data-answers"] == "2" and groups["status"]["data-answers"] == "1"
    assert all(g["data-operation"] == "statusbadge_heartbeat" for g in groups.values())
    failures = {g["data-kind"] for g in doc.having("upstream-failure")}
    assert failures == {"upstream_timeout", "upstream_dropped"}  # not the upstream's own 503
    text = "".join(doc.text)
    assert "#1 -> 200: publicId: 42 is not of type 'string'" in text  # one example reason
    assert "#5 -> 504: upstream: no answer within 0.5 s" in text
    # first and last on the mock clock: the two wrong types were 30 s apart
    assert f"{at[0]}{at[1]}#1 -> 200" in text


def test_proxied_heartbeats_are_marked_and_coloured_by_the_upstreams_status(make_server):
    doc, _ = drifted_report(make_server)
    marks = [m for m in doc.having("mark") if "proxied" in m["class"].split()]
    assert [m["data-status"] for m in marks] == [str(s) for _, s in DRIFTS]
    assert [m["data-upstream-status"] for m in marks] == ["200", "200", "418", "503", "", ""]
    own_5xx = marks[3]["class"].split()
    assert "s5xx" in own_5xx and "upstream-failed" not in own_5xx  # the upstream answered 503
    assert [m["data-status"] for m in doc.having("upstream-failed")] == ["504", "502"]
    assert len(doc.having("proxied-glyph")) == len(DRIFTS)
    assert len(doc.having("fail-cross")) == 2
    (sonoran,) = [m for m in doc.having("mark") if m not in marks]  # mocked here: no outline
    assert sonoran["class"] == "mark s2xx"


def test_a_clean_upstream_says_so_and_a_mocked_api_has_no_drift_section(make_server):
    upstream = make_server()
    server = make_server(api_settings={"statusbadge": {"proxy": upstream.url}})
    with httpx.Client(base_url=server.url, timeout=15) as px:
        assert px.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 200
        doc = html_report(px)
    assert len(doc.having("drift-none")) == 1 and doc.having("drift") == []
    with httpx.Client(base_url=upstream.url, timeout=15) as direct:
        doc = html_report(direct)  # the upstream mocks it: no proxy, no drift heading
    assert "Drift" not in "".join(doc.text) and doc.having("proxied") == []


def test_markup_in_a_drifted_answer_is_text_in_the_drift_section(make_server):
    with Drifted() as upstream:
        upstream.mode = "hostile"
        server = make_server(api_settings={"statusbadge": {"proxy": upstream.url}})
        with httpx.Client(base_url=server.url, timeout=15) as px:
            assert px.post("/api/heartbeat", json=seed_body("statusbadge")).status_code == 200
            doc = html_report(px)
    tags = {t for t, _ in doc.tags}
    assert "script" not in tags and "img" not in tags
    assert "type" in {g["data-kind"] for g in doc.having("drift")}, doc.having("drift")
    assert HOSTILE in "".join(doc.text)  # shown as the text it is
