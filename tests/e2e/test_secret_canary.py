"""The secret canary (issue 23, item 8): credentials never show past their prefix, anywhere.

Unique secrets are planted in every place a credential can travel: each API's auth header (well
formed and malformed, in any letter case), `token` fields in valid, invalid, oversized,
malformed, form-encoded, array- and object-shaped bodies, query parameters, and X-Mock-Token on
a native API. Then every surface the mock shows is scanned: the journal, the report as JSON and
text, every per-API view under /__mock/<api>/, the docs pages, the answers themselves, and the
server's logs at debug level. A secret leaks when any 10 characters of it past the documented
6-character prefix (mockserver.core.redaction.KEEP) appear anywhere.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import uuid

import httpx
import pytest

from mockserver.client import MockClient
from mockserver.core.redaction import KEEP
from mockserver.spec.loader import parsed_spec

WINDOW = 10
DATA = {"status": "online", "players": 1, "maxPlayers": 2, "tps": 20, "version": "1"}
LUCIT = "/api/v3/analytics/lightning-devices/LCUID-LD-canary/heartbeat"
SONORAN = "/v2/general/servers/1/heartbeat"
COLLECT = "/api/systems/heartbeat"
PLAYWAVE = "/v1/game/session/heartbeat"


def unique(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex + uuid.uuid4().hex[:8]


def token() -> str:
    return f"sk_live_{uuid.uuid4()}"


def app_id() -> str:
    return f"LCUID-LAP-{uuid.uuid4()}"


class Planter:
    """Sends each planted request and remembers its secrets and the answers it got."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.secrets: dict[str, str] = {}
        self.answers: list[str] = []

    def secret(self, where: str, value: str) -> str:
        self.secrets[where] = value
        return value

    def send(self, method: str, path: str, **kwargs) -> httpx.Response:
        r = self.client.request(method, path, **kwargs)
        self.answers.append(f"{r.status_code} {dict(r.headers)} {r.text}")
        return r


