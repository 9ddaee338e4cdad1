"""Page sessions: a signed, HttpOnly, SameSite=Lax cookie holding the user id and a CSRF token.

Every form post carries ``csrf_token``, checked against the session (or, on the login form,
against a double-submit cookie). The user is re-read on every request, so disabling a user or
changing their role takes effect at once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.db import new_session
from engine.users.models import Principal, User
from web.context import AppContext

SESSION_COOKIE = "gf_session"
LOGIN_CSRF_COOKIE = "gf_login_csrf"
SESSION_SECONDS = 12 * 3600


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the login page."""


class CsrfFailed(Exception):
    """A form post without the right CSRF token."""


@dataclass(frozen=True)
class PageSession:
    principal: Principal
    display_name: str
    csrf: str


def _serializer(ctx: AppContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key, salt="gridflow-session")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start(ctx: AppContext, request: Request, response: Response, user: User) -> None:
    token = _serializer(ctx).dumps({"uid": user.id, "csrf": secrets.token_urlsafe(24)})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)


def end(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)


def current(ctx: AppContext, request: Request) -> PageSession | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(ctx).loads(raw, max_age=SESSION_SECONDS)
    except BadSignature:
        return None
    with new_session(ctx.db) as session:
        user = session.get(User, data.get("uid"))
    if user is None or not user.active:
        return None
    principal = Principal(name=user.username, role=user.role, scope=user.scope, user_id=user.id)
    return PageSession(principal, user.display_name or user.username, str(data["csrf"]))


def login_csrf(request: Request) -> str:
    """The login form's double-submit token: the cookie's, or a new one."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def set_login_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
    )


def check_csrf(expected: str | None, given: str | None) -> None:
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfFailed
