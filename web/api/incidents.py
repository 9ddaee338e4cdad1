"""Timer incidents for administrators: timers that failed too often to fire."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from engine.timers import incidents
from engine.timers.models import TimerPublic
from web.deps import Admin, DbSession, RowId

router = APIRouter(prefix="/api/v1/admin/incidents", tags=["admin"])


class IncidentList(BaseModel):
    items: list[TimerPublic]
    total: int
    limit: int
    offset: int


@router.get("", response_model=IncidentList)
def list_incidents(
    session: DbSession,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> IncidentList:
    """Timers that failed ``max_attempts`` times, with their last error, oldest due first."""
    rows, total = incidents.list_incidents(session, limit, offset)
    items = [TimerPublic.model_validate(row) for row in rows]
    return IncidentList(items=items, total=total, limit=limit, offset=offset)


@router.post("/{timer_id}/retry", response_model=TimerPublic)
def retry_incident(timer_id: RowId, session: DbSession, _: Admin) -> TimerPublic:
    """Make the timer pending again; the next sweep fires it (or drops it if stale)."""
    with session.begin():
        timer = incidents.retry(session, timer_id)
    return TimerPublic.model_validate(timer)


@router.post("/{timer_id}/dismiss", response_model=TimerPublic)
def dismiss_incident(timer_id: RowId, session: DbSession, admin: Admin) -> TimerPublic:
    """Give up on the timer for good."""
    with session.begin():
        timer = incidents.dismiss(session, timer_id, admin.name)
    return TimerPublic.model_validate(timer)
