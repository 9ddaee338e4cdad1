"""The department's inbox: cases to accept, in progress, due soon (yellow), overdue (red),
and co-handler (协办) tasks; accepting is one click, the rest happens on the case page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from engine.cases.models import Case, CaseTask
from engine.db import new_session
from engine.users.models import Role
from web.deps import Ctx
from web.pages.lights import lit_cases
from web.pages.templating import PageUser
from web.pages.views import page, require_role

router = APIRouter(include_in_schema=False)

OPEN_WORK = ("assigned", "in_progress", "suspended")


def _lead_cases(session: Session, department: str, states: tuple[str, ...]) -> list[Case]:
    query = (
        select(Case)
        .where(Case.lead_department == department, col(Case.state).in_(states))
        .order_by(col(Case.urgency) == "normal", col(Case.updated_at), col(Case.id))
    )
    return list(session.exec(query))


def _co_tasks(session: Session, department: str) -> list[Case]:
    query = (
        select(Case)
        .join(CaseTask, col(CaseTask.case_id) == col(Case.id))
        .where(
            CaseTask.department == department,
            CaseTask.lead == False,  # noqa: E712
            CaseTask.done == False,  # noqa: E712
            col(Case.state).in_(OPEN_WORK),
        )
        .order_by(col(Case.id))
    )
    return list(session.exec(query))


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, ctx: Ctx, user: PageUser) -> Response:
    principal = require_role(user, {Role.handler})
    department = principal.scope or ""
    with new_session(ctx.db) as session:
        calendar = ctx.calendars.get(session)
        lit = lit_cases(session, principal, ctx.city, calendar, ctx.clock.now())
        sections = {
            "to_accept": _lead_cases(session, department, ("assigned",)),
            "in_progress": _lead_cases(session, department, ("in_progress", "suspended")),
        }
        co = _co_tasks(session, department)
    return page(
        request, ctx, "department/inbox.html", user, department=department, sections=sections,
        due_soon=[x for x in lit if x.status.light == "yellow"],
        overdue=[x for x in lit if x.status.light == "red"],
        lights={x.case.id: x.status for x in lit}, co_tasks=co,
    )  # fmt: skip
