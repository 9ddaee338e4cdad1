"""Login, logout and the home page of each role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.db import new_session
from engine.errors import Unauthorized
from engine.users.lockout import AccountLocked
from engine.users.models import Role
from engine.users.service import authenticate_password
from web.deps import Ctx
from web.pages import sessions
from web.pages.i18n import language, translator
from web.pages.templating import PageUser, render
from web.pages.views import ROLE_HOME, View
from web.proxies import client_address

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login never redirects to another origin."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def landing(target: str | None, role: Role) -> str:
    """Where a login lands: the page that asked for it, else the role's work page."""
    safe = _safe_next(target)
    return ROLE_HOME.get(role, "/") if safe == "/" else safe


def _login_page(
    request: Request, target: str, error: str | None = None, status_code: int = 200
) -> Response:
    token = sessions.login_csrf(request)
    response = render(
        request, "login.html", next=target, error=error, csrf=token, status_code=status_code
    )
    sessions.set_login_csrf(request, response, token)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, _safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=50)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    sessions.check_csrf(request.cookies.get(sessions.LOGIN_CSRF_COOKIE), csrf_token)
    t = translator(language(request))
    try:
        with new_session(ctx.db) as session:
            now, address = ctx.clock.now(), client_address(request)
            user = authenticate_password(session, username, password, now, address)
    except AccountLocked as held:
        response = _login_page(
            request, _safe_next(next), t("locked", seconds=held.retry_after), 429
        )
        response.headers["Retry-After"] = str(held.retry_after)
        return response
    except Unauthorized:
        return _login_page(request, _safe_next(next), t("bad_login"), 401)
    response = RedirectResponse(landing(next, user.role), status_code=303)
    sessions.start(ctx, request, response, user)
    return response


@router.post("/logout")
def logout(
    request: Request,
    ctx: Ctx,
    page: PageUser,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    sessions.check_csrf(page.csrf, csrf_token)
    response = RedirectResponse("/login", status_code=303)
    sessions.end(ctx, request, response)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: Ctx, page: PageUser) -> Response:
    return render(request, "home.html", page=page, v=View(ctx, language(request)))
