"""MockClient: the control API over HTTP.

The pytest plugin and users drive the mock only through this (one interface, two transports:
WireMock's `Admin` / `HttpAdminClient`). Core calls are methods here; each API contributes its
own typed seeding and inspection calls as an `ApiControl` subclass (its `control_client`),
reached as an attribute named by the API: `client.statusbadge.servers()`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

if TYPE_CHECKING:  # the per-API attributes, typed for IDEs (at run time: __getattr__)
    from mockserver.apis.controls import ApiControls as _PerApiAttributes
else:
    _PerApiAttributes = object

__all__ = ["MockClient", "MockClientError", "ApiControl", "segment"]


def segment(value: Any) -> str:
    """`value` as one path segment: every character that means something in a URL (`/`, `?`,
    `#`, `%`, a space, `.` and `..`) percent-encoded, so an id of any characters names itself."""
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if text.strip(".") == "" else text


class MockClientError(RuntimeError):
    """The control API answered with a non-2xx status; `status` and `body` say what it said."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{method} {path} -> {status}: {body}")


def _body(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return r.text


def _criteria(matcher: dict[str, Any]) -> dict[str, Any]:
    """A matcher without the criteria left at None (`body=None` is JSON null: no body)."""
    return {k: v for k, v in matcher.items() if v is not None}


class ApiControl:
    """Base of each API's typed control calls, under `/__mock/<api>`."""

    api: str = ""

    def __init__(self, client: MockClient) -> None:
        self._client = client

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._client._call(method, f"/__mock/{self.api}{path}", **kwargs)


class MockClient(_PerApiAttributes):
    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = base_url.rstrip("/")
        headers = {"X-Mock-Token": token} if token else {}
        self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)
        self._apis: dict[str, ApiControl] = {}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self._http.request(method, path, **kwargs)
        if not 200 <= r.status_code < 300:
            raise MockClientError(method, path, r.status_code, _body(r))
        if r.status_code == 204 or not r.content:
            return None
        if r.headers.get("content-type", "").startswith("text/"):
            return r.text
        return r.json()

    def __getattr__(self, name: str) -> ApiControl:
        if name.startswith("_"):
            raise AttributeError(name)
        from mockserver.apis import REGISTRY, api_class

        if name not in REGISTRY:
            raise AttributeError(f"MockClient has no attribute or API {name!r}")
        if name not in self._apis:
            control = getattr(api_class(name), "control_client", None)
            if control is None:
                raise AttributeError(f"API {name!r} has no control calls")
            self._apis[name] = control(self)
        return self._apis[name]

    def __dir__(self) -> list[str]:
        """The per-API helpers too (`statusbadge`, ...), for dir(), help() and the completion
        of REPLs and notebooks."""
        from mockserver.apis import REGISTRY, api_class

        helpers = [n for n in REGISTRY if getattr(api_class(n), "control_client", None)]
        return sorted({*super().__dir__(), *helpers})

    # --- health and reset -------------------------------------------------------------------
    def health(self) -> dict:
        return self._call("GET", "/__mock/health")

    def reset(self, api: str | None = None) -> dict:
        return self._call("POST", "/__mock/reset", params={"api": api} if api else None)

    # --- clock ------------------------------------------------------------------------------
    def clock(self) -> dict:
        return self._call("GET", "/__mock/clock")

    def advance(self, seconds: float) -> dict:
        return self._call("POST", "/__mock/clock/advance", json={"seconds": seconds})

    def freeze(self) -> dict:
        return self._call("POST", "/__mock/clock/freeze")

    def unfreeze(self) -> dict:
        return self._call("POST", "/__mock/clock/unfreeze")

    def set_clock(self, now: str, *, frozen: bool | None = None) -> dict:
        body: dict[str, Any] = {"now": now}
        if frozen is not None:
            body["frozen"] = frozen
        return self._call("POST", "/__mock/clock/set", json=body)

    # --- journal and report -----------------------------------------------------------------
    def requests(
        self,
        *,
        api: str | None = None,
        status: int | None = None,
        valid: bool | None = None,
        since: str | None = None,
        page_size: int = 1000,
        **matcher: Any,
    ) -> list[dict]:
        """Every matching journal entry, oldest first (read page by page); `matcher`: the
        other criteria `count` takes (operation, method, path, path_pattern, fault, body,
        headers, until)."""
        return list(
            self.iter_requests(
                api=api, status=status, valid=valid, since=since, page_size=page_size, **matcher
            )
        )

    def iter_requests(
        self,
        *,
        api: str | None = None,
        status: int | None = None,
        valid: bool | None = None,
        since: str | None = None,
        after: int | None = None,
        page_size: int = 1000,
        **matcher: Any,
    ) -> Iterator[dict]:
        """The matching journal entries past `after`, oldest first, one page (`page_size`, at
        most 1000) in memory at a time."""
        params: dict[str, Any] = {"api": api, "status": status, "since": since}
        params.update(_criteria(matcher))
        if valid is not None:
            params["valid"] = "true" if valid else "false"
        if isinstance(params.get("fault"), bool):
            params["fault"] = "true" if params["fault"] else "false"
        if "body" in params:
            params["body_contains"] = json.dumps(params.pop("body"))
        if "headers" in params:
            params["header"] = [f"{k}: {v}" for k, v in params.pop("headers").items()]
        params = {k: v for k, v in params.items() if v is not None}
        while True:
            page = self.requests_page(after=after, limit=page_size, **params)
            yield from page["requests"]
            following = page["next_after"]
            if following is None:
                return
            if after is not None and following <= after:
                raise MockClientError("GET", "/__mock/requests", 200, "next_after went backwards")
            after = following

    def requests_page(
        self, *, after: int | None = None, limit: int | None = None, **filters: Any
    ) -> dict:
        """One page of the journal as the control API answers it: `requests`, `count` and
        `next_after` (None when nothing more matched)."""
        params = {"after": after, "limit": limit, **filters}
        params = {k: v for k, v in params.items() if v is not None}
        return self._call("GET", "/__mock/requests", params=params)

    def clear_requests(self) -> None:
        self._call("DELETE", "/__mock/requests")

    # --- verification (one matcher: mockserver.matcher) ---------------------------------------
    def count(self, **matcher: Any) -> int:
        """How many journaled requests match: `api`, `operation`, `method`, `path`,
        `path_pattern`, `status`, `valid`, `fault`, `body` (a JSON subset), `headers`,
        `since`, `until`."""
        return self._call("POST", "/__mock/requests/count", json=_criteria(matcher))["count"]

    def verify(
        self,
        *,
        count: int | None = None,
        at_least: int | None = None,
        at_most: int | None = None,
        **matcher: Any,
    ) -> int:
        """Assert that `count` (exactly), `at_least` or `at_most` journaled requests match;
        the number that did. Raises AssertionError with the mock's message (what was expected,
        and the closest requests with what differed) when it does not hold."""
        expected = {"count": count, "at_least": at_least, "at_most": at_most}
        body = {**_criteria(matcher), **_criteria(expected)}
        r = self._http.post("/__mock/verify", json=body)
        if r.status_code == 422:
            raise AssertionError(r.json()["message"])
        if r.status_code != 200:
            raise MockClientError("POST", "/__mock/verify", r.status_code, _body(r))
        return r.json()["count"]

    # --- runtime settings ---------------------------------------------------------------------
    def settings(self) -> dict:
        """Every API's settings in force: {api: {name: {value, default, source}}}."""
        return self._call("GET", "/__mock/settings")["apis"]

    def configure(self, api: str, **settings: Any) -> dict:
        """Change `api`'s settings from the next request on (until `reset()` or
        `restore_settings()`); the API's settings now in force."""
        return self._call("PATCH", f"/__mock/settings/{api}", json=settings)

    def restore_settings(self, api: str | None = None) -> None:
        """Drop the runtime changes (of one API, or all): the start-up settings hold again."""
        self._call("DELETE", "/__mock/settings", params={"api": api} if api else None)

    # --- state snapshots ----------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Every API's records and the clock, as one document `restore` takes back."""
        return self._call("GET", "/__mock/state")

    def restore(self, snapshot: dict) -> dict:
        """Replace the whole state with `snapshot` (all of it, or nothing and an error)."""
        return self._call("PUT", "/__mock/state", json=snapshot)

    def events(self, *, api: str | None = None) -> list[dict]:
        """The control calls that change what a timeline means (clock moves, fault rules added,
        removed or used up, resets, scenarios), oldest first; with `api`, that API's and the
        mock's own."""
        return self._call("GET", "/__mock/events", params={"api": api} if api else None)["events"]

    def report(self, *, api: str | None = None) -> dict:
        return self._call("GET", "/__mock/report", params={"api": api} if api else None)

    def report_text(self, *, api: str | None = None) -> str:
        params = {"format": "text", **({"api": api} if api else {})}
        return self._call("GET", "/__mock/report", params=params)

    # --- faults -----------------------------------------------------------------------------
    def add_fault(
        self,
        api: str,
        *,
        operation: str | None = None,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay_ms: int | None = None,
        drop: bool | None = None,
        times: int | None = None,
    ) -> dict:
        rule = {
            "api": api,
            "operation": operation,
            "status": status,
            "body": body,
            "headers": headers,
            "delay_ms": delay_ms,
            "drop": drop,
            "times": times,
        }
        return self._call(
            "POST", "/__mock/faults", json={k: v for k, v in rule.items() if v is not None}
        )

    def faults(self, *, api: str | None = None) -> list[dict]:
        return self._call("GET", "/__mock/faults", params={"api": api} if api else None)["faults"]

    def delete_fault(self, fault_id: str) -> None:
        self._call("DELETE", f"/__mock/faults/{segment(fault_id)}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/__mock/faults")

    # --- scenarios --------------------------------------------------------------------------
    def start_scenario(
        self,
        name: str,
        steps: list[dict] | None = None,
        *,
        vars: dict[str, str] | None = None,
    ) -> dict:
        """Start a scenario: `steps` (control calls at mock-clock offsets), or a named one from
        the library when `steps` is None (`vars` override its defaults)."""
        body: dict[str, Any] = {"name": name}
        if steps is not None:
            body["steps"] = steps
        if vars:
            body["vars"] = vars
        return self._call("POST", "/__mock/scenarios", json=body)

    def scenarios(self) -> list[dict]:
        return self._call("GET", "/__mock/scenarios")["scenarios"]

    def stop_scenario(self, name: str | None = None) -> None:
        """Stop one scenario, or all of them."""
        self._call("DELETE", "/__mock/scenarios" + (f"/{segment(name)}" if name else ""))

    # --- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MockClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
