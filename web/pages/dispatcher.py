"""The dispatcher's desk (per command center): the manual queue with the rule's suggestion
and the text router's top 3 with their confidence (when the router was asked and was not
sure enough), returned cases with the department's reason, one-click dispatch / redispatch,
and likely duplicates to merge (并单)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from engine import access
from engine.cases.models import Case
from engine.db import new_session
from engine.dispatch.centers import COMMAND_TIERS
from engine.dispatch.queue import NO_FILTER, QUEUE_ORDERS, QueueFilter, manual_queue
from engine.errors import InvalidInput
from engine.users.models import Principal, Role
from web.context import AppContext
from web.deps import Ctx
from web.pages.forms import action_form
from web.pages.grid import category_groups
from web.pages.list_filters import page_size, size_choices
from web.pages.templating import PageUser
from web.pages.unit_tree import unit_options
from web.pages.views import error_text, page, require_role, scope_unit

router = APIRouter(include_in_schema=False)

DISPATCH_ROLES = {Role.dispatcher, Role.admin}
MERGEABLE = ("reported", "registered", "dispatching")
CHANNELS = ("hotline", "grid", "video", "open311", "web", "upper")
WAITED_HOURS = (1, 4, 24, 72)  # the 等待超过 choices


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
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    category: Annotated[str | None, Query(max_length=10)] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    suggested: Annotated[str | None, Query(max_length=32)] = None,
    waited: Annotated[str | None, Query(max_length=4)] = None,
    sort: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """The queue of ``unit``'s command center and those below it (urgent first, then the
    longest waiting), narrowed by category (or class), channel, the suggested department
    and the hours waited, a page of ``size`` after ``cursor``."""
    principal = require_role(user, DISPATCH_ROLES)
    city = ctx.city
    scope = scope_unit(principal, city)
    if unit not in city.units or not city.is_within(unit, scope):
        unit = scope
    size = page_size(request, ctx.settings.max_page_size)
    error = None
    chosen = {"category": category, "channel": channel, "suggested": suggested}
    chosen["waited"] = waited if waited in {str(h) for h in WAITED_HOURS} else None
    try:
        hours = int(chosen["waited"] or 0)
        since = ctx.clock.now() - timedelta(hours=hours) if hours else None
        only = QueueFilter.checked(
            city, category=category, channel=channel, suggested=suggested, waited_before=since
        )
    except InvalidInput as exc:  # a value the city does not know: the whole queue, and why
        error, only, chosen = error_text(exc), NO_FILTER, {}
    # The order is the dispatcher's choice, kept whatever the filters (and in the pages' links).
    chosen["sort"] = sort if sort in QUEUE_ORDERS and sort != "waiting" else None
    order = QUEUE_ORDERS[chosen["sort"] or "waiting"]
    with new_session(ctx.db) as session:
        try:
            items, total = manual_queue(
                session, city, unit, size, cursor=cursor, only=only, order=order
            )
        except InvalidInput as exc:  # a stale or foreign cursor: the first page
            error, cursor = error_text(exc), None
            items, total = manual_queue(session, city, unit, size, only=only, order=order)
        merges = merge_candidates(session, principal, ctx)
        table = ctx.rules.active(session, ctx.clock.now())
    # The rule behind a suggestion, by its name (a row of an older table, or one without a
    # name, is not named: its id means nothing to a dispatcher).
    rule_names = table.names if table else {}
    forms = {
        item.case.id: {
            action: action_form(ctx.workflow, action, item.case.state)
            for action in ctx.cases.allowed_actions(principal, item.case)
            if action in ("dispatch", "redispatch", "reject_return")
        }
        for item in items
    }
    centers = [
        (code, label)
        for code, label in unit_options(city, scope)
        if city.units[code].tier in COMMAND_TIERS
    ]
    kept = {"unit": unit, **{k: v for k, v in chosen.items() if v}, "size": size}
    return page(
        request, ctx, "dispatcher/queue.html", user, items=items, total=total, unit=unit,
        forms=forms, merges=merges, size=size, sizes=size_choices(ctx.settings.max_page_size),
        centers=centers, cursor=cursor, error=error, chosen=chosen, filtered=only.active,
        category_groups=category_groups(ctx), channels=CHANNELS, waited_hours=WAITED_HOURS,
        departments=sorted(city.departments.values(), key=lambda d: d.code),
        rule_names=rule_names, here=urlencode(kept),
        next_cursor=order.next_cursor([i.case for i in items], size), sorts=tuple(QUEUE_ORDERS),
    )  # fmt: skip
