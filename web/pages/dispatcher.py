"""The dispatcher's desk (per command center): the manual queue with the rule's suggestion
and the text router's top 3 with their confidence (when the router was asked and was not
sure enough), returned cases with the department's reason, one-click dispatch / redispatch,
and likely duplicates to merge (并单)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from engine import access
from engine.cases.models import Case
from engine.db import new_session
from engine.dispatch.queue import manual_queue
from engine.users.models import Principal, Role
from web.context import AppContext
from web.deps import Ctx
from web.pages.forms import action_form
from web.pages.templating import PageUser
from web.pages.views import page, require_role, scope_unit

router = APIRouter(include_in_schema=False)

DISPATCH_ROLES = {Role.dispatcher, Role.admin}
MERGEABLE = ("reported", "registered", "dispatching")
PAGE_SIZE = 50


def merge_candidates(
    session: Session, principal: Principal, ctx: AppContext, limit: int = 50
) -> list[Case]:
    """Flagged likely duplicates that can still be merged, in the dispatcher's scope."""
    query = (
        select(Case)
        .where(
            col(Case.duplicate_of).is_not(None),
            col(Case.state).in_(MERGEABLE),
            access.case_scope(principal, ctx.city),
        )
        .order_by(col(Case.id))
        .limit(limit)
    )
    return list(session.exec(query))


@router.get("/dispatch", response_class=HTMLResponse)
def dispatch_desk(
    request: Request,
    ctx: Ctx,
    user: PageUser,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    principal = require_role(user, DISPATCH_ROLES)
    city = ctx.city
    scope = scope_unit(principal, city)
    if unit not in city.units or not city.is_within(unit, scope):
        unit = scope
    with new_session(ctx.db) as session:
        items, total = manual_queue(session, city, unit, PAGE_SIZE, offset)
        merges = merge_candidates(session, principal, ctx)
    forms = {
        item.case.id: {
            action: action_form(ctx.workflow, action, item.case.state)
            for action in ctx.cases.allowed_actions(principal, item.case)
            if action in ("dispatch", "redispatch", "reject_return")
        }
        for item in items
    }
    return page(
        request, ctx, "dispatcher/queue.html", user, items=items, total=total, unit=unit,
        forms=forms, merges=merges, offset=offset, size=PAGE_SIZE,
    )  # fmt: skip
