"""The department's inbox: cases to accept, in progress, due soon (yellow), overdue (red),
and co-handler (协办) tasks; accepting is one click, the rest happens on the case page.
The lists page by keyset cursors: 待签收 and 办理中 due-soonest first by their open SLA stage
run (engine.dispatch.inbox.section_page over the read model view_stage_light), also when filtered by
category class, channel or urgency; 协办任务 urgent first, then the longest waiting
(engine.dispatch.inbox)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from engine.cases import queries
from engine.cases.models import Case
from engine.db import new_session
from engine.dispatch.inbox import Section, section_page
from engine.errors import InvalidInput
from engine.users.models import Principal, Role
from engine.views.models import ViewStageLight
from web.deps import Ctx
from web.pages.i18n import MESSAGES
from web.pages.lights import Lit, Pressing, lit_cases, pressing
from web.pages.list_filters import (
    ListFilters,
    category_classes,
    page_size,
    read_filters,
    size_choices,
)
from web.pages.templating import PageUser
from web.pages.views import error_text, page, require_role

router = APIRouter(include_in_schema=False)

# each list of the inbox -> its cursor parameter (engine.dispatch.inbox says what it holds)
CURSOR_PARAMS = {
    "to_accept": "accept_after",
    "in_progress": "progress_after",
    "co_tasks": "co_after",
}

INBOX_MESSAGES: dict[str, dict[str, str]] = {
    "inbox_order": {
        "zh": "待签收、办理中按办理时限排序，最先到期的在前（挂起的在后）；协办任务紧急优先，"
        "其次等待最久的在前",
        "en": "To accept and in progress: the soonest due first (suspended ones last); "
        "co-handling tasks: urgent first, then the longest waiting",
    },
}
MESSAGES.update(INBOX_MESSAGES)  # the inbox's own text, next to the others


def _section(
    session: Session,
    ctx: Ctx,
    principal: Principal,
    name: str,
    filters: ListFilters,
    size: int,
    cursor: str | None,
) -> tuple[list[Case], int, str | None]:
    """One list of the inbox: a page of it, how many there are, the next page's cursor
    (the filters narrow 待签收 and 办理中; 协办 is not filtered)."""
    where = queries.filter_conditions(filters.case_filter(), ctx.city)
    section = Section(name)
    return section_page(
        session, ViewStageLight, principal.scope or "", section, size, cursor,
        where=where if section is not Section.co_tasks else (),
    )  # fmt: skip


def _pressing(found: Pressing, lit: dict[int, Lit]) -> dict[str, Any]:
    """即将超时 and 已超时: how many, and a page of the most pressing of each (soonest due
    first), so a department with hundreds of late cases still gets one screenful."""
    return {
        "due_soon": [lit[i] for i in found.ids["yellow"] if i in lit],
        "due_soon_total": found.totals["yellow"],
        "overdue": [lit[i] for i in found.ids["red"] if i in lit],
        "overdue_total": found.totals["red"],
    }


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, ctx: Ctx, user: PageUser) -> Response:
    principal = require_role(user, {Role.handler})
    department = principal.scope or ""
    error = None
    try:
        filters = read_filters(request, ctx.city)
    except InvalidInput as exc:
        filters, error = ListFilters(), error_text(exc)
    size = page_size(request, ctx.settings.max_page_size)
    sections, totals, next_cursors = {}, {}, {}
    with new_session(ctx.db) as session:
        for name, param in CURSOR_PARAMS.items():
            cursor = request.query_params.get(param) or None
            try:
                found = _section(session, ctx, principal, name, filters, size, cursor)
            except InvalidInput as exc:  # a stale or foreign cursor: the first page
                error = error_text(exc)
                found = _section(session, ctx, principal, name, filters, size, None)
            sections[name], totals[name], next_cursors[name] = found
        now = ctx.clock.now()
        late = pressing(session, department, now, size)
        shown = [c.id for cases in sections.values() for c in cases]
        ids = [*late.ids["yellow"], *late.ids["red"], *shown]
        calendar = ctx.calendars.get(session)
        lit = {x.case.id: x for x in lit_cases(session, ids, ctx.city, calendar, now)}
    return page(
        request, ctx, "department/inbox.html", user, department=department, sections=sections,
        totals=totals, next_cursors=next_cursors, cursor_params=CURSOR_PARAMS,
        **_pressing(late, lit), lights={i: x.status for i, x in lit.items()}, filters=filters,
        size=size, sizes=size_choices(ctx.settings.max_page_size),
        classes=category_classes(ctx.city), error=error,
    )  # fmt: skip
