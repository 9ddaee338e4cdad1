"""Administration pages: overview, departments, users and API tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import col, select

from engine.db import new_session
from engine.errors import GridflowError, InvalidInput
from engine.outbox.leases import list_messages
from engine.outbox.models import OutboxStatus
from engine.timers.incidents import count_incidents
from engine.users.models import PERSON_ROLES, Role, User, UserCreate
from engine.users.service import (
    check_scope,
    create_user,
    issue_token_row,
    list_tokens,
    revoke_token,
    update_user,
)
from web.deps import Ctx, RowId
from web.pages import sessions
from web.pages.i18n import language, translator
from web.pages.templating import PageUser
from web.pages.unit_tree import unit_options
from web.pages.views import done, error_text, page, require_role

router = APIRouter(include_in_schema=False)

ADMIN = {Role.admin}


async def admin_form(request: Request, user: sessions.PageSession) -> dict[str, str]:
    """The posted fields of an admin form, after the role and CSRF checks."""
    require_role(user, ADMIN)
    posted = await request.form(max_files=1, max_fields=30)
    sessions.check_csrf(user.csrf, str(posted.get("csrf_token") or ""))
    return {k: v for k, v in posted.items() if isinstance(v, str)}


@router.get("/admin", response_class=HTMLResponse)
def overview(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, ADMIN)
    with new_session(ctx.db) as session:
        incidents = count_incidents(session)
    _, dead = list_messages(ctx.db, OutboxStatus.dead, 1, 0)
    return page(request, ctx, "admin/overview.html", user, incidents=incidents, dead=dead)


@router.get("/admin/departments", response_class=HTMLResponse)
def departments(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, ADMIN)
    rows = sorted(ctx.city.departments.values(), key=lambda d: (d.unit, d.code))
    return page(request, ctx, "admin/departments.html", user, departments=rows)


def _users_page(
    request: Request, ctx: Ctx, user: sessions.PageSession, status_code: int = 200, **values: Any
) -> Response:
    with new_session(ctx.db) as session:
        users = list(session.exec(select(User).order_by(col(User.id))))
        tokens = list_tokens(session)
    departments = sorted(ctx.city.departments.values(), key=lambda d: (d.unit, d.code))
    return page(
        request, ctx, "admin/users.html", user, status_code, users=users, tokens=tokens,
        roles=PERSON_ROLES, now=ctx.clock.now(), units=unit_options(ctx.city),
        departments=departments, **values,
    )  # fmt: skip


def scope_error(exc: GridflowError, t: Callable[..., str]) -> str:
    """A refused scope in the admin's words; other errors as they are."""
    details = getattr(exc, "details", None)
    first = details[0] if isinstance(details, list) and details else {}
    if isinstance(first, dict) and first.get("field") == "scope":
        return t("scope_refused")
    return error_text(exc)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, ADMIN)
    return _users_page(request, ctx, user)


@router.post("/admin/users", response_class=HTMLResponse)
async def add_user(request: Request, ctx: Ctx, user: PageUser) -> Response:
    form = await admin_form(request, user)
    try:
        data = UserCreate(
            username=form.get("username", ""),
            display_name=form.get("display_name", ""),
            role=form.get("role", ""),
            scope=form.get("scope") or None,
            password=form.get("password", ""),
        )
        if data.role not in PERSON_ROLES:
            raise InvalidInput("role", "not a person's role")
        with new_session(ctx.db) as session, session.begin():
            create_user(session, data, ctx.city, ctx.clock.now())
    except ValidationError as exc:
        text = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _users_page(request, ctx, user, 422, error=text)
    except GridflowError as exc:
        return _users_page(request, ctx, user, 422, error=scope_error(exc, _t(request)))
    return done("/admin/users", "saved")


def _t(request: Request) -> Callable[..., str]:
    return translator(language(request))


@router.post("/admin/users/{user_id}/scope", response_class=HTMLResponse)
async def set_scope(user_id: RowId, request: Request, ctx: Ctx, user: PageUser) -> Response:
    """A new scope from the org tree (or the departments); the user's sessions and tokens end."""
    form = await admin_form(request, user)
    try:
        with new_session(ctx.db) as session, session.begin():
            scope = form.get("scope") or None
            update_user(session, user_id, ctx.city, now=ctx.clock.now(), scope=scope)
    except GridflowError as exc:
        return _users_page(request, ctx, user, 422, error=scope_error(exc, _t(request)))
    return done("/admin/users", "saved")


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
async def set_active(user_id: RowId, request: Request, ctx: Ctx, user: PageUser) -> Response:
    form = await admin_form(request, user)
    try:
        with new_session(ctx.db) as session, session.begin():
            active = form.get("active") == "1"
            update_user(session, user_id, ctx.city, now=ctx.clock.now(), active=active)
    except GridflowError as exc:
        return _users_page(request, ctx, user, 422, error=error_text(exc))
    return done("/admin/users", "saved")


@router.post("/admin/tokens", response_class=HTMLResponse)
async def add_token(request: Request, ctx: Ctx, user: PageUser) -> Response:
    form = await admin_form(request, user)
    try:
        role = Role(form.get("role", ""))
        if role not in PERSON_ROLES:
            raise InvalidInput("role", "not a person's role")
        days = int(form.get("days") or 365)
        if not 0 <= days <= 3650:
            raise InvalidInput("days", "0 to 3650")
        with new_session(ctx.db) as session, session.begin():
            scope = check_scope(role, form.get("scope") or None, ctx.city)
            token, _ = issue_token_row(
                session, role=role, scope=scope, now=ctx.clock.now(),
                ttl=timedelta(days=days) if days else None, label=form.get("label", "")[:100],
            )  # fmt: skip
    except ValueError as exc:
        return _users_page(request, ctx, user, 422, error=str(exc))
    except GridflowError as exc:
        return _users_page(request, ctx, user, 422, error=error_text(exc))
    return _users_page(request, ctx, user, 201, issued=token)


@router.post("/admin/tokens/{token_id}/revoke", response_class=HTMLResponse)
async def revoke(token_id: RowId, request: Request, ctx: Ctx, user: PageUser) -> Response:
    await admin_form(request, user)
    try:
        with new_session(ctx.db) as session, session.begin():
            revoke_token(session, token_id, ctx.clock.now())
    except GridflowError as exc:
        return _users_page(request, ctx, user, 404, error=error_text(exc))
    return done("/admin/users", "saved")
