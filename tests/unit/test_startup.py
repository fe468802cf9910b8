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
