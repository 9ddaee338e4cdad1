"""Operations pages for administrators: the working-calendar overrides, dead-lettered
webhooks (redeliver) and timer incidents (retry or dismiss)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from engine.db import new_session
from engine.errors import GridflowError, InvalidInput
from engine.isotime import IsoDate
from engine.outbox import leases as outbox
from engine.outbox.models import OutboxStatus
from engine.sla import calendars
from engine.timers import incidents
from engine.users.models import Role
from web.deps import Ctx, RowId
from web.pages import sessions
from web.pages.admin import admin_form
from web.pages.templating import PageUser
from web.pages.views import done, error_text, page, require_role

router = APIRouter(include_in_schema=False)


def _calendar_page(
    request: Request, ctx: Ctx, user: sessions.PageSession, status_code: int = 200, **values: object
) -> Response:
    with new_session(ctx.db) as session:
        rows = calendars.list_overrides(session)
        calendar = ctx.calendars.get(session)
    year = calendar.local_date(ctx.clock.now()).year
    warnings = [w for y in (year, year + 1) if (w := calendar.coverage_warning(y))]
    config = ctx.city.settings.get("calendar", {}).get("overrides", {})
    return page(
        request, ctx, "admin/calendar.html", user, status_code, rows=rows, config=config,
        warnings=warnings,
        **values,
    )  # fmt: skip


@router.get("/admin/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, {Role.admin})
    return _calendar_page(request, ctx, user)


@router.post("/admin/calendar", response_class=HTMLResponse)
async def set_day(request: Request, ctx: Ctx, user: PageUser) -> Response:
    form = await admin_form(request, user)
    try:
        try:
            day = date.fromisoformat(form.get("day", ""))
        except ValueError:
            raise InvalidInput("day", "a date YYYY-MM-DD") from None
        with new_session(ctx.db) as session, session.begin():
            calendars.set_override(
                session, day, form.get("kind", ""), form.get("note", "")[:200],
                user.principal.name, ctx.clock.now(),
            )  # fmt: skip
        ctx.calendars.invalidate()
    except GridflowError as exc:
        return _calendar_page(request, ctx, user, 422, error=error_text(exc))
    return done("/admin/calendar", "saved")


@router.post("/admin/calendar/{day}/delete", response_class=HTMLResponse)
async def delete_day(day: IsoDate, request: Request, ctx: Ctx, user: PageUser) -> Response:
    await admin_form(request, user)
    try:
        with new_session(ctx.db) as session, session.begin():
            calendars.delete_override(session, day)
        ctx.calendars.invalidate()
    except GridflowError as exc:
        return _calendar_page(request, ctx, user, 404, error=error_text(exc))
    return done("/admin/calendar", "saved")


@router.get("/admin/outbox", response_class=HTMLResponse)
def dead_letters(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, {Role.admin})
    rows, total = outbox.list_messages(ctx.db, OutboxStatus.dead, 100, 0)
    return page(request, ctx, "admin/outbox.html", user, rows=rows, total=total)


@router.post("/admin/outbox/{message_id}/redeliver", response_class=HTMLResponse)
async def redeliver(message_id: RowId, request: Request, ctx: Ctx, user: PageUser) -> Response:
    await admin_form(request, user)
    try:
        outbox.redeliver(ctx.db, message_id, ctx.clock.now())
    except GridflowError as exc:
        rows, total = outbox.list_messages(ctx.db, OutboxStatus.dead, 100, 0)
        return page(
            request, ctx, "admin/outbox.html", user, 409, rows=rows, total=total,
            error=error_text(exc),
        )  # fmt: skip
    return done("/admin/outbox", "saved")


@router.get("/admin/incidents", response_class=HTMLResponse)
def incident_list(request: Request, ctx: Ctx, user: PageUser) -> Response:
    require_role(user, {Role.admin})
    with new_session(ctx.db) as session:
        rows, total = incidents.list_incidents(session, 100, 0)
    return page(request, ctx, "admin/incidents.html", user, rows=rows, total=total)


@router.post("/admin/incidents/{timer_id}/{what}", response_class=HTMLResponse)
async def handle_incident(
    timer_id: RowId, what: str, request: Request, ctx: Ctx, user: PageUser
) -> Response:
    await admin_form(request, user)
    try:
        with new_session(ctx.db) as session, session.begin():
            if what == "retry":
                incidents.retry(session, timer_id)
            elif what == "dismiss":
                incidents.dismiss(session, timer_id, user.principal.name)
            else:
                raise InvalidInput("what", "retry or dismiss")
    except GridflowError as exc:
        with new_session(ctx.db) as session:
            rows, total = incidents.list_incidents(session, 100, 0)
        return page(
            request, ctx, "admin/incidents.html", user, 409, rows=rows, total=total,
            error=error_text(exc),
        )  # fmt: skip
    return done("/admin/incidents", "saved")
