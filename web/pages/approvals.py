"""The dispatcher's approvals queue: extension (延期), suspension (挂起) and void (作废)
requests pending in their area, each approved or rejected inline with a reason, and (for
dispatchers) the returned cases; a decided request leaves the queue
(web/pages/approvals_data.py says what is pending)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from engine.db import new_session
from engine.dispatch.queue import QueueFilter, QueueItem, manual_queue
from engine.users.models import Role
from web.deps import Ctx
from web.pages.approvals_data import pending_requests
from web.pages.people import display_names
from web.pages.templating import PageUser
from web.pages.views import page, require_role, scope_unit

router = APIRouter(include_in_schema=False)

APPROVER_ROLES = {Role.dispatcher, Role.supervisor}
RETURNS = QueueFilter(returned_only=True)
MAX_RETURNS = 50  # urgent first, then the longest waiting; the rest on the dispatch queue


@router.get("/approvals", response_class=HTMLResponse)
def approvals(
    request: Request,
    ctx: Ctx,
    user: PageUser,
    unit: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    principal = require_role(user, APPROVER_ROLES)
    city = ctx.city
    scope = scope_unit(principal, city)
    if unit not in city.units or not city.is_within(unit, scope):
        unit = scope
    returns: list[QueueItem] = []
    with new_session(ctx.db) as session:
        items = pending_requests(session, principal, city, unit)
        names = display_names(session, {item.actor for item in items})
        if principal.role is Role.dispatcher:  # returns are the dispatcher's to decide
            returns, _ = manual_queue(session, city, unit, MAX_RETURNS, only=RETURNS)
    forms = {
        item.case.id: [
            action
            for action in ctx.cases.allowed_actions(principal, item.case)
            if action in ("redispatch", "reject_return")
        ]
        for item in returns
    }
    return page(
        request, ctx, "dispatcher/approvals.html", user, items=items, unit=unit, names=names,
        returns=returns, return_forms=forms,
    )  # fmt: skip
