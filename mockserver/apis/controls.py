"""MockClient's per-API attributes with their types, for IDEs and type checkers.

`client.statusbadge` and the like are looked up in the registry at run time (MockClient's
`__getattr__`, listed by its `__dir__`); a type checker can't follow that, so MockClient
inherits this class while type checking only, and an editor completes `client.lucit.queue(...)`.
A test holds it equal to the registry's `control_client` classes.
"""

from __future__ import annotations

from mockserver.apis.collect import CollectControl
from mockserver.apis.lucit import LucitControl
from mockserver.apis.playwave.client import PlaywaveControl
from mockserver.apis.sonoran import SonoranControl
from mockserver.apis.statusbadge import StatusbadgeControl

__all__ = ["ApiControls"]


class ApiControls:
    statusbadge: StatusbadgeControl
    sonoran: SonoranControl
    collect: CollectControl
    lucit: LucitControl
    playwave: PlaywaveControl
