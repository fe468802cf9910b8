"""A plain, non-editable `pip install .` must still find the specs (package data)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_non_editable_install_ships_the_specs(installed_copy, tmp_path):
    target = installed_copy
    probe = (
        "import mockserver, mockserver.spec.loader as s; from mockserver.settings import Settings;"
        "from mockserver.app import build_app; build_app(Settings());"
        "print(mockserver.__file__); print(s.SPEC_DIR);"
        "print(sorted(p.name for p in s.SPEC_DIR.glob('*.yaml')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    ).stdout.splitlines()
    assert out[0].startswith(str(target))
    assert out[1] == str(target / "mockserver" / "specs")
    shipped = set(eval(out[2]))  # noqa: S307 - our own probe's repr of a list of names
    assert shipped == {p.name for p in (ROOT / "specs").glob("*.yaml")}
    assert (target / "mockserver" / "specs" / "control").is_dir()
