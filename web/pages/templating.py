"""Rendering pages: Jinja2 with the translator, the language and the session in every page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from web.deps import Ctx
from web.pages import sessions
from web.pages.i18n import LANG_COOKIE, LANGS, language, translator

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")


def render(
    request: Request,
    name: str,
    page: sessions.PageSession | None = None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    lang = language(request)
    context = {"t": translator(lang), "lang": lang, "page": page, **values}
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def require_session(request: Request, ctx: Ctx) -> sessions.PageSession:
    """The signed-in person (web.policy has read the session already for its check)."""
    page = getattr(request.state, "page_session", None) or sessions.current(ctx, request)
    if page is None:
        raise sessions.LoginRequired
    return page


PageUser = Annotated[sessions.PageSession, Depends(require_session)]
