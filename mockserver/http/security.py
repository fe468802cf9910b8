"""Credential checks for connexion, bound to each API's runtime settings.

Connexion finds an info function through an `x-*InfoFunc` dotted name in the spec; the mock
instead passes handler subclasses whose function is a closure over the API's settings, so vendor
specs stay as documented and pinned credentials can change at runtime. An info function returns a
dict (accepted; `sub` becomes the handler's `user`) or None (that API's 401).
"""

from __future__ import annotations

from collections.abc import Callable

from connexion.security import (
    ApiKeySecurityHandler,
    BasicSecurityHandler,
    BearerSecurityHandler,
)

__all__ = ["security_map"]


def _bound(base: type, func: Callable) -> type:
    class Bound(base):  # type: ignore[misc, valid-type]
        def _resolve_func(self, security_scheme):
            return func

    Bound.__name__ = f"Bound{base.__name__}"
    return Bound


def security_map(
    *,
    bearer: Callable[[str], dict | None] | None = None,
    basic: Callable[[str, str], dict | None] | None = None,
    api_key: Callable[..., dict | None] | None = None,
) -> dict:
    out: dict = {}
    if bearer is not None:
        out["bearer"] = _bound(BearerSecurityHandler, bearer)
    if basic is not None:
        out["basic"] = _bound(BasicSecurityHandler, basic)
    if api_key is not None:
        out["apiKey"] = _bound(ApiKeySecurityHandler, api_key)
    return out
