"""The API registry: one line per API. Core modules look APIs up here and nowhere else."""

from __future__ import annotations

import importlib

from mockserver.core.api import MockApi

__all__ = ["REGISTRY", "api_class", "api_names"]

REGISTRY: dict[str, str] = {
    "statusbadge": "mockserver.apis.statusbadge:StatusbadgeApi",
    "sonoran": "mockserver.apis.sonoran:SonoranApi",
    "collect": "mockserver.apis.collect:CollectApi",
    "lucit": "mockserver.apis.lucit:LucitApi",
    "playwave": "mockserver.apis.playwave:PlaywaveApi",
}


def api_names() -> list[str]:
    return list(REGISTRY)


def api_class(name: str) -> type[MockApi]:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown API {name!r}; known: {', '.join(REGISTRY)}") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
