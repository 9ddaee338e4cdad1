"""Mount the pages on the app: static assets, page routers, login redirects, CSRF refusals."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from web.pages import (
    admin,
    admin_ops,
    admin_rules,
    approvals,
    auth,
    board,
    cases,
    department,
    dispatcher,
    grid,
    knowledge,
    kpis,
    operator,
    sessions,
)
from web.pages.head_requests import HeadAsGet
from web.pages.i18n import language, translator
from web.pages.views import PageForbidden

STATIC = Path(__file__).resolve().parent.parent / "static"
# Page routers, in order; each feature's pages append theirs.
PAGE_ROUTERS = [auth, cases, operator, dispatcher, department, grid, board, admin]
PAGE_ROUTERS += [admin_rules, admin_ops, approvals]
PAGE_ROUTERS += [knowledge]
PAGE_ROUTERS += [kpis]


def install(app: FastAPI) -> None:
    app.add_middleware(HeadAsGet)  # HEAD on a page answers as GET, without the body
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in PAGE_ROUTERS:
        app.include_router(module.router)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon")

    @app.exception_handler(sessions.LoginRequired)
    async def to_login(request: Request, _: sessions.LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(sessions.CsrfFailed)
    async def csrf_failed(request: Request, _: sessions.CsrfFailed) -> Response:
        text = translator(language(request))("csrf_failed")
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><p>{text}</p>", status_code=403)

    @app.exception_handler(PageForbidden)
    async def page_forbidden(request: Request, _: PageForbidden) -> Response:
        text = translator(language(request))("forbidden_page")
        body = f'<!doctype html><meta charset=utf-8><p>{text}</p><p><a href="/">⌂</a></p>'
        return HTMLResponse(body, status_code=403)
