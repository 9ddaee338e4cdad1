"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from engine.clock import Clock
from engine.settings import Settings, get_settings
from web import errors
from web.api import auth, cases, health
from web.context import AppContext, build_context


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    context: AppContext | None = None,
) -> FastAPI:
    ctx = context or build_context(settings or get_settings(), clock)
    app = FastAPI(
        title="gridflow",
        description="Grid-governance event dispatch engine (一网统管): cases, dispatch, SLAs.",
        version="0.1.0",
    )
    app.state.ctx = ctx
    errors.install(app)
    for module in (health, auth, cases):
        app.include_router(module.router)
    return app
