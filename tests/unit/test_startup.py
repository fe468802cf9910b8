"""What `mockserver serve` leaves out of its start-up (issue 16: <= 0.7 s to the first 200)."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
from mockserver import cli
cli.main(["serve", "--api", "no-such-api"])
import mockserver.app, httpx
print("rich" in sys.modules, "pygments" in sys.modules, httpx.Client is not None)
"""


def test_serve_does_not_import_the_httpx_command_line_client():
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.split() == ["False", "False", "True"], done.stderr


_SERVE_GC_PROBE = """
import gc, sys
import uvicorn
from mockserver import cli

async def serve(self, sockets=None):  # report instead of serving
    print(gc.get_freeze_count() > 10_000, gc.get_threshold())

uvicorn.Server.serve = serve
cli.main(["serve", "--port", "0"])
"""


def test_serve_freezes_start_up_objects_and_collects_less_often():
    """server.tune_gc_for_serving: start-up's objects are out of the collector's sight."""
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_GC_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip().splitlines()[-1] == "True (10000, 20, 10)", done.stderr
