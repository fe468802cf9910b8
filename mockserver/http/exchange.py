"""What the gate (mockserver.http.gate) keeps of one request, and the ASGI pieces it answers
with: the body replayed to an engine, an answer held back until the journal has the request, a
dropped connection."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

__all__ = ["Exchange", "HeldSend", "drop_connection", "replay_body"]


@dataclass
class Exchange:
    """One request as the gate handles it: what came in, the journal entry, what went out."""

    scope: dict
    entry: dict
    state: dict
    now: float
    path_params: dict
    raw: bytes = b""
    parsed: Any = None
    identity: str | None = None
    status: int = 0
    body: bytes = b""


def replay_body(raw: bytes):
    """A `receive` that gives the body read whole, once (connexion only asks once)."""
    sent = False

    async def replay():
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # nothing more will come
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return replay


class HeldSend:
    """An ASGI `send` that holds back the end of the answer until `release()`: the final body
    message, and the start too while no body has gone out (an answer without a body, such as a
    204 preflight, is complete for the client as soon as its start is sent)."""

    def __init__(self, send) -> None:
        self._send = send
        self._held: list[dict] = []

    async def __call__(self, message) -> None:
        if message["type"] == "http.response.start":
            self._held.append(message)
            return
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self._held.append(message)
            return
        await self.release()  # a streamed body: the start goes first
        await self._send(message)

    async def release(self) -> None:
        held, self._held = self._held, []
        for message in held:
            await self._send(message)


def drop_connection(send) -> None:
    """Close the client's connection without an answer (a `drop` fault). Uvicorn's protocol
    objects expose their transport; anywhere else the response is simply never sent."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None:
        transport.close()
        return
    raise ConnectionAbortedError("fault: connection dropped")
