"""`build_app(settings)`: the ASGI app that serves every enabled API at its native paths.

It builds the context (store, clock, journal, faults), one gate per enabled API (mockserver.http
.gate, in front of that API's engine), the control API at `/__mock` and the docs at
`/__mock/docs`, and hands the route table to the dispatcher (mockserver.http.dispatch).
"""

from __future__ import annotations

from typing import Any

from mockserver.apis import api_class, api_names
from mockserver.cli import version
from mockserver.control import ControlHandlers, render_control_error
from mockserver.core.clock import Clock
from mockserver.core.context import MockContext
from mockserver.core.redaction import Redactor
from mockserver.docs.dashboard import DashboardApp
from mockserver.docs.landing import ApiPageRedirects, LandingPage
from mockserver.docs.live import DocsApp
from mockserver.faults import Faults
from mockserver.http.apps import bundled_specs_trusted, control_app
from mockserver.http.dispatch import MockServerApp, token_gate
from mockserver.http.gate import ApiGate
from mockserver.journal import Journal
from mockserver.runtime_settings import RuntimeSettings, refreshing
from mockserver.settings import Settings, SettingsError
from mockserver.spec.loader import SPEC_DIR, operations, parsed_spec
from mockserver.store import open_store

__all__ = ["build_app", "MockServerApp"]


def _context(settings: Settings, enabled: list[str]) -> MockContext:
    try:
        store = open_store(settings.store)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    classes = [api_class(name) for name in enabled]
    redactor = Redactor(
        headers=[h for c in classes for h in c.secret_headers],
        fields=[f for c in classes for f in c.secret_fields],
        params=[q for c in classes for q in c.secret_params],
    )
    return MockContext(
        settings=settings,
        store=store,
        clock=Clock(store),
        journal=Journal(store, cap=settings.journal_cap, apis=list(enabled), redactor=redactor),
        faults=Faults(store, list(enabled)),
    )


def _enabled(settings: Settings) -> list[str]:
    enabled = settings.apis or api_names()
    unknown = [n for n in enabled if n not in api_names()]
    if unknown:
        raise SettingsError(f"unknown API {unknown[0]!r}; known: {', '.join(api_names())}")
    stray = sorted(set(settings.api_settings) - set(api_names()))
    if stray:
        raise SettingsError(f"settings for unknown API {stray[0]!r}")
    return list(enabled)


def build_app(settings: Settings | None = None) -> MockServerApp:
    settings = settings or Settings()
    enabled = _enabled(settings)
    ctx = _context(settings, enabled)
    routes: list[tuple[str, Any]] = []
    with bundled_specs_trusted():
        for name in enabled:
            cls = api_class(name)
            try:
                config = cls.make_config(settings.for_api(name))
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
            api = ctx.apis[name] = cls(ctx, config)
            gate = ApiGate(ctx, api, settings)
            routes.extend((prefix, gate) for prefix in cls.prefixes)
        startup = {name: settings.for_api(name) for name in enabled}
        ctx.runtime = RuntimeSettings(ctx.store, ctx.apis, startup, settings.api_sources)
        control = ControlHandlers(ctx)
        if settings.control:
            ops = operations(parsed_spec("control.yaml"), "/__mock")
            for name, api in ctx.apis.items():
                if api.control_spec:
                    ops += operations(parsed_spec(f"control/{api.control_spec}"), f"/__mock/{name}")
            app = control_app(control, ctx.apis, settings, ops, render_control_error)
            token = settings.control_token
            app = LandingPage(app, ctx.apis, version())
            app = refreshing(app, ctx.runtime, render_control_error)
            routes.append(("/__mock", token_gate(app, token, render_control_error)))
            specs = [(n, a.spec, a.control_spec) for n, a in ctx.apis.items()]
            docs = ApiPageRedirects(DocsApp(SPEC_DIR, specs), [*ctx.apis, "control"])
            routes.append(("/__mock/docs", token_gate(docs, token, render_control_error)))
            routes.append(("/__mock/ui", DashboardApp()))  # static; its calls carry the token
    server = MockServerApp(settings, ctx, routes, control)
    control.scenarios.bind(server)  # scenario steps call the control API in process
    return server
