"""What every API's Config uses: list settings, and the one meaning of "accept any credential".

`ANY` (None) is the one sentinel for "not pinned": any well-formed credential (or id) of the
documented shape is accepted, so a client works after changing only its base URL. A pinned
setting is a non-empty list; an empty one would refuse everything and is refused itself.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ANY", "list_setting"]

ANY = None


def list_setting(name: str, value: Any, item: type) -> list | None:
    """A list setting as it arrives from TOML (a list), the environment as JSON (`[1,2]`, `1`)
    or text (`1,2`, `key`), or a pytest marker. `ANY` stays `ANY`."""
    if value is ANY:
        return ANY
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} must be a list of {item.__name__}s, got {value!r}")
    out = []
    for v in value:
        if item is int and isinstance(v, str) and v.strip().isascii() and v.strip().isdigit():
            v = int(v)
        elif item is str and isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, item) or isinstance(v, bool):
            raise ValueError(f"{name} must be a list of {item.__name__}s, got {value!r}")
        out.append(v)
    if not out:
        raise ValueError(f"{name} is empty and would refuse everything; leave it out to accept any")
    return out
