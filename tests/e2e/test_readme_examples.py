"""The README's examples, run as their own pytest session with the plugin: never stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLES = re.findall(r"<!-- example -->\n```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize(
    "code", EXAMPLES, ids=[re.search(r"# (\S+)", c).group(1) for c in EXAMPLES]
)
def test_readme_example_passes(pytester, code):
    name = re.search(r"# (\S+)\.py", code).group(1)
    pytester.makepyfile(**{name: code})
    result = pytester.runpytest("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert (
        outcomes.get("passed", 0) >= 1 and not outcomes.get("failed") and not outcomes.get("errors")
    ), result.stdout.str()
