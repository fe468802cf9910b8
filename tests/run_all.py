"""The whole test suite, as `make test` and CI run it.

Installs the Debian packages the end-to-end tests need when they are missing (redis-server for
the Redis store, chromium for the docs browser test; we run as root in CI), then runs pytest.
pytest's exit code 5 ("no tests ran") is a failure here, not a pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

DEBIAN_PACKAGES = {"redis-server": "redis-server", "chromium": "chromium"}


def ensure_debian_packages() -> None:
    missing = [pkg for binary, pkg in DEBIAN_PACKAGES.items() if shutil.which(binary) is None]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(
            f"run_all: missing {', '.join(missing)} and can't apt-get them; those tests will fail",
            flush=True,
        )
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"run_all: installing {', '.join(missing)} with apt-get", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdin=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def main() -> int:
    ensure_debian_packages()
    # Two workers: the suite spends most of its time waiting on servers, and CI has 2 cores.
    # (loadfile: a contract suite checks its 2xx coverage after its own cases, in one process.)
    cmd = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile", *sys.argv[1:]]
    code = subprocess.call(cmd, stdin=subprocess.DEVNULL)
    if code == 5:
        print("run_all: pytest collected no tests; that is a failure", flush=True)
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
