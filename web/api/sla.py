"""SLA routes: a case's stage clocks, and the supervision queue (督办)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from engine.cases import queries
from engine.city.models import Tier
from engine.errors import Forbidden
from engine.sla.views import CaseSla, SupervisionQueue, case_sla, supervision_queue
from engine.users.models import Role
from web.deps import Ctx, CurrentPrincipal, DbSession, RowId

router = APIRouter(prefix="/api/v1", tags=["sla"])

QUEUE_ROLES = {Role.supervisor, Role.dispatcher, Role.admin, Role.system}


@router.get("/cases/{case_id}/sla", response_model=CaseSla)
def get_case_sla(
    case_id: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> CaseSla:
    """Every SLA stage of the case: started, due (UTC and city time), paused time, share of
    the limit used and its light. ``warnings`` flags deadlines in a year without an official
    holiday schedule."""
    case = queries.get_visible(session, principal, case_id, ctx.city)
    calendar = ctx.calendars.get(session)
    return case_sla(session, case, ctx.city, calendar, ctx.workflow, ctx.clock.now())


@router.get("/supervision", response_model=SupervisionQueue)
def get_supervision_queue(
    ctx: Ctx,
    session: DbSession,
    principal: CurrentPrincipal,
    tier: Annotated[Tier | None, Query(description="the supervising tier")] = None,
    unit: Annotated[str | None, Query(description="the supervising unit")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SupervisionQueue:
    """Open cases under supervision in the caller's scope, most overdue first."""
    if principal.role not in QUEUE_ROLES:
        raise Forbidden(f"role '{principal.role}' has no supervision queue")
    return supervision_queue(
        session,
        principal,
        ctx.city,
        ctx.calendars.get(session),
        ctx.clock.now(),
        tier=tier.value if tier else None,
        unit=unit,
        limit=limit,
        offset=offset,
    )
