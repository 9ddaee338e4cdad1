"""Page sessions: the cookie carries a signed random session id; the session itself (user,
CSRF token, last seen, expiry) lives server-side (``engine.users.sessions``), so logging
out, disabling a user or changing their password, role or scope ends it at once.

The cookie is HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS (directly,
or through a proxy listed in ``GRIDFLOW_TRUSTED_PROXIES``). Every form post carries
``csrf_token``, checked against the session (or, on the login form, against a double-submit
cookie). Rotating the secret key invalidates every cookie, so every session ends.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from engine.db import new_session
from engine.settings import require_secret_key
from engine.users.models import Principal, User
from engine.users.sessions import end_session, find_session, open_session
from web.context import AppContext

SESSION_COOKIE = "gf_session"
LOGIN_CSRF_COOKIE = "gf_login_csrf"


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the login page."""


class CsrfFailed(Exception):
    """A form post without the right CSRF token."""


@dataclass(frozen=True)
class PageSession:
    principal: Principal
    display_name: str
    csrf: str


def _serializer(ctx: AppContext) -> URLSafeSerializer:
    return URLSafeSerializer(require_secret_key(ctx.settings), salt="gridflow-session")


def _idle(ctx: AppContext) -> timedelta:
    return timedelta(minutes=ctx.settings.session_idle_minutes)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start(ctx: AppContext, request: Request, response: Response, user: User) -> None:
    assert user.id is not None
    lifetime = timedelta(hours=ctx.settings.session_max_hours)
    with new_session(ctx.db) as session, session.begin():
        session_id = open_session(session, user.id, ctx.clock.now(), lifetime, _idle(ctx))
    response.set_cookie(
        SESSION_COOKIE,
        _serializer(ctx).dumps(session_id),
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)


def _session_id(ctx: AppContext, request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        value = _serializer(ctx).loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def end(ctx: AppContext, request: Request, response: Response) -> None:
    """Log out: the server forgets the session, the browser its cookie."""
    session_id = _session_id(ctx, request)
    if session_id is not None:
        with new_session(ctx.db) as session, session.begin():
            end_session(session, session_id)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=_secure(request))


def current(ctx: AppContext, request: Request) -> PageSession | None:
    """The request's live page session, looked up once per request."""
    if hasattr(request.state, "page_session"):
        return request.state.page_session
    page = None
    session_id = _session_id(ctx, request)
    if session_id is not None:
        with new_session(ctx.db) as session:
            live = find_session(session, session_id, ctx.clock.now(), _idle(ctx))
        if live is not None:
            user = live.user
            principal = Principal(
                name=user.username, role=user.role, scope=user.scope, user_id=user.id
            )
            page = PageSession(principal, user.display_name or user.username, live.csrf)
    request.state.page_session = page
    return page


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
