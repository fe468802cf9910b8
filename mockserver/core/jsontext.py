"""The JSON text the mock writes for itself and reads back: store records and journal entries.

Compact (`,` and `:` without spaces), non-ASCII as it is, in msgspec's encoder and decoder: the
same text as the standard library's `json` writes with those options, about five times as fast
on these small documents (a heartbeat writes three and reads two; JSON was a quarter of a
serving mock's time). What msgspec will not take goes to the standard library, as before: a
string holding a lone surrogate (a response body parsed back may), a key that is not text, a
`NaN` the standard library once wrote. A non-finite float is written as `null` (valid JSON,
where the standard library wrote `NaN`); none is expected here, as settings and request bodies
refuse them (mockserver.core.config, mockserver.http.validation).

The standard library stays where text reaches a client in an API's own format (connexion's
jsonifier, mockserver.http.compiled_response) and for request bodies (the strict parser).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

__all__ = ["dumps", "loads"]

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
_std_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(value: Any) -> str:
    """`value` as compact JSON text (what `json.dumps(..., separators=(",", ":"),
    ensure_ascii=False)` gives)."""
    try:
        return _encode(value).decode("utf-8")
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        return _std_dumps(value)


def loads(text: str | bytes) -> Any:
    """The value of JSON text this module (or the standard library) wrote."""
    try:
        return _decode(text)
    except (ValueError, msgspec.DecodeError):
        return json.loads(text)
