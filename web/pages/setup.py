"""Mount the pages on the app: static assets, page routers, login redirects, CSRF refusals."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from web.pages import auth, sessions
from web.pages.i18n import language, translator

STATIC = Path(__file__).resolve().parent.parent / "static"
# Page routers, in order; each feature's pages append theirs.
PAGE_ROUTERS = [auth]


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in PAGE_ROUTERS:
        app.include_router(module.router)

    @app.exception_handler(sessions.LoginRequired)
    async def to_login(request: Request, _: sessions.LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(sessions.CsrfFailed)
    async def csrf_failed(request: Request, _: sessions.CsrfFailed) -> Response:
        text = translator(language(request))("csrf_failed")
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><p>{text}</p>", status_code=403)
