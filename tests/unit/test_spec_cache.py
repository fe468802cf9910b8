"""The parsed-spec cache (mockserver/spec/loader.py): start-up reads marshal data instead of
parsing YAML, and never serves a spec other than the file on disk."""

from __future__ import annotations

import shutil
import sys

import pytest
import yaml

from mockserver.spec import loader


@pytest.fixture
def spec_dir(tmp_path, monkeypatch):
    """A copy of the bundled specs with a cache of its own, caches cleared before and after."""
    specs = tmp_path / "specs"
    shutil.copytree(loader.SPEC_DIR, specs, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(loader, "SPEC_DIR", specs)
    monkeypatch.setattr(loader, "CACHE_DIR", specs / "__pycache__")
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    loader._spec_data.cache_clear()
    loader.parsed_spec.cache_clear()
    yield specs
    loader._spec_data.cache_clear()
    loader.parsed_spec.cache_clear()


def _fresh_process() -> None:
    loader._spec_data.cache_clear()
    loader.parsed_spec.cache_clear()


def _no_yaml(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("YAML parsed although the cache matches")

    monkeypatch.setattr(loader.yaml, "load", refuse)


def test_every_bundled_spec_reads_back_from_the_cache_as_parsed(spec_dir, monkeypatch):
    expected = {name: yaml.safe_load((spec_dir / name).read_text()) for name in loader.spec_files()}
    for name in expected:
        loader.parsed_spec(name)  # writes the cache
    _fresh_process()
    _no_yaml(monkeypatch)
    for name, spec in expected.items():
        assert loader.parsed_spec(name) == spec  # integer keys (e.g. response codes) kept
        assert loader.load_spec(name) == spec


def test_an_edited_spec_is_parsed_again(spec_dir):
    loader.parsed_spec("statusbadge.yaml")
    path = spec_dir / "statusbadge.yaml"
    path.write_text(path.read_text().replace('openapi: "3.0.3"', 'openapi: "3.0.2"', 1))
    _fresh_process()
    assert loader.parsed_spec("statusbadge.yaml")["openapi"] == "3.0.2"


def test_a_damaged_cache_file_is_ignored(spec_dir):
    loader.parsed_spec("statusbadge.yaml")
    cache = loader._cache_file("statusbadge.yaml")
    cache.write_bytes(cache.read_bytes()[:40])
    _fresh_process()
    assert loader.parsed_spec("statusbadge.yaml")["openapi"] == "3.0.3"


def test_no_cache_is_written_under_pythondontwritebytecode(spec_dir, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert loader.parsed_spec("statusbadge.yaml")["openapi"] == "3.0.3"
    assert not loader.CACHE_DIR.exists()


def test_a_read_only_place_only_costs_the_parse(spec_dir, monkeypatch):
    monkeypatch.setattr(loader, "CACHE_DIR", spec_dir / "statusbadge.yaml" / "not-a-dir")
    assert loader.parsed_spec("statusbadge.yaml")["openapi"] == "3.0.3"


def test_load_spec_gives_a_private_copy(spec_dir):
    copy = loader.load_spec("statusbadge.yaml")
    copy["paths"].clear()
    assert loader.parsed_spec("statusbadge.yaml")["paths"]
    assert loader.load_spec("statusbadge.yaml")["paths"]
