"""Secrets stay out of the journal, the report and the logs (DESIGN.md, "Secrets stay out of logs").

A `Redactor` masks every value that may carry a credential, keeping a short prefix so a person
can tell keys apart. What counts as secret is the generic HTTP set below plus what each enabled
API declares (`MockApi.secret_headers`, `secret_fields`, `secret_params`): core names no API's
header or field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["KEEP", "Redactor", "mask", "mask_credential"]

KEEP = 6  # characters of a secret that stay readable

# Credentials any HTTP API may carry, and the mock's own control token.
GENERIC_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-mock-token"}
)
GENERIC_FIELDS = frozenset({"password", "secret", "api_key", "apikey", "access_token"})


def mask(value: str) -> str:
    """`abcdefghij` -> `abcdef***`; a value no longer than the prefix is hidden whole."""
    if len(value) <= KEEP:
        return "***"
    return value[:KEEP] + "***"


def mask_credential(value: str) -> str:
    """A header value: `Bearer <key>` / `Basic <b64>` keep their scheme, the rest is masked."""
    scheme, sep, rest = value.partition(" ")
    if sep and scheme.lower() in ("bearer", "basic"):
        return f"{scheme} {mask(rest)}"
    return mask(value)


class Redactor:
    """What is secret for one app: header names, body field names and query parameter names
    (all case-insensitive)."""

    def __init__(
        self,
        headers: Iterable[str] = (),
        fields: Iterable[str] = (),
        params: Iterable[str] = (),
    ) -> None:
        self.headers = GENERIC_HEADERS | {h.lower() for h in headers}
        self.fields = GENERIC_FIELDS | {f.lower() for f in fields}
        self.params = self.fields | {p.lower() for p in params}

    def header(self, name: str, value: str) -> str:
        return mask_credential(value) if name.lower() in self.headers else value

    def body(self, body: Any) -> Any:
        if isinstance(body, dict):
            return {
                k: (
                    mask(v)
                    if isinstance(v, str) and isinstance(k, str) and k.lower() in self.fields
                    else self.body(v)
                )
                for k, v in body.items()
            }
        if isinstance(body, list):
            return [self.body(v) for v in body]
        return body
