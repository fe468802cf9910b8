"""The requests the engine differential sends (tests/e2e/test_engines_differential.py).

`fixed_cases()`: the research differential's hand-written cases (issue 16), valid and invalid,
for every native heartbeat and statusbadge's status and badge. `requests()`: a hypothesis
strategy of the same kinds of requests with generated bodies, credentials, paths, media types,
methods and query strings. Both include the reference engine's known defects (a case-variant
`Application/JSON`, `1e400`, a statusbadge token with a trailing newline, a query string on
collect and lucit), so whichever way they are fixed, both engines change together.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from hypothesis import strategies as st

TOKEN = "sk_live_550e8400-e29b-41d4-a716-446655440000"
PUBLIC_ID = "srv_pub_a3a9e1ed9732"  # 004: derived from TOKEN
APP_ID = "LCUID-LAP-5c43c6e0-e03d-45ff-92b1-1bd05122dcb3"
SYSTEM = "4cf3053f-d0d5-4b10-b752-ff8f7b63c2f7"
SB_DATA = {
    "status": "online",
    "players": 15,
    "maxPlayers": 100,
    "tps": 19.8,
    "software": "PocketMine-MP",
    "version": "5.0.0",
    "heartbeatIntervalSec": 30,
}
JSON = ((b"content-type", b"application/json"),)
INF = "\u0000INF"  # a body value written as the number 1e400


@dataclass(frozen=True)
class Req:
    label: str
    method: str
    path: str
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""
    query: bytes = b""
    chunked: bool = False


def dump(obj) -> bytes:
    return json.dumps(obj).encode().replace(json.dumps(INF).encode(), b"1e400")


def basic(user: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode("latin-1"))


def h(*pairs) -> tuple:
    return tuple((k.lower().encode() if isinstance(k, str) else k, v) for k, v in pairs)


# --- what each API's heartbeat needs ----------------------------------------------------------
@dataclass(frozen=True)
class Api:
    name: str
    method: str
    path: str
    auth: tuple  # headers of a valid request
    body: dict


APIS = {
    "statusbadge": Api(
        "statusbadge", "POST", "/api/heartbeat", (), {"token": TOKEN, "data": SB_DATA}
    ),
    "sonoran": Api(
        "sonoran",
        "POST",
        "/v2/general/servers/1/heartbeat",
        h((b"authorization", b"Bearer k")),
        {"playerCount": 42},
    ),
    "collect": Api(
        "collect",
        "POST",
        "/api/systems/heartbeat",
        h((b"authorization", basic("user", "pw"))),
        {"system_id": SYSTEM},
    ),
    "lucit": Api(
        "lucit",
        "POST",
        "/api/v3/analytics/lightning-devices/LCUID-LD-1/heartbeat",
        h((b"authorization", b"Bearer t"), (b"appidv3", APP_ID.encode())),
        {"lightning_version": "1.0", "device_info": ["a", "b"]},
    ),
    "playwave": Api(
        "playwave",
        "PATCH",
        "/v1/game/session/heartbeat",
        h((b"x-api-key", b"k1")),
        {"game_session_id": "gs_live", "provider_user_id": "u1"},
    ),
}

CONTENT_TYPES = [
    None,
    b"application/json",
    b"application/json; charset=utf-8",
    b"application/json;charset=UTF-8",
    b"application/json; charset=latin-1",
    b"Application/JSON",
    b"APPLICATION/JSON; charset=utf-8",
    b"application/json ",
    b"application/json ; charset=utf-8",
    b"text/plain",
    b"text/json",
    b"application/vnd.api+json",
    b"application/x-www-form-urlencoded",
]
RAW_BODIES = [
    b"",
    b" ",
    b"null",
    b"[]",
    b"123",
    b'"s"',
    b"{",
    b"{}",
    b'{"a":1,"a":2}',
    b'{"x": NaN}',
    b"[" * 70 + b"]" * 70,
    b"\xff\xfe{}",
]
AUTH_VARIANTS = {
    "bearer": [
        (),
        h((b"authorization", b"bearer k")),
        h((b"authorization", b"BEARER k")),
        h((b"authorization", b"Bearer  k")),
        h((b"authorization", b"Bearer\tk")),
        h((b"authorization", b"Bearer")),
        h((b"authorization", b"Bearer ")),
        h((b"authorization", b"Bearer k k")),
        h((b"authorization", b"Bearer abc==")),
        h((b"authorization", basic("a", "b"))),
        h((b"authorization", b"Bearer k"), (b"authorization", b"Bearer j")),
        h((b"authorization", b"Bearer \xe9")),
        h((b"authorization", b"Bearer k ")),
    ],
    "basic": [
        (),
        h((b"authorization", b"Bearer x")),
        h((b"authorization", b"basic " + basic("u", "p")[6:])),
        h((b"authorization", b"Basic !!!!")),
        h((b"authorization", b"Basic dX*Nl*cjpwdw==")),
        h((b"authorization", b"Basic " + base64.b64encode(b"user"))),
        h((b"authorization", basic("", "pw"))),
        h((b"authorization", basic("u", ""))),
        h((b"authorization", basic("u", "a:b"))),
        h((b"authorization", basic("\xe9", "\xfc"))),
        h((b"authorization", basic("evil", "pw"))),
        h((b"authorization", basic("alice", "secret"))),
        h((b"authorization", basic("alice", "nope"))),
    ],
    "apikey": [
        (),
        h((b"x-api-key", b"")),
        h((b"x-api-key", b"k1"), (b"x-api-key", b"k2")),
        h((b"x-api-key", b"gamekey")),
        h((b"x-api-key", b"pinned-key")),
    ],
}
AUTH_KIND = {"sonoran": "bearer", "lucit": "bearer", "collect": "basic", "playwave": "apikey"}
PATHS = {
    "sonoran": [
        f"/v2/general/servers/{s}/heartbeat"
        for s in ["+5", "007", "0", "-1", "2147483647", "2147483648", "9" * 20, "9" * 4301]
        + ["abc", "1.5", " 1", "1\n"]
    ],
    "lucit": [
        f"/api/v3/analytics/lightning-devices/{d}/heartbeat"
        for d in ["x/y", "a b", "LCUID-LD-2", "é", "LCUID-LD-Q", "%2F"]
    ],
    "statusbadge": [
        f"/api/status/{PUBLIC_ID}",
        f"/api/badge/{PUBLIC_ID}",
        "/api/status/srv_pub_000000000000",
        "/api/badge/nope",
        "/api/heartbeat\n",
    ],
}
ODD_STRINGS = ["", " ", "\u001c", "\u0085", "\u2003", "\ufeff", "x\n", "\ud800", "x" * 300]
ODD_VALUES = [None, True, 0, -1, 1.0, 42.5, 10000, 10001, 2**31, 10**30, 1e308, [], {}, INF]
ODD_VALUES += ODD_STRINGS
ODD_VALUES += [TOKEN + "\n", TOKEN.replace("-4", "-5"), "gs_unknown", "gs_ended", "gs_keyed"]
ODD_VALUES += ["gs_ending", "gs_exhaust", "u3", "u4", "not-pinned", "someone-else"]


# --- the research cases -------------------------------------------------------------------------
def _body_variants(api: Api, path: str, auth: tuple) -> list[Req]:
    """What every body operation gets: media types, framing and malformed bodies."""
    m, v = api.method, dump(api.body)
    out = [Req("valid", m, path, auth + JSON, v), Req("valid again", m, path, auth + JSON, v)]
    for ct in CONTENT_TYPES:
        out.append(
            Req(f"ct {ct!r}", m, path, auth + (() if ct is None else h((b"content-type", ct))), v)
        )
    out += [
        Req(
            "form",
            m,
            path,
            auth + h((b"content-type", b"application/x-www-form-urlencoded")),
            b"a=1",
        ),
        Req("two content-types", m, path, auth + JSON + h((b"content-type", b"text/plain")), v),
        Req("chunked", m, path, auth + JSON, v, chunked=True),
        Req("BOM", m, path, auth + JSON, b"\xef\xbb\xbf" + v),
        Req("trailing newline", m, path, auth + JSON, v + b"\n"),
        Req("leading space", m, path, auth + JSON, b" " + v),
        Req("duplicate top keys", m, path, auth + JSON, v[:-1] + b"," + v[1:-1] + b"}"),
        Req("extra field", m, path, auth + JSON, dump({**api.body, "zzz": [1, {"b": None}]})),
        Req("query string", m, path, auth + JSON, v, query=b"foo=1&bar"),
        Req("GET instead", "GET", path, auth),
        Req("HEAD instead", "HEAD", path, auth),
        Req("DELETE instead", "DELETE", path, auth + JSON, v),
        Req("trailing slash", m, path + "/", auth + JSON, v),
        Req("double slash", m, path.replace("/", "//", 1), auth + JSON, v),
    ]
    out += [Req(f"body {raw[:12]!r}", m, path, auth + JSON, raw) for raw in RAW_BODIES]
    return out


def _field_variants(api: Api, auth: tuple) -> list[Req]:
    out = []
    for key in api.body:
        for value in [..., *ODD_VALUES]:
            body = {k: v for k, v in api.body.items() if k != key or value is not ...}
            if value is not ...:
                body[key] = value
            out.append(Req(f"{key}={value!r:.30}", api.method, api.path, auth + JSON, dump(body)))
    return out


def fixed_cases(name: str) -> list[Req]:
    api = APIS[name]
    out = _body_variants(api, api.path, api.auth) + _field_variants(api, api.auth)
    kind = AUTH_KIND.get(name)
    extra = h((b"appidv3", APP_ID.encode())) if name == "lucit" else ()
    for auth in AUTH_VARIANTS.get(kind, []):
        out.append(
            Req(f"auth {auth!r:.40}", api.method, api.path, auth + extra + JSON, dump(api.body))
        )
    for path in PATHS.get(name, []):
        method = "GET" if name == "statusbadge" and "heartbeat" not in path else api.method
        out.append(Req(f"path {path!r}", method, path, api.auth + JSON, dump(api.body)))
    if name == "lucit":
        bearer = h((b"authorization", b"Bearer t"))
        for app_id in [
            b"LCUID-LAP-x",
            APP_ID.encode() + b"\n",
            b"LCUID-LAP-" + b"0" * 8 + b"-0000",
        ]:
            out.append(
                Req(
                    f"app {app_id!r}",
                    "POST",
                    api.path,
                    bearer + h((b"appidv3", app_id)) + JSON,
                    dump(api.body),
                )
            )
        out.append(
            Req(
                "two AppIdV3",
                "POST",
                api.path,
                api.auth + h((b"appidv3", b"x")) + JSON,
                dump(api.body),
            )
        )
        out.append(Req("no AppIdV3", "POST", api.path, bearer + JSON, dump(api.body)))
    if name == "sonoran":  # the 11th in a minute gets 429 with Retry-After (raised by the handler)
        out += [
            Req(
                f"rate {i}",
                "POST",
                api.path,
                h((b"authorization", b"Bearer rl")) + JSON,
                dump(api.body),
            )
            for i in range(11)
        ]
    if name == "statusbadge":
        out.append(Req("preflight", "OPTIONS", api.path))
    return out


# --- generated requests ---------------------------------------------------------------------------
_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(ODD_VALUES),
)
JSON_VALUES = st.recursive(
    _LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
LATIN1 = st.text(
    st.characters(min_codepoint=9, max_codepoint=255, blacklist_characters="\r\n"), max_size=12
)


def _other(value, *others):
    """One of `others`, or rarely `value` itself (an aspect chosen to vary)."""
    return st.sampled_from([*others, value])


@st.composite
def _body(draw, api: Api) -> bytes:
    body = json.loads(json.dumps(api.body))
    mode = draw(
        st.sampled_from(["valid", "valid", "valid", "drop", "set", "set", "nested", "extra", "raw"])
    )
    keys = sorted(body)
    if mode == "raw":
        return draw(
            st.sampled_from(RAW_BODIES + [b"\xef\xbb\xbf" + dump(body), dump(body) + b"\n"])
        )
    if mode == "drop":
        body.pop(draw(st.sampled_from(keys)))
    elif mode == "set":
        body[draw(st.sampled_from(keys))] = draw(JSON_VALUES)
    elif mode == "nested":
        inner = next((v for v in body.values() if isinstance(v, dict)), None)
        if inner is not None:
            key = draw(st.sampled_from(sorted(inner)))
            if draw(st.booleans()):
                inner[key] = draw(JSON_VALUES)
            else:
                inner.pop(key)
        elif api.name == "statusbadge":
            body["token"] = f"sk_live_{draw(st.uuids(version=4))}"
    elif mode == "extra":
        body[draw(st.text(max_size=6))] = draw(JSON_VALUES)
    return dump(body)


@st.composite
def _headers(draw, api: Api) -> tuple:
    kind = AUTH_KIND.get(api.name)
    generated = ()
    if kind in ("bearer", "apikey"):
        name = b"authorization" if kind == "bearer" else b"x-api-key"
        prefix = b"Bearer " if kind == "bearer" else b""
        generated = (h((name, prefix + draw(LATIN1).encode("latin-1"))),)
    auth = draw(_other(api.auth, *AUTH_VARIANTS.get(kind, []), *generated))
    if api.name == "lucit":
        auth = tuple(p for p in auth if p[0] != b"appidv3")
        app_id = draw(_other(APP_ID.encode(), b"LCUID-LAP-x", APP_ID.encode() + b"\n", b""))
        auth += h((b"appidv3", app_id)) if app_id else ()
    return auth


@st.composite
def _content_type(draw) -> tuple:
    ct = draw(_other(b"application/json", *CONTENT_TYPES))
    headers = () if ct is None else h((b"content-type", ct))
    if draw(st.integers(0, 4)) == 0:
        headers += h((b"content-type", b"text/plain"))
    return headers


@st.composite
def _path(draw, api: Api) -> str:
    if api.name == "sonoran":
        server = draw(
            st.one_of(st.integers(-3, 2**31 + 3).map(str), st.sampled_from(["+5", "007", "abc"]))
        )
        return f"/v2/general/servers/{server}/heartbeat"
    if api.name == "lucit":
        device = draw(st.text(st.characters(blacklist_characters="/"), min_size=1, max_size=8))
        return f"/api/v3/analytics/lightning-devices/{device}/heartbeat"
    return draw(st.sampled_from([api.path + "/", api.path + "\n", api.path.upper()]))


ASPECTS = ("method", "path", "auth", "content-type", "body", "query", "chunked")


@st.composite
def _request(draw, api: Api) -> Req:
    """The API's valid heartbeat with up to three aspects varied (none is the simplest
    example, so a good share of what is generated is valid and reaches the compiled path)."""
    vary = draw(st.sets(st.sampled_from(ASPECTS), max_size=3))
    methods = ("GET", "HEAD", "PUT", "DELETE", "PATCH", "POST", "OPTIONS")
    body = api.body
    if api.name == "statusbadge" and draw(st.booleans()):  # another server
        body = {**body, "token": f"sk_live_{draw(st.uuids(version=4))}"}
    return Req(
        f"generated {api.name} {sorted(vary)}",
        draw(_other(api.method, *methods)) if "method" in vary else api.method,
        draw(_path(api)) if "path" in vary else api.path,
        (draw(_headers(api)) if "auth" in vary else api.auth)
        + (draw(_content_type()) if "content-type" in vary else JSON),
        draw(_body(api)) if "body" in vary else dump(body),
        draw(_other(b"", b"foo=1&bar", b"a=%ff", b"token=x")) if "query" in vary else b"",
        "chunked" in vary,
    )


def _status_request() -> st.SearchStrategy[Req]:
    ids = st.one_of(st.sampled_from([PUBLIC_ID, "srv_pub_000000000000", "x"]), st.text(max_size=6))
    return st.builds(
        lambda kind, pid, method: Req(f"{kind} {pid!r}", method, f"/api/{kind}/{pid}"),
        st.sampled_from(["status", "badge"]),
        ids.filter(lambda s: s and "/" not in s),
        _other("GET", "GET", "GET", "HEAD", "POST", "OPTIONS"),
    )


def requests() -> st.SearchStrategy[Req]:
    """One generated request, for any native operation."""
    return st.one_of(*[_request(api) for api in APIS.values()], _status_request())
