"""Manual dispatch and dispatch explanations.

``GET /api/v1/dispatch/queue``: a command center's manual queue (待派遣 and 退单 cases) with
the rule's suggestion, the text router's top 3 when it was asked but not sure enough, and,
for returns, the department's reason; the dispatcher then uses
the ``dispatch`` / ``redispatch`` actions. ``GET /api/v1/cases/{id}/dispatch``: which rule
decided, the conditions that held, the rows tried before it, the table version and who
chose the department.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from engine.cases import queries
from engine.cases.models import CasePublic
from engine.dispatch.explain import explain_case
from engine.dispatch.inbox import Section, section_page
from engine.dispatch.queue import QUEUE_ORDERS, QueueFilter, RouterAdvice, manual_queue
from engine.errors import Forbidden, InvalidInput
from engine.users.models import Principal, Role
from engine.views.models import ViewStageLight
from web.context import AppContext
from web.deps import Ctx, CurrentPrincipal, DbSession, RowId

router = APIRouter(tags=["dispatch"])

QUEUE_ROLES = {Role.dispatcher, Role.supervisor, Role.admin}


class RankedLabel(BaseModel):
    label: str  # a department code (target "department") or a category code
    confidence: float  # calibrated, 0 to 1


class RouterSuggestions(BaseModel):
    """The text router's answer for a case the rules could not place (智能分拨建议)."""

    target: str  # department | category
    top3: list[RankedLabel]  # best first
    confidence: float | None  # of the best guess
    threshold: float | None  # the auto-dispatch threshold it fell short of
    model_version: str | None


class QueueEntry(BaseModel):
    case: CasePublic
    suggestion: str | None  # the rule row's department, when it named one
    router: RouterSuggestions | None = None  # the text router's top 3, when it was asked
    rule: str | None
    reason: str | None  # why the case is in the queue
    return_reason: str | None  # returned cases: the department's reason …
    returned_by: str | None  # … and that department
    returned_at: datetime | None


class QueuePage(BaseModel):
    unit: str
    items: list[QueueEntry]
    total: int
    limit: int
    offset: int
    next_cursor: str | None = None  # pass as ``cursor`` for the next page; None: last page


class TaskView(BaseModel):
    department: str
    lead: bool
    done: bool  # a co-handler has reported (co_report)


class RuleRef(BaseModel):
    id: str
    row: int  # 1-based position in the table
    name: str
    note: str
    line: int | None
    default: bool


class TriedRow(BaseModel):
    rule_id: str
    row: int
    field: str  # the first condition that failed
    expected: Any  # what the row asks for
    actual: Any  # what the case had; for keyword conditions the keywords the text HAS
    missing: list[str] | None = None  # keywords_all / keywords_any: the words the text lacks


class DecisionView(BaseModel):
    at: datetime
    action: str  # dispatch | queue
    rule_id: str | None
    rules_version: str | None
    department: str | None
    queue_unit: str | None
    reason: str | None
    input: dict[str, Any]
    source: str = "rule"  # rule | router (the rules had no confident answer; see below)
    model_version: str | None = None  # the text router's models, when it was asked
    router_target: str | None = None  # what it predicted: department | category
    confidence: float | None = None  # of its best guess
    threshold: float | None = None  # the auto-dispatch threshold it was held to
    candidates: list[RankedLabel] | None = None  # its top 3, best first
    rule: RuleRef | None
    conditions: dict[str, Any]  # each condition of the rule and the value that held
    outputs: dict[str, Any] | None
    tried: list[TriedRow]


class HistoryEntry(BaseModel):
    seq: int
    at: datetime
    action: str
    actor: str
    actor_role: str
    to_state: str | None
    data: dict[str, Any]


class DispatchView(BaseModel):
    case_id: int
    state: str
    source: str | None  # rule | person | router
    department: str | None
    tasks: list[TaskView]
    queue: str | None  # the command center a return goes back to
    rule_id: str | None
    rules_version: str | None
    decision: DecisionView | None  # the rule decision (None: dispatched by hand only)
    history: list[HistoryEntry]


def _queue_unit(ctx: AppContext, principal: Principal, unit: str | None) -> str:
    if principal.role not in QUEUE_ROLES:
        raise Forbidden(f"role '{principal.role}' has no dispatch queue")
    city = ctx.city
    scope = principal.scope or (city.root if principal.role is Role.admin else None)
    if scope is None:
        raise Forbidden("your account has no scope")
    unit = unit or scope
    if unit not in city.units:
        raise InvalidInput("unit", f"unknown unit {unit!r}")
    if principal.role is not Role.admin and not city.is_within(unit, scope):
        raise Forbidden(f"unit {unit} is outside your scope ({scope})")
    return unit


