"""The `/__mock` handlers that drive the mock faster from tests (issue 18): request matching
(`POST /__mock/requests/count`, `POST /__mock/verify`; `GET /__mock/requests` takes the same
filters), state snapshots (`GET`/`PUT /__mock/state`) and runtime settings (`GET`/`DELETE
/__mock/settings`, `PATCH /__mock/settings/{api}`). A part of ControlHandlers (mockserver.control),
whose context (`self.ctx`) and API check (`self._api`) it uses; the work is in
mockserver.matcher, mockserver.verification, mockserver.snapshot, mockserver.runtime_settings.
"""

from __future__ import annotations

import json

from mockserver.core.errors import FieldError, MockError, value_text
from mockserver.matcher import Matcher, MatcherError
from mockserver.runtime_settings import SettingsChangeError, masked
from mockserver.snapshot import SnapshotError, Snapshots
from mockserver.verification import Expectation, Tally, verdict

__all__ = ["DriveHandlers", "query_matcher"]


def _invalid(field: str, message: str, value=None, location: str = "body") -> MockError:
    return MockError(
        400,
        "validation",
        message,
        fields=[FieldError(field, "invalid", message, value_text(value), location)],
    )


def query_matcher(criteria: dict, body_contains: str | None, header: list[str] | None) -> dict:
    """`GET /__mock/requests`'s filters as a matcher: `body_contains` is JSON text and each
    `header` is `Name: value`."""
    if body_contains is not None:
        try:
            criteria["body"] = json.loads(body_contains)
        except ValueError:
            raise _invalid(
                "body_contains", "body_contains must be JSON text", body_contains, "query"
            ) from None
    for item in header or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise _invalid("header", "each header must be `Name: value`", item, "query")
        criteria.setdefault("headers", {})[name.strip()] = value.strip()
    return criteria


class DriveHandlers:
    ctx: object  # MockContext, set by ControlHandlers
    events: object  # mockserver.events.Events, set by ControlHandlers

    @property
    def snapshots(self) -> Snapshots:
        return Snapshots(self.ctx.store, self.ctx.clock, self.ctx.apis)

    def _matcher(self, criteria: dict, location: str = "body") -> Matcher:
        self._api(criteria.get("api"))
        try:
            return Matcher(criteria, self.ctx.journal.redactor)
        except MatcherError as exc:
            raise _invalid(exc.field, exc.message, exc.value, location) from None

    async def _tally(self, matcher: Matcher) -> Tally:
        """The matcher over the whole journal, read a chunk at a time (bounded memory)."""
        tally = Tally(matcher)
        async for entry in self.ctx.journal.scan(api=matcher.criteria.get("api")):
            tally.add(entry)
        return tally

    async def control_requests_count(self, body: dict):
        return {"count": (await self._tally(self._matcher(body))).count}, 200

    async def control_verify(self, body: dict):
        criteria = {k: v for k, v in body.items() if k not in ("count", "at_least", "at_most")}
        matcher = self._matcher(criteria)
        try:
            expectation = Expectation.parse(body)
        except MatcherError as exc:
            raise _invalid(exc.field, exc.message, exc.value) from None
        answer = verdict(matcher, expectation, await self._tally(matcher))
        return answer, 200 if answer["ok"] else 422

    # --- state snapshots ------------------------------------------------------------------
    async def control_state(self):
        return await self.snapshots.take(), 200

    async def control_state_restore(self, body: dict):
        """Replace the state; the clock shows the snapshot's instant, a move the timelines see
        as a `clock.set` (mockserver.events)."""
        before = await self.ctx.clock.now()
        try:
            answer = await self.snapshots.restore(body)
        except SnapshotError as exc:
            raise _invalid(exc.field or "body", str(exc)) from None
        now = await self.ctx.clock.now()
        await self.events.record("clock.set", before, to=now, seconds=now - before, restore=True)
        return answer, 200

    # --- runtime settings -----------------------------------------------------------------
    async def control_settings(self):
        await self.ctx.runtime.refresh()  # what every worker holds now; a 503 if it can't be read
        return self.ctx.runtime.describe(), 200

    async def control_settings_change(self, api: str, body: dict):
        try:
            return await self.ctx.runtime.change(api, body), 200
        except SettingsChangeError as exc:
            raise _settings_error(exc, api, body) from None

    async def control_settings_clear(self, api: str | None = None):
        try:
            await self.ctx.runtime.clear(api)
        except SettingsChangeError as exc:
            raise _settings_error(exc, api) from None
        return None, 204


def _settings_error(
    exc: SettingsChangeError, api: str | None, body: dict | None = None
) -> MockError:
    if exc.status == 404:
        field = FieldError("api", "enum", "unknown API", value_text(api), "path")
        return MockError(404, "not_found", exc.message, fields=[field])
    value = (body or {}).get(exc.setting or "")
    return _invalid(exc.setting or "body", exc.message, masked(value) if exc.secret else value)
