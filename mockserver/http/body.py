"""Reading a request body once, bounded, before anything parses it (the native gate and the
control API share this, so a huge body costs at most `limit` bytes of memory anywhere)."""

from __future__ import annotations

__all__ = ["read_body"]


async def read_body(scope, receive, limit: int) -> tuple[bytes, bool]:
    """(body, too_large). A declared Content-Length over `limit` is refused before any byte is
    read; a streamed (chunked) body is refused as soon as it passes `limit`."""
    declared = 0
    for k, v in scope["headers"]:
        if k == b"content-length":
            try:
                declared = int(v)
            except ValueError:
                declared = 0
    if declared > limit:
        return b"", True
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False
