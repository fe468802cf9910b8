"""Start-up of the mock alone: N starts to the first 200, as `make bench` times them (issue 16:
<= 0.7 s with compiled bytecode). Cheap enough to run on a busy machine while changing start-up;
`--importtime` also prints the ten slowest imports of one start (`python -X importtime`).

    .venv/bin/python bench/startup.py [--samples 5] [--importtime] [--no-compileall]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import targets
from procs import Processes

__all__ = ["main"]


def _compileall() -> None:
    site = subprocess.run(
        [targets._python(), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    for where in (site, str(targets.REPO_DIR / "mockserver")):
        subprocess.run(
            [targets._python(), "-m", "compileall", "-q", where],
            env=targets._server_env(),
            capture_output=True,
            timeout=600,
            check=False,
        )


def _slowest_imports(samples: int = 10) -> list[str]:
    done = subprocess.run(
        [targets._python(), "-X", "importtime", "-c", "import mockserver.cli, mockserver.app"],
        env=targets._server_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=targets.REPO_DIR,
        check=False,
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    rows.sort(reverse=True)
    return [f"{us / 1000:8.1f} ms {name}" for us, name in rows[:samples]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument("--no-compileall", action="store_true")
    args = parser.parse_args(argv)
    if not args.no_compileall:
        _compileall()
    procs = Processes()
    spec = targets.mock_spec()
    times, ready = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="mock-startup-") as logs:
            procs.stop(targets.start(procs, spec, Path(logs), tag="-warm").process)
            for i in range(max(1, args.samples)):
                started = targets.start(procs, spec, Path(logs), tag=f"-{i}")
                times.append(started.startup_s)
                ready.append(started.ready_line_s)
                procs.stop(started.process)
    finally:
        procs.stop_all()
    print(f"start-up to first 200: median {statistics.median(times):.3f} s, all {times}")
    print(f"'ready' line at: {ready}")
    if args.importtime:
        print("slowest imports (cumulative):", *_slowest_imports(), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
