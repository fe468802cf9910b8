"""A Roblox-style game server written from 002's Luau example, run against the mock over HTTP.

`GameServer.send_heartbeat` is the document's `sendHeartbeat`: PATCH with X-Api-Key and a JSON
body; a request that fails is NETWORK_ERROR; 404 or 410 is SESSION_LOST; otherwise `body.data`.
`keep_alive` is the loop the result table's Action column describes: OK, send the next heartbeat
after `next_heartbeat_in`; CHARGE_EXHAUSTED, notify the user and carry on (the server ends the
session after the grace, which shows up as a 410); SESSION_REPLACED, stop and do not call session
end; SESSION_LOST, stop and kick the user. Waiting is moving the mock clock, never sleeping.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest

pytestmark = pytest.mark.e2e

USER = "123456789"
API_KEY = "roblox-game-key"
DEFAULT_WAIT = 120  # 002: "Must be called every 2 minutes (120 seconds)"


@dataclass
class GameServer:
    api_url: str  # the documented API_URL, ending in /v1
    wait: Callable[[float], None]
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))
    elapsed: float = 0
    results: list[tuple[float, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    kicked: bool = False

    def send_heartbeat(self, game_session_id: str, provider_user_id: str):
        try:
            response = self.http.request(
                "PATCH",
                self.api_url + "/game/session/heartbeat",
                headers={"X-Api-Key": API_KEY, "Content-Type": "application/json"},
                content=json.dumps(
                    {"game_session_id": game_session_id, "provider_user_id": provider_user_id}
                ),
            )
        except httpx.TransportError:
            return None, "NETWORK_ERROR"
        if response.status_code in (404, 410):
            return None, "SESSION_LOST"
        return response.json().get("data"), None

    def keep_alive(
        self,
        game_session_id: str,
        *,
        until: float = float("inf"),
        before_beat: Callable[[float], None] | None = None,
    ) -> str:
        """Heartbeat until the session is lost or replaced (or `until` seconds have passed)."""
        while True:
            if before_beat is not None:
                before_beat(self.elapsed)
            data, err = self.send_heartbeat(game_session_id, USER)
            if err == "SESSION_LOST":
                self.kicked = True
                return "lost"
            delay = DEFAULT_WAIT
            if data is not None:
                self.results.append((self.elapsed, data["result"]))
                if data["result"] == "SESSION_REPLACED":
                    return "replaced"
                if data["result"] == "CHARGE_EXHAUSTED":
                    self.notices.append("Your G-coin ran out: the session ends in 2 minutes")
                delay = data["next_heartbeat_in"]
            if self.elapsed + delay > until:
                return "running"
            self.wait(delay)
            self.elapsed += delay


@pytest.fixture
def mock(http):
    http.post("/__mock/clock/freeze").raise_for_status()
    return http


@contextmanager
def game_server(mock: httpx.Client):
    def wait(seconds: float) -> None:
        mock.post("/__mock/clock/advance", json={"seconds": seconds}).raise_for_status()

    server = GameServer(api_url=str(mock.base_url).rstrip("/") + "/v1", wait=wait)
    try:
        yield server
    finally:
        server.http.close()


@pytest.fixture
def game(mock):
    with game_server(mock) as server:
        yield server


def new_session(mock: httpx.Client, **fields) -> str:
    r = mock.post("/__mock/playwave/sessions", json={"provider_user_id": USER, **fields})
    r.raise_for_status()
    return r.json()["game_session_id"]


def journal(mock: httpx.Client) -> list[dict]:
    return mock.get("/__mock/requests", params={"api": "playwave"}).json()["requests"]


def test_client_keeps_a_session_alive_for_an_hour(mock, game):
    sid = new_session(mock, pc_id="pc-12")
    assert game.keep_alive(sid, until=3600) == "running"
    assert game.results == [(t, "OK") for t in range(0, 3601, 120)]
    session = mock.get(f"/__mock/playwave/sessions/{sid}").json()
    assert (session["status"], session["heartbeats"], session["play_duration_sec"]) == (
        "active",
        31,
        3600,
    )
    entries = journal(mock)
    assert all(e["valid"] and e["status"] == 200 for e in entries)
    assert {e["identity"] for e in entries} == {sid}


def test_client_stops_when_the_session_is_replaced(mock, game):
    sid = new_session(mock, pc_id="pc-12")
    replacement = []

    def another_game_starts(elapsed):
        if elapsed == 1800:
            replacement.append(new_session(mock, pc_id="pc-12"))

    assert game.keep_alive(sid, before_beat=another_game_starts) == "replaced"
    assert game.results[-1] == (1800, "SESSION_REPLACED")
    assert not game.kicked
    assert len(journal(mock)) == 16  # no heartbeat after SESSION_REPLACED, no session end
    assert {e["operation"] for e in journal(mock)} == {"playwave_heartbeat"}
    assert game.send_heartbeat(replacement[0], USER)[0]["result"] == "OK"


def test_client_stops_when_the_charge_is_exhausted_after_the_grace(mock, game):
    sid = new_session(mock)

    def gcoin_runs_out(elapsed):
        if elapsed == 600:
            mock.post(f"/__mock/playwave/sessions/{sid}/exhaust").raise_for_status()

    assert game.keep_alive(sid, before_beat=gcoin_runs_out) == "lost"
    assert game.results[-3:] == [(480, "OK"), (600, "CHARGE_EXHAUSTED"), (720, "CHARGE_EXHAUSTED")]
    assert len(game.notices) == 2
    assert game.kicked and game.elapsed == 840
    assert journal(mock)[-1]["response"]["body"]["error"]["code"] == "SESSION_ENDED"


def test_client_stops_when_a_balance_runs_out(mock, game):
    sid = new_session(mock, balance_sec=1000)
    assert game.keep_alive(sid) == "lost"
    assert [r for _, r in game.results].count("CHARGE_EXHAUSTED") == 1  # at 1080 s; ended at 1120 s
    assert game.elapsed == 1200


def test_client_stops_when_the_session_is_ending(mock, game):
    sid = new_session(mock)

    def session_ends(elapsed):
        if elapsed == 1200:
            mock.post(f"/__mock/playwave/sessions/{sid}/end").raise_for_status()

    assert game.keep_alive(sid, before_beat=session_ends) == "lost"
    assert game.kicked and game.elapsed == 1200
    assert journal(mock)[-1]["response"]["body"]["error"]["code"] == "SESSION_ENDING"


def test_client_stops_when_the_launcher_dies(mock, game):
    sid = new_session(mock, pc_id="pc-12")

    def launcher_crashes(elapsed):
        if elapsed == 1200:
            mock.post("/__mock/playwave/launchers/pc-12/stop").raise_for_status()

    assert game.keep_alive(sid, before_beat=launcher_crashes) == "lost"
    assert game.results[-3:] == [(1200, "OK"), (1320, "OK"), (1440, "OK")]  # silent 240 s
    assert game.elapsed == 1560
    assert journal(mock)[-1]["response"]["body"]["error"]["code"] == "SESSION_ENDED"


def test_client_rides_out_a_dropped_connection(mock, game):
    sid = new_session(mock)
    mock.post("/__mock/faults", json={"api": "playwave", "drop": True, "times": 1})
    assert game.keep_alive(sid, until=600) == "running"
    assert game.results == [(t, "OK") for t in range(120, 601, 120)]


def test_client_obeys_next_heartbeat_in(make_server):
    server = make_server(api_settings={"playwave": {"next_heartbeat_in": 60}})
    with httpx.Client(base_url=server.url, timeout=10) as mock:
        mock.post("/__mock/clock/freeze")
        sid = new_session(mock)
        with game_server(mock) as game:
            assert game.keep_alive(sid, until=600) == "running"
        assert [t for t, _ in game.results] == list(range(0, 601, 60))


def test_client_that_ignores_next_heartbeat_in_loses_the_session(mock, game):
    sid = new_session(mock)
    game.wait = lambda seconds: mock.post("/__mock/clock/advance", json={"seconds": 241})
    assert game.keep_alive(sid) == "lost"
    assert game.kicked
    assert journal(mock)[-1]["response"]["body"]["error"]["code"] == "SESSION_NOT_FOUND"