@router.get("/api/v1/dispatch/queue", response_model=QueuePage)
def dispatch_queue(
    ctx: Ctx,
    session: DbSession,
    principal: CurrentPrincipal,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the page before")
    ] = None,
    category: Annotated[
        str | None, Query(max_length=10, description="a category code, or a 2-digit class")
    ] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    suggested: Annotated[
        str | None,
        Query(max_length=32, description="department the latest dispatch decision suggested"),
    ] = None,
    waited_hours: Annotated[
        int | None, Query(ge=1, le=8760, description="waiting at least this many hours")
    ] = None,
    sort: Annotated[
        Literal["waiting", "newest"],
        Query(description="urgent first, then the longest waiting (default) or the newest"),
    ] = "waiting",
) -> QueuePage:
    """Cases waiting for a dispatcher at ``unit``'s command center or below (default: the
    caller's), urgent first, then the longest waiting (``sort=newest``: the latest to
    arrive), narrowed by category (or class), channel, the
    suggested department and the time waited. Page on with ``cursor`` (``offset`` still
    works), passing the same filters."""
    unit = _queue_unit(ctx, principal, unit)
    if cursor is not None and offset:
        raise InvalidInput("offset", "cannot be combined with cursor")
    waited_before = ctx.clock.now() - timedelta(hours=waited_hours) if waited_hours else None
    only = QueueFilter.checked(
        ctx.city,
        category=category,
        channel=channel,
        suggested=suggested,
        waited_before=waited_before,
    )
    order = QUEUE_ORDERS[sort]
    items, total = manual_queue(
        session, ctx.city, unit, limit, offset, cursor=cursor, only=only, order=order
    )
    ids = [i.case.id for i in items if i.case.id is not None]
    co = queries.co_handlers(session, ids)
    entries = [
        QueueEntry(
            case=queries.present(
                i.case,
                principal,
                co.get(i.case.id or 0, []),
                ctx.cases.allowed_actions(principal, i.case),
            ),
            suggestion=i.suggestion,
            router=_router(i.router),
            rule=i.rule,
            reason=i.reason,
            return_reason=i.return_reason,
            returned_by=i.returned_by,
            returned_at=i.returned_at,
        )
        for i in items
    ]
    next_cursor = order.next_cursor([i.case for i in items], limit)
    return QueuePage(
        unit=unit, items=entries, total=total, limit=limit, offset=offset, next_cursor=next_cursor
    )


class InboxPage(BaseModel):
    department: str
    section: Section
    items: list[CasePublic]
    total: int
    limit: int
    next_cursor: str | None = None  # pass as ``cursor`` for the next page; None: last page


@router.get("/api/v1/inbox", response_model=InboxPage)
def department_inbox(
    ctx: Ctx,
    session: DbSession,
    principal: CurrentPrincipal,
    section: Section = Section.to_accept,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the page before")
    ] = None,
) -> InboxPage:
    """The caller's department inbox (待办箱): cases to accept, in progress (and suspended),
    or co-handled with the department's report due. Urgent first, then due soonest (by the
    open SLA stage run; co-handled ones, with no run of their own: the longest waiting)."""
    if principal.role is not Role.handler or not principal.scope:
        raise Forbidden("only a department's handlers have an inbox")
    cases, total, after = section_page(
        session, ViewStageLight, principal.scope, section, limit, cursor, urgent_first=True
    )
    co = queries.co_handlers(session, [c.id for c in cases if c.id is not None])
    items = [
        queries.present(
            c, principal, co.get(c.id or 0, []), ctx.cases.allowed_actions(principal, c)
        )
        for c in cases
    ]
    return InboxPage(
        department=principal.scope,
        section=section,
        items=items,
        total=total,
        limit=limit,
        next_cursor=after,
    )


def _router(advice: RouterAdvice | None) -> RouterSuggestions | None:
    if advice is None:
        return None
    return RouterSuggestions(
        target=advice.target,
        top3=[RankedLabel(label=label, confidence=p) for label, p in advice.candidates],
        confidence=advice.confidence,
        threshold=advice.threshold,
        model_version=advice.model_version,
    )


@router.get("/api/v1/cases/{case_id}/dispatch", response_model=DispatchView)
def case_dispatch(
    case_id: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> DispatchView:
    """Why the case went where it went: the rule, its conditions, the rows tried before
    it, the table version (old versions are kept) and who chose the department."""
    case = queries.get_visible(session, principal, case_id, ctx.city)
    return DispatchView.model_validate(explain_case(session, ctx.rules, case))
