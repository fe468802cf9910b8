"""The README's first screen, its citations, and the settings reference generated from the API
Config classes (mockserver.docs.readme), kept current by a staleness test."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from mockserver.apis import api_class, api_names
from mockserver.core.config import ProxySettings, describe, field_types
from mockserver.docs.model import load_api_docs
from mockserver.docs.readme import (
    SETTINGS_END,
    SETTINGS_START,
    field_comments,
    readme_tables,
    settings_reference,
    update_readme,
)
from mockserver.spec.loader import SPEC_DIR, parsed_spec

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SEED_FILE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b")


@pytest.mark.parametrize("api", api_names())
def test_the_settings_reference_gives_every_field_its_type_default_and_meaning(api):
    cls = api_class(api)
    reference = settings_reference([cls])
    types, docs = field_types(cls.Config), field_comments(cls.Config)
    docs |= field_comments(ProxySettings)  # the generic ones, in the reference's first table
    for f in dataclasses.fields(cls.Config):
        assert docs[f.name], f"{api}.{f.name} has no comment saying what it is"
        row = next(line for line in reference.splitlines() if line.startswith(f"| `{f.name}` |"))
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[1] == describe(types[f.name]).replace("|", "\\|")
        assert cells[2] and cells[3]
        assert not SEED_FILE.search(row) and not re.search(r"\b00\d\b", row)


def test_field_comments_take_the_line_then_the_block_above():
    @dataclasses.dataclass
    class Config:
        plain: int = 1  # on its line
        # a block above,
        # two lines long
        above: float = 2.0
        # 004: cited by seed number
        cited: str = "x"
        bare: bool = False

    assert field_comments(Config) == {
        "plain": "on its line",
        "above": "a block above, two lines long",
        "cited": "documented: cited by seed number",
        "bare": "",
    }


def test_the_readme_carries_a_current_settings_reference():
    assert README.count(SETTINGS_START) == 1 and README.count(SETTINGS_END) == 1
    block = README[README.index(SETTINGS_START) : README.index(SETTINGS_END)]
    assert settings_reference() in block
    stale = README.replace("| `ttl_seconds` |", "| `ttl_second` |", 1)
    assert update_readme(stale, readme_tables(load_api_docs(SPEC_DIR)[0])) == README


def test_the_first_screen_says_what_it_is_and_why_before_the_commands():
    first = README[: README.index("make run")]
    for needed in ("heartbeat", "For", "Prism", "WireMock", "hand-written stub", "pip install ."):
        assert needed in first, needed
    assert first.index("pip install .") < README.index("make test")


@pytest.mark.parametrize("api", api_names())
def test_vendor_documents_are_cited_by_title_and_url_not_by_file_name(api):
    info = parsed_spec(api_class(api).spec)["info"]
    title = info["x-mock-source-title"]
    row = next(line for line in README.splitlines() if line.startswith(f"| `{api}` |"))
    assert f"“{title}”" in row and info.get("x-mock-source-url", "no public URL") in row
    assert not SEED_FILE.search(info["description"])


def test_the_readme_has_no_seed_file_names_or_internal_notes():
    assert not SEED_FILE.search(README)
    assert not re.search(r"\bissue \d+|shared/notes", README)
