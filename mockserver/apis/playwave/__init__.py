"""PlayWave game-session heartbeat (seed 002): `api` handlers, `fake` store access, `rules` the
state machine."""

from __future__ import annotations

from mockserver.apis.playwave.api import PlaywaveApi

__all__ = ["PlaywaveApi"]
