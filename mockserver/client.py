"""MockClient: the control API over HTTP. The pytest plugin and users talk to the mock only
through this (one interface, two transports: WireMock's `Admin` / `HttpAdminClient`)."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["MockClient", "MockClientError"]


class MockClientError(RuntimeError):
    """The control API answered with a non-2xx status."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{method} {path} -> {status}: {body}")


class MockClient:
    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = base_url.rstrip("/")
        headers = {"X-Mock-Token": token} if token else {}
        self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self._http.request(method, path, **kwargs)
        if not 200 <= r.status_code < 300:
            try:
                body = r.json()
            except ValueError:
                body = r.text
            raise MockClientError(method, path, r.status_code, body)
        if r.status_code == 204 or not r.content:
            return None
        return r.json()

    # --- core -------------------------------------------------------------------------------
    def health(self) -> dict:
        return self._call("GET", "/__mock/health")

    def reset(self, api: str | None = None) -> dict:
        return self._call("POST", "/__mock/reset", params={"api": api} if api else None)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MockClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
