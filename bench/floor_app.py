"""Bare ASGI floor for the statusbadge heartbeat: the same JSON work as the mock, no framework.

Issue 12 compares the mock with "a bare ASGI app doing the same JSON work". This app parses the
body, checks the token shape, derives the public id and answers the documented success JSON
(seed 004: token is ``sk_live_`` + a UUID v4; public id is ``srv_pub_`` + the first 12 hex of
SHA-256 of the UUID). It validates nothing else, stores nothing and journals nothing, so it is
the ceiling a framework-based mock can approach, not a competitor.

Run: ``python -m uvicorn --app-dir bench floor_app:app --host 127.0.0.1 --port P``.
"""

from __future__ import annotations

import hashlib
import json
import re

__all__ = ["app"]

_TOKEN = re.compile(
    r"sk_live_([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12})"
)
_JSON_HEADERS = [(b"content-type", b"application/json")]


async def _answer(send, status: int, document: dict) -> None:
    body = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    if scope["path"] != "/api/heartbeat" or scope["method"] != "POST":
        await _answer(send, 404, {"error": "Not Found"})
        return

    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)

    try:
        document = json.loads(b"".join(chunks))
    except ValueError:
        await _answer(send, 400, {"error": "Bad Request", "message": "Body is not valid JSON"})
        return
    if not isinstance(document, dict) or "token" not in document or "data" not in document:
        await _answer(send, 400, {"error": "Missing required fields: token and data"})
        return
    token = document["token"]
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        await _answer(send, 400, {"error": "Invalid token format"})
        return

    public_id = "srv_pub_" + hashlib.sha256(match.group(1).encode()).hexdigest()[:12]
    await _answer(
        send,
        200,
        {"success": True, "publicId": public_id, "message": "Heartbeat recorded successfully"},
    )
