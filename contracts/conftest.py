"""The contract run's terminal summary: per API, where it ran and what each operation answered."""

from __future__ import annotations

import pytest

from mockserver.contract_suite import ContractSuite

SUITES = pytest.StashKey[dict]()


def pytest_collection_modifyitems(session, config, items) -> None:
    suites = config.stash.setdefault(SUITES, {})
    for item in items:
        _name_operation(item)
        module = getattr(item, "module", None)
        suite = getattr(module, "suite", None)
        if isinstance(suite, ContractSuite):
            suites.setdefault(suite.api, suite)


def _name_operation(item) -> None:
    """Put the operation into the test id (`test_x[POST /api/heartbeat]`), for -v, -k and JUnit.

    schemathesis 4.32 names its items so, but pytest 9.2 builds a Function's node id from its
    original name and callspec only, so every operation of a suite got the same id."""
    label = getattr(item, "operation_label", None)
    if not label or item.nodeid.endswith(f"[{label}]"):
        return
    node_id = f"{item.parent.nodeid}::{item.name}"
    if hasattr(item, "_id"):
        item._id = type(item._id).parse(node_id)
    else:  # pytest < 9.2 already names it from `name`
        item._nodeid = node_id


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    suites = [s for s in config.stash.get(SUITES, {}).values() if s.statuses]
    if not suites:
        return
    terminalreporter.section("contract summary")
    for suite in suites:
        where = "the suite's own mock" if suite.on_mock else suite.remote_url
        total = sum(sum(c.values()) for c in suite.statuses.values())
        terminalreporter.write_line(
            f"{suite.api}: {total} requests to {where}; statuses per operation:"
        )
        for op, counts in sorted(suite.statuses.items()):
            statuses = "  ".join(f"{status}×{n}" for status, n in sorted(counts.items()))
            terminalreporter.write_line(f"  {op:<36} {statuses}")
        for link, counts in sorted(suite.links.items()):
            statuses = "  ".join(f"{status}×{n}" for status, n in sorted(counts.items()))
            terminalreporter.write_line(f"  link {link}: {statuses}")