def plant(p: Planter) -> None:
    """One request per way a credential travels (about 30 requests, all five APIs)."""
    s = p.secret
    # statusbadge: the token travels in the body.
    p.send("POST", "/api/heartbeat", json={"token": s("token valid", token()), "data": DATA})
    bad = s("token malformed", "sk_live_" + unique())
    p.send("POST", "/api/heartbeat", json={"token": bad, "data": DATA})
    p.send("POST", "/api/heartbeat", json={"token": s("token missing data", token())})
    p.send("POST", "/api/heartbeat", json={"token": [s("token in array", token())], "data": DATA})
    p.send("POST", "/api/heartbeat", json={"token": {"v": s("token in object", token())}})
    p.send("POST", "/api/heartbeat", json={"token": int(s("token number", "9" * 40))})
    # (invalid, so not stored: a valid heartbeat's data is the server's status, shown as sent)
    nested = {"token": token(), "data": {"extra": [{"token": s("nested", unique())}]}}
    p.send("POST", "/api/heartbeat", json=nested)
    oversized = {"token": s("token oversized", token()), "data": DATA, "pad": "x" * 6000}
    p.send("POST", "/api/heartbeat", json=oversized)
    tail = {"data": DATA, "pad": "x" * 4060, "token": s("token cut by the cap", token())}
    p.send("POST", "/api/heartbeat", json=tail)
    malformed = '{"token": "' + s("token malformed json", token()) + '", "data": '

    p.send(
        "POST", "/api/heartbeat", content=malformed, headers={"content-type": "application/json"}
    )
    form = f"token={s('token form', token())}&data=x"
    p.send(
        "POST",
        "/api/heartbeat",
        content=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    p.send("POST", "/api/heartbeat", content=form)
    text = f"token: {s('token text', token())}"
    p.send("POST", "/api/heartbeat", content=text, headers={"content-type": "text/plain"})
    # Query parameters.
    p.send(
        "POST",
        f"/api/heartbeat?api_key={s('query api_key', unique())}",
        json={"token": token(), "data": DATA},
    )
    p.send("GET", f"/api/status/srv_pub_000000000000?token={s('query token', unique())}")
    p.send(
        "GET", f"/api/badge/srv_pub_000000000000?Access_Token={s('query access_token', unique())}"
    )
    # sonoran: Bearer, well formed, malformed, upper-case header name, token in the body.
    auth = lambda secret: {"Authorization": f"Bearer {secret}"}  # noqa: E731
    p.send("POST", SONORAN, json={"playerCount": 1}, headers=auth(s("sonoran key", unique("k"))))
    p.send(
        "POST",
        SONORAN,
        json={"playerCount": 1},
        headers=auth(s("sonoran key spaced", unique()) + " x"),
    )
    p.send(
        "POST",
        SONORAN,
        json={"playerCount": "x"},
        headers={"AUTHORIZATION": f"Bearer {s('sonoran upper', unique())}"},
    )
    p.send(
        "POST",
        SONORAN,
        json={"playerCount": 1, "token": s("sonoran body token", unique())},
        headers=auth(unique()),
    )
    p.send(
        "POST",
        SONORAN,
        json={"playerCount": 1},
        headers={**auth(unique()), "X-Mock-Token": s("x-mock-token", unique())},
    )
    # collect: Basic, well formed and not base64.
    password = s("collect password", unique())
    basic = base64.b64encode(f"agent:{password}".encode()).decode()
    p.send(
        "POST",
        COLLECT,
        json={"system_id": "sys-1"},
        headers={"Authorization": f"Basic {s('collect basic', basic)}"},
    )
    p.send(
        "POST",
        COLLECT,
        json={"system_id": "sys-1"},
        headers={"Authorization": f"Basic {s('collect not base64', unique())}!"},
    )
    p.send(
        "POST",
        COLLECT,
        json={"system_id": ["sys"], "token": [s("collect token array", unique())]},
        auth=("u", "p"),
    )
    # playwave: X-Api-Key.
    sid = {"game_session_id": "gs_canary", "provider_user_id": "1"}
    p.send("PATCH", PLAYWAVE, json=sid, headers={"X-Api-Key": s("playwave key", unique())})
    p.send(
        "PATCH",
        PLAYWAVE,
        json={"provider_user_id": 1},
        headers={"x-api-key": s("playwave key invalid body", unique())},
    )
    # lucit: Bearer + AppIdV3, well formed and malformed.
    headers = {
        "Authorization": f"Bearer {s('lucit token', unique())}",
        "AppIdV3": s("lucit app id", app_id()),
    }
    p.send("POST", LUCIT, json={"lightning_version": "1.0"}, headers=headers)
    headers = {
        "Authorization": f"Bearer {s('lucit token 2', unique())}",
        "AppIdV3": s("lucit app id malformed", "LCUID-LAP-" + unique()),
    }
    p.send("POST", LUCIT, json={"lightning_version": "1.0"}, headers=headers)
    headers = {"Authorization": f"Bearer {unique()}", "appidv3": app_id()}
    body = {"lightning_version": ["1"], "token": [s("lucit token in body", unique())]}
    p.send("POST", LUCIT, json=body, headers=headers)


def views(base: str, client: httpx.Client) -> dict[str, str]:
    """Every GET route of every API's control spec, with its path parameters filled from the
    list views (so per-record views are read too)."""
    out: dict[str, str] = {}
    health = client.get("/__mock/health").json()
    for api in health["apis"]:
        try:
            spec = parsed_spec(f"control/{api}.yaml")
        except FileNotFoundError:
            continue
        listed = ""
        for path, item in spec["paths"].items():
            if "get" in item and "{" not in path:
                r = client.get(f"/__mock/{api}{path}")
                out[f"/__mock/{api}{path}"] = r.text
                listed += r.text
        for path, item in spec["paths"].items():
            if "get" in item and "{" in path:
                ids = set(re.findall(r'"((?:srv_pub_|LCUID-LD|gs_|sys)[^"]*|pc-[^"]*)"', listed))
                for value in sorted(ids)[:5]:
                    filled = re.sub(r"\{[^}]+\}", value, path)
                    out[f"/__mock/{api}{filled}"] = client.get(f"/__mock/{api}{filled}").text
    return out


def docs(client: httpx.Client) -> dict[str, str]:
    out = {"/__mock/docs/": client.get("/__mock/docs/").text}
    for href in sorted(set(re.findall(r'href="([^"#?]+\.(?:html|json))"', out["/__mock/docs/"]))):
        if "://" not in href:
            out[href] = client.get("/__mock/docs/" + href.lstrip("./")).text
    return out


def surfaces(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30) as client, MockClient(base) as mock:
        out = {
            "journal (MockClient)": json.dumps(mock.requests()),
            "journal (GET)": client.get("/__mock/requests").text,
            "report": client.get("/__mock/report").text,
            "report text": client.get("/__mock/report", params={"format": "text"}).text,
            "dashboard": client.get("/__mock/").text,
        }
        out.update(views(base, client))
        out.update(docs(client))
    return out


def leaks(secrets: dict[str, str], texts: dict[str, str]) -> list[str]:
    found = []
    for where, secret in secrets.items():
        rest = secret[KEEP:]
        windows = {rest[i : i + WINDOW] for i in range(max(1, len(rest) - WINDOW + 1))}
        for surface, text in texts.items():
            hit = next((w for w in windows if w in text), None)
            if hit is not None:
                at = text.index(hit)
                found.append(f"{where} in {surface}: ...{text[max(0, at - 60) : at + 40]}...")
    return found


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.stream = io.StringIO()
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("httpx", "httpcore")):
            return  # the test's own client, not the server
        self.stream.write(self.format(record) + "\n")


@pytest.fixture
def server_logs():
    """Every log record the server writes, at debug level, from every logger."""
    handler = _Capture()
    loggers = [
        logging.getLogger(),
        logging.getLogger("uvicorn"),
        logging.getLogger("uvicorn.access"),
    ]
    levels = [lg.level for lg in loggers]
    yield handler, loggers
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_no_planted_secret_shows_past_its_prefix_anywhere(make_server, server_logs):
    handler, loggers = server_logs
    server = make_server(log_level="debug", journal_body_cap=4096)
    for lg in loggers:  # after uvicorn configured its loggers
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        planter = Planter(client)
        plant(planter)
    texts = surfaces(server.url)
    texts["answers"] = "\n".join(planter.answers)
    texts["logs"] = handler.stream.getvalue()

    found = leaks(planter.secrets, texts)
    assert found == [], "\n".join(found)
    # The scan saw what it was meant to: every planted request, by its masked prefix.
    journal = json.loads(texts["journal (MockClient)"])
    assert len(journal) == len(planter.answers)
    assert "sk_liv***" in texts["journal (GET)"] and "invalid #" in texts["report text"]
    assert "DEBUG" in texts["logs"]
