"""Channel intake: the 12345 hotline, grid workers' reports and check list, AI video alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from adapters import grid, hotline
from adapters.video import VideoAlertIn
from engine.cases import queries
from engine.cases.models import Case, CasePublic
from engine.errors import TooLarge
from engine.users.models import Principal
from web.context import AppContext
from web.deps import Ctx, CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/intake", tags=["intake"])


class TicketResult(BaseModel):
    index: int
    ticket_no: str
    case_id: int
    created: bool
    state: str


class HotlineBatchResult(BaseModel):
    results: list[TicketResult]


class VideoResult(BaseModel):
    case_id: int
    created: bool  # this alert opened a case
    merged: bool  # this alert was counted into an open case (alert storm)
    duplicate: bool  # this alert id was received before
    state: str
    alert_count: int


class GridTask(BaseModel):
    action: str  # verify_report (核实) or verify (核查)
    case: CasePublic


class GridTasks(BaseModel):
    items: list[GridTask]


def _view(ctx: AppContext, session: DbSession, principal: Principal, case: Case) -> CasePublic:
    return queries.public_view(session, principal, case, ctx.cases.allowed_actions(principal, case))


@router.post(
    "/hotline",
    status_code=201,
    response_model=CasePublic,
    responses={200: {"model": CasePublic, "description": "ticket filed before: its case"}},
)
def hotline_ticket(
    ticket: hotline.HotlineTicket,
    ctx: Ctx,
    session: DbSession,
    principal: CurrentPrincipal,
    response: Response,
) -> CasePublic:
    """File a 12345 ticket. The same ``ticket_no`` again returns the first case (200)."""
    result = hotline.file_ticket(ctx.cases, principal, ticket)
    if not result.created:
        response.status_code = 200
    return _view(ctx, session, principal, result.case)


@router.post("/hotline/batch", response_model=HotlineBatchResult)
def hotline_batch(
    batch: hotline.HotlineBatch, ctx: Ctx, principal: CurrentPrincipal
) -> HotlineBatchResult:
    """File many tickets in one transaction; all are checked first, all or none are written."""
    if len(batch.tickets) > ctx.settings.max_batch_size:
        raise TooLarge(f"at most {ctx.settings.max_batch_size} tickets per batch")
    results = hotline.file_tickets(ctx.cases, principal, batch.tickets)
    return HotlineBatchResult(
        results=[
            TicketResult(
                index=i,
                ticket_no=t.ticket_no,
                case_id=r.case.id or 0,
                created=r.created,
                state=r.case.state,
            )
            for i, (t, r) in enumerate(zip(batch.tickets, results, strict=True))
        ]
    )


@router.post(
    "/grid",
    status_code=201,
    response_model=CasePublic,
    responses={200: {"model": CasePublic, "description": "report sent before: its case"}},
)
def grid_report(
    report: grid.GridReport,
    ctx: Ctx,
    session: DbSession,
    principal: CurrentPrincipal,
    response: Response,
) -> CasePublic:
    """A grid worker's report; ``self_handled`` closes it at once with before/after photos."""
    result = grid.file_report(ctx.cases, ctx.channels.attachments, principal, report)
    if not result.created:
        response.status_code = 200
    return _view(ctx, session, principal, result.case)


@router.get("/grid/tasks", response_model=GridTasks)
def grid_tasks(
    ctx: Ctx,
    session: DbSession,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> GridTasks:
    """Cases waiting for the worker on site: 核实 (verifying) and 核查 (resolved)."""
    found = grid.verification_tasks(session, principal, ctx.city, limit)
    return GridTasks(
        items=[GridTask(action=a, case=_view(ctx, session, principal, c)) for a, c in found]
    )


@router.post(
    "/video",
    status_code=201,
    response_model=VideoResult,
    responses={200: {"model": VideoResult, "description": "counted into an open case"}},
)
def video_alert(
    alert: VideoAlertIn, ctx: Ctx, principal: CurrentPrincipal, response: Response
) -> VideoResult:
    """An AI video alert: a new case (201), or counted into the storm's open case (200)."""
    outcome = ctx.channels.video.ingest(ctx.cases, principal, alert)
    if not outcome.created:
        response.status_code = 200
    case = outcome.case
    return VideoResult(
        case_id=case.id or 0,
        created=outcome.created,
        merged=outcome.merged,
        duplicate=outcome.duplicate,
        state=case.state,
        alert_count=case.alert_count,
    )
