"""The case page (facts, actions, SLA clocks, dispatch explanation, timeline, photos,
duplicates), taking an action from it, the case search and photos for page users."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from engine.cases import queries
from engine.db import new_session
from engine.errors import GridflowError, NotFound
from engine.search import views as search
from web.deps import Ctx, RowId
from web.pages import sessions
from web.pages.case_data import load_case_page, timeline_facts
from web.pages.form_errors import refusal_words
from web.pages.forms import action_form, check_required, read_action_data
from web.pages.i18n import language
from web.pages.list_filters import category_classes
from web.pages.templating import PageUser
from web.pages.unit_tree import unit_options
from web.pages.views import View, done, error_status, page, safe_next, scope_unit

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
FILTERS = ("state", "channel", "category", "urgency", "department", "unit", "q")


def case_response(
    request: Request, ctx: Ctx, session_page: sessions.PageSession, case_id: int, **values: object
) -> Response:
    view = View(ctx, language(request))
    try:
        with new_session(ctx.db) as session:
            data = load_case_page(ctx, session, session_page.principal, case_id, view)
    except NotFound:
        return page(request, ctx, "cases/missing.html", session_page, 404, case_id=case_id)
    return page(
        request, ctx, "cases/case.html", session_page, data=data, facts=timeline_facts, **values
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: RowId, request: Request, ctx: Ctx, user: PageUser) -> Response:
    return case_response(request, ctx, user, case_id)


@router.post("/cases/{case_id}/act/{action}", response_class=HTMLResponse)
async def take_action(
    case_id: RowId, action: str, request: Request, ctx: Ctx, user: PageUser
) -> Response:
    """Any allowed action from a page form; errors come back on the case page."""
    form = await request.form(max_files=20, max_fields=50)
    sessions.check_csrf(user.csrf, str(form.get("csrf_token") or ""))
    back = safe_next(str(form.get("next") or ""), f"/cases/{case_id}")
    version = str(form.get("version") or "")
    try:
        with new_session(ctx.db) as session:
            case = queries.get_visible(session, user.principal, case_id, ctx.city)
        if action not in ctx.workflow.actions_in(case.state):
            ctx.cases.act(user.principal, case_id, action, {})  # raises "not allowed"
        shape = action_form(ctx.workflow, action, case.state)
        data = await read_action_data(form, shape.fields, ctx.channels.attachments)
        check_required(shape, data)
        expected = int(version) if version.isascii() and version.isdigit() else None
        ctx.cases.act(user.principal, case_id, action, data, expected)
    except NotFound:
        return page(request, ctx, "cases/missing.html", user, 404, case_id=case_id)
    except GridflowError as exc:
        text = refusal_words(exc, View(ctx, language(request)))
        response = case_response(request, ctx, user, case_id, error=text, failed=action)
        response.status_code = error_status(exc)
        return response
    return done(back, action)


@router.get("/cases", response_class=HTMLResponse)
def case_list(
    request: Request,
    ctx: Ctx,
    user: PageUser,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    created_from: Annotated[str | None, Query(max_length=10)] = None,
    created_to: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """Search the cases in the user's scope, newest first. The keyword box is the API's one
    search box (``engine.search``): a case number opens that case, a caller's phone or a
    ticket number finds its cases, other words search the texts through the full-text index."""
    values = {
        name: str(request.query_params.get(name) or "").strip()[:100] or None for name in FILTERS
    }
    filters = queries.CaseFilter(**values)
    zone = ZoneInfo(ctx.city.timezone)
    try:
        if created_from:
            filters.created_after = _day_start(created_from, zone)
        if created_to:
            filters.created_before = _day_start(created_to, zone, next_day=True)
    except ValueError:
        pass
    with new_session(ctx.db) as session:
        where = []
        if filters.q:
            understood = search.understand(session, user.principal, ctx.city, filters.q)
            if understood.case is not None:
                return RedirectResponse(f"/cases/{understood.case.id}", status_code=303)
            where, filters.q = understood.where, None
        cases, total = queries.list_cases(
            session, user.principal, ctx.city, filters, PAGE_SIZE, offset, where=where
        )
    shown = [queries.present(c, user.principal, [], []) for c in cases]
    top = scope_unit(user.principal, ctx.city)
    return page(
        request, ctx, "cases/list.html", user, cases=shown, total=total, offset=offset,
        size=PAGE_SIZE, filters=values, created_from=created_from or "",
        created_to=created_to or "", states=list(ctx.workflow.states),
        classes=category_classes(ctx.city), units=unit_options(ctx.city, top, max_depth=3),
        departments=sorted(ctx.city.departments.values(), key=lambda d: (d.unit, d.code)),
    )  # fmt: skip


def _day_start(text: str, zone: ZoneInfo, next_day: bool = False) -> datetime:
    day = datetime.fromisoformat(text).date()
    start = datetime.combine(day, time(0), zone)
    return start + timedelta(days=1) if next_day else start


@router.get("/files/{ref}")
def photo(ref: str, ctx: Ctx, user: PageUser) -> Response:
    """A stored photo, for whoever may see one of its cases (or uploaded it: not attached)."""
    from web.api.attachments import visible_photo  # the one visibility check, API and pages

    found = visible_photo(ctx, user.principal, ref)
    if found is None:
        return Response(status_code=404)
    path, content_type = found
    return FileResponse(path, media_type=content_type)
