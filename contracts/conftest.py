"""Test ids, progress header and summary for the contract suites (mockserver.contract.suite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.contract.suite import ContractSuite


def _suite(item) -> ContractSuite | None:
    suite = getattr(getattr(item, "module", None), "suite", None)
    return suite if isinstance(suite, ContractSuite) else None


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


class ContractRun:
    """The suites of this pytest process, and which of their tests ran here."""

    def __init__(self) -> None:
        self.suites: dict[str, ContractSuite] = {}
        self.by_node: dict[str, ContractSuite] = {}

    def pytest_collection_modifyitems(self, config, items) -> None:
        # pytest-xdist is a dev extra: its mark is unknown (a warning) in a plain install
        grouped = config.pluginmanager.hasplugin("xdist")
        for item in items:
            suite = _suite(item)
            if suite is None:
                continue
            _name_operation(item)
            self.suites.setdefault(suite.api, suite)
            if grouped:  # with --dist loadgroup, one API's suite stays on one worker
                item.add_marker(pytest.mark.xdist_group(f"contract_{suite.api}"))

    def pytest_collection_finish(self, session) -> None:
        for item in session.items:
            suite = _suite(item)
            if suite is not None and not item.name.endswith("_every_operation_succeeded"):
                suite.collected_tests.add(item.nodeid)
                self.by_node[item.nodeid] = suite
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and self.suites:
            reporter.write_line("")
            for suite in self.suites.values():
                reporter.write_line(f"contract target: {suite.describe()}")

    def pytest_runtest_logreport(self, report) -> None:
        suite = self.by_node.get(report.nodeid)
        if suite is not None and (
            report.when == "call" or (report.when == "setup" and report.skipped)
        ):
            suite.finished_tests.add(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        suites = [s for s in self.suites.values() if s.statuses]
        if not suites:
            return
        terminalreporter.section("contract summary")
        for suite in suites:
            where = "the suite's own mock" if suite.on_mock else suite.remote_url
            total = sum(sum(c.values()) for c in suite.statuses.values())
            terminalreporter.write_line(
                f"{suite.api}: {total} requests to {where}; statuses per operation:"
            )
            rows = sorted((suite.label(op), counts) for op, counts in suite.statuses.items())
            width = max(len(label) for label, _ in rows)
            for label, counts in rows:
                statuses = "  ".join(f"{status}×{n}" for status, n in sorted(counts.items()))
                terminalreporter.write_line(f"  {label:<{width}}  {statuses}")
            for link, counts in sorted(suite.links.items()):
                statuses = "  ".join(f"{status}×{n}" for status, n in sorted(counts.items()))
                terminalreporter.write_line(f"  link {link}: {statuses}")


def _ids_from_the_suites_folder(config) -> None:
    """When the suites' folder is the rootdir (`mockserver contract`), show test ids as they are
    (`test_statusbadge.py::...`, as in the JUnit XML), not relative to the caller's folder
    (`../venv/lib/python3.11/site-packages/mockserver/contracts/test_statusbadge.py::...`):
    pytest has no option for it, so its one method that makes them relative is replaced."""
    if config.rootpath == Path(__file__).resolve().parent and hasattr(
        config, "cwd_relative_nodeid"
    ):
        config.cwd_relative_nodeid = lambda nodeid: nodeid


def pytest_configure(config) -> None:
    _ids_from_the_suites_folder(config)
    config.pluginmanager.register(ContractRun(), "mockserver-contract-run")
