"""MockClient's per-API helpers are visible: to dir() (REPLs, notebooks) and, through
mockserver.apis.controls, to type checkers and IDEs."""

from __future__ import annotations

import typing

from mockserver.apis import REGISTRY, api_class
from mockserver.apis.controls import ApiControls
from mockserver.client import MockClient

WITH_HELPERS = {n: api_class(n).control_client for n in REGISTRY if api_class(n).control_client}


def test_dir_lists_every_api_helper_and_the_core_calls():
    with MockClient("http://127.0.0.1:9") as client:
        listed = dir(client)
    assert set(WITH_HELPERS) <= set(listed)
    assert {"health", "reset", "advance", "requests", "add_fault"} <= set(listed)
    assert listed == sorted(listed)


def test_the_typed_attributes_match_the_registry():
    """What an IDE completes is what the client answers at run time, for every API."""
    assert typing.get_type_hints(ApiControls) == WITH_HELPERS
    with MockClient("http://127.0.0.1:9") as client:
        for name, control in WITH_HELPERS.items():
            assert isinstance(getattr(client, name), control)
