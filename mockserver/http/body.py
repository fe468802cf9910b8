"""Reading a request body once, bounded, before anything parses it (the native gate and the
control API share this, so a huge body costs at most `limit` bytes of memory anywhere)."""

from __future__ import annotations

__all__ = ["read_whole_body"]


async def read_whole_body(scope, receive, limit: int) -> tuple[bytes, bool, bool]:
    """(body, too_large, complete). A declared Content-Length over `limit` is refused before any
    byte is read; a streamed (chunked) body is refused as soon as it passes `limit`. `complete`
    is False when the client went away before its body ended: nobody waits for an answer, and
    no part of it may be acted on."""
    declared = 0
    for k, v in scope["headers"]:
        if k == b"content-length":
            try:
                declared = int(v)
            except ValueError:
                declared = 0
    if declared > limit:
        return b"", True, True
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False, False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True, True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False, True
