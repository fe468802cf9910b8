"""What every handler reaches through `self.ctx`: settings, store, clock, journal and faults.

Built once per app by `build_app`; nothing here is module-level, so two apps in one process (or
two tests) never share state by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mockserver.core.clock import Clock
from mockserver.faults import Faults
from mockserver.journal import Journal
from mockserver.settings import Settings
from mockserver.store import Store

if TYPE_CHECKING:
    from mockserver.core.api import MockApi
    from mockserver.runtime_settings import RuntimeSettings

__all__ = ["MockContext"]


@dataclass
class MockContext:
    settings: Settings
    store: Store
    clock: Clock
    journal: Journal
    faults: Faults
    apis: dict[str, MockApi] = field(default_factory=dict)
    runtime: RuntimeSettings | None = None  # the APIs' runtime settings, once they are built
