"""The dispatcher's approvals queue: extension (延期) and suspension (挂起) requests pending
in their area, each approved or rejected inline with a reason; a decided request leaves
the queue (web/pages/approvals_data.py says what is pending)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from engine.db import new_session
from engine.users.models import Role
from web.deps import Ctx
from web.pages.approvals_data import pending_requests
from web.pages.people import display_names
from web.pages.templating import PageUser
from web.pages.views import page, require_role, scope_unit

router = APIRouter(include_in_schema=False)

APPROVER_ROLES = {Role.dispatcher, Role.supervisor}


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
    with new_session(ctx.db) as session:
        items = pending_requests(session, principal, city, unit)
        names = display_names(session, {item.actor for item in items})
    return page(
        request,
        ctx,
        "dispatcher/approvals.html",
        user,
        items=items,
        unit=unit,
        names=names,
        fresh_counts=True,  # where requests are decided, the navigation counts afresh
    )
