"""Schemathesis contract suites, one module per API (see mockserver.contract.suite)."""
