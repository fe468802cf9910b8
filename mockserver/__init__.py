"""heartbeat-mockserver: stateful, validating mocks of five documented heartbeat APIs."""

from __future__ import annotations

import warnings

# starlette 1.x warns at import time when connexion pulls in its test client with httpx;
# the warning is about starlette's own test client and says nothing to a mock user.
warnings.filterwarnings(
    "ignore", message=r"Using .httpx. with .starlette.testclient. is deprecated"
)

__version__ = "0.1.0"
__all__ = ["__version__"]
