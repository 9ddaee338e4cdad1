"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from engine.clock import Clock
from engine.settings import Settings, get_settings, require_secret_key
from web import api_docs, errors, log_redaction, open311, policy, proxies, request_log
from web.api import (
    admin_users,
    attachments,
    auth,
    calendar,
    cases,
    classifier,
    dispatch,
    health,
    incidents,
    intake,
    knowledge,
    kpis,
    metrics,
    outbox,
    review,
    rules,
    sla,
)
from web.context import AppContext, build_context
from web.limits import BodyLimit, IntakeRateLimit
from web.pages import setup as pages
from web.security_headers import SecurityHeaders

# Matched in this order, so the busiest (intake, case actions) come first.
ROUTERS = [
    intake,
    cases,
    health,
    metrics,
    auth,
    admin_users,
    sla,
    calendar,
    incidents,
    attachments,
    outbox,
    open311,
    dispatch,
    rules,
    review,
    kpis,
    knowledge,
    classifier,
]
# Rate-limited per token (POST only) and the paths that take large uploads.
INTAKE_PATHS = ["/api/v1/cases", "/api/v1/intake", "/open311/v2/requests"]
# Page forms that carry photos (case actions, grid reports) or a rule file are uploads too.
UPLOAD_PATHS = ["/api/v1/attachments", "/cases/", "/grid/report", "/admin/rules/"]


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    context: AppContext | None = None,
) -> FastAPI:
    require_secret_key(context.settings if context else settings or get_settings())
    ctx = context or build_context(settings or get_settings(), clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await ctx.start()
        # What start-up built (modules, the city, the ORM's tables, the routes) lives as long
        # as the server: kept out of the collector's full passes, which otherwise walk it all
        # again every few thousand requests (150 ms, measured at 1M cases) and stall the
        # request that triggered it. Unfrozen at the end, so an app in a test leaves nothing.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await ctx.stop()

    app = FastAPI(
        lifespan=lifespan,
        responses=errors.ERROR_RESPONSES,
        dependencies=[Depends(policy.authorize)],
        title="gridflow",
        description="Grid-governance event dispatch engine (一网统管): cases, dispatch, SLAs.",
        version="0.1.0",
        docs_url=None,  # served from the app's own static files: web/api_docs.py
        redoc_url=None,
    )
    app.state.ctx = ctx
    errors.install(app)
    log_redaction.install()  # api_key in a query string never reaches the access log
    settings = ctx.settings
    app.add_middleware(
        IntakeRateLimit,
        clock=ctx.clock,
        rate=settings.intake_rate_per_second,
        burst=settings.intake_burst,
        paths=INTAKE_PATHS,
    )
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        uploads=UPLOAD_PATHS,
    )
    app.add_middleware(SecurityHeaders)
    request_log.install(app, settings.log_format)  # X-Request-ID; GRIDFLOW_LOG_FORMAT=json
    proxies.install(app, settings.trusted_proxies)  # outermost: the others see the real client
    for module in ROUTERS:
        app.include_router(module.router)
    pages.install(app)
    api_docs.install(app)
    return app
