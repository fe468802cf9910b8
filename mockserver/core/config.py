"""What every API's Config uses: list settings, the one meaning of "accept any credential", and
the type check every value from a TOML file, the environment or a pytest marker passes first.

`ANY` (None) is the one sentinel for "not pinned": any well-formed credential (or id) of the
documented shape is accepted, so a client works after changing only its base URL. A pinned
setting is a non-empty list; an empty one would refuse everything and is refused itself.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

__all__ = [
    "ANY",
    "ProxySettings",
    "check_proxy",
    "check_types",
    "closest",
    "describe",
    "field_types",
    "from_text",
    "list_setting",
]

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


# --- the type check every API's settings pass at start-up ---------------------------------------

_NONE = type(None)
_PLURAL = {int: "integers", float: "numbers", str: "strings", bool: "booleans"}


def describe(annotation: Any) -> str:
    """A field's type in words, for a message: `list[int] | None` -> "a list of integers"."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType):
        return " or ".join(describe(a) for a in args if a is not _NONE)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (list, tuple):
        item = args[0] if args else Any
        return f"a list of {_PLURAL.get(item, describe(item))}"
    if origin is dict and len(args) == 2:
        return f"a table of {_PLURAL.get(args[0], 'keys')} to {_PLURAL.get(args[1], 'values')}"
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


class _Mismatch(Exception):
    pass


def _item(annotation: Any, value: Any) -> None:
    """A list's item, in a form `list_setting` converts (`"3"` for an int, `3` for a string)."""
    if annotation is int and isinstance(value, str) and value.strip().isascii():
        value = int(value) if value.strip().isdigit() else value
    elif annotation is str and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    _check(annotation, value)


def _check(annotation: Any, value: Any) -> None:
    """_Mismatch unless `value` is a form the field takes. Types this check does not know pass."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType):
        if not any(_accepts(arm, value) for arm in args):
            raise _Mismatch
    elif origin is Literal:
        if not any(value == a and type(value) is type(a) for a in args):
            raise _Mismatch
    elif annotation is _NONE:
        if value is not None:
            raise _Mismatch
    elif origin in (list, tuple):
        item = args[0] if args else Any
        if isinstance(value, str):  # comma text (`1,2`), as the environment gives it
            value = [v.strip() for v in value.split(",") if v.strip()]
        elif not isinstance(value, list | tuple | dict):
            value = [value]  # one item for a list setting (`MOCKSERVER_X__IDS=3`)
        if not isinstance(value, list | tuple):
            raise _Mismatch
        for v in value:
            _item(item, v)
    elif origin is dict:
        if not isinstance(value, dict):
            raise _Mismatch
        key, item = args if len(args) == 2 else (Any, Any)
        for k, v in value.items():
            _check(key, k)
            _check(item, v)
    elif annotation in _SCALARS and not _SCALARS[annotation](value):
        raise _Mismatch


_SCALARS: dict[Any, Callable[[Any], bool]] = {
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    str: lambda v: isinstance(v, str),
}


def field_types(config: type) -> dict[str, Any]:
    """Each field of the dataclass `config` with its annotation, resolved."""
    hints = get_type_hints(config)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(config)}


def check_types(config: type, values: Mapping[str, Any], where: Callable[[str], str]) -> None:
    """Check each of `values` against its field's annotation in the dataclass `config` (int,
    float, bool, str, list[...], dict[...], Literal[...], X | None), in the forms the Configs
    convert themselves (comma text or a lone item for a list, as `list_setting` reads them).

    A value of the wrong type is refused here, at start-up, with one line naming where it came
    from (`where(name)`: a file and key, a variable) and the expected type; without it a
    `ttl_seconds = "ten"` reached the handlers and every heartbeat answered 500. Names that are
    not fields are the caller's to refuse (with its own "did you mean")."""
    types = field_types(config)
    for name, value in values.items():
        if name in types and not _accepts(types[name], value):
            raise ValueError(f"{where(name)}: expected {describe(types[name])}, got {value!r}")


def from_text(annotation: Any, text: str) -> Any:
    """An environment variable's text as the field wants it: a string field takes it as it is;
    any other reads it as JSON when it parses (`600`, `true`, `[1, 2]`, `{"u": "p"}`), else as
    text (`1,2` for a list, `yes`/`no` for a flag), for `check_types` to judge."""
    if _holds_text(annotation) and not text.lstrip().startswith(("[", "{")):
        return text
    flag = _FLAGS.get(text.strip().lower())
    if flag is not None and _accepts(annotation, flag):
        return flag
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return text


_FLAGS = {"true": True, "yes": True, "on": True, "1": True}
_FLAGS |= {"false": False, "no": False, "off": False, "0": False}


def _accepts(annotation: Any, value: Any) -> bool:
    try:
        _check(annotation, value)
    except _Mismatch:
        return False
    return True


def _holds_text(annotation: Any) -> bool:
    """Whether the field holds a string, or a list of them (then `1,2` is two strings)."""
    origin, args = get_origin(annotation), get_args(annotation)
    arms = args if origin in (Union, UnionType) else (annotation,)
    return any(
        arm is str or (get_origin(arm) in (list, tuple) and get_args(arm)[:1] == (str,))
        for arm in arms
    )


def closest(name: str, known: Iterable[str], prefix: str = "") -> str:
    """The hint `; did you mean X?` for the known name nearest to a mistyped one, or "" (`prefix`
    is shown before the match, not compared: `PROT` vs `PORT`, reported as `MOCKSERVER_PORT`)."""
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {prefix}{match[0]}?" if match else ""


# --- the settings every API has ------------------------------------------------------------------


@dataclasses.dataclass
class ProxySettings:
    """Settings every API's Config gets (mockserver.core.api adds them once, issue 19): forward
    that API's native requests to a real service and validate both directions."""

    proxy: str | None = None  # the upstream's service root (https://...); unset: mocked here
    proxy_mode: Literal["observe", "strict"] = "observe"  # strict: invalid requests stay here
    proxy_timeout_seconds: float = 10.0  # assumed: an upstream answer later than this is a 504


def check_proxy(config: Any, where: Callable[[str], str]) -> None:
    """ValueError unless `config.proxy` is unset or an http(s) service root (a host, no query or
    fragment: the native path and query are appended), and the timeout is positive."""
    url = config.proxy
    if url is not None:
        try:
            parts = urlsplit(url)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a port that is no number, a bad IPv6 literal
            ok, parts = False, None
        if (
            not ok
            or parts is None
            or parts.query
            or parts.fragment
            or any(c.isspace() or ord(c) < 32 for c in url)
        ):
            raise ValueError(
                f"{where('proxy')}: expected an http:// or https:// service root, got {url!r}"
            )
        if "@" in parts.netloc:  # httpx would send them as Basic auth over the client's own
            raise ValueError(
                f"{where('proxy')}: a service root without credentials; the client's own "
                "headers go to the upstream as sent"
            )
    timeout = config.proxy_timeout_seconds
    if not 0 < timeout <= 3600:
        raise ValueError(
            f"{where('proxy_timeout_seconds')}: expected more than 0 and at most 3600 seconds, "
            f"got {timeout!r}"
        )
