"""Traffic lights of open cases, listed for a department's inbox: each open case's running SLA
clock and where it stands. (The board counts lights from the read models: engine.views.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, select

from engine import access
from engine.calendar import WorkCalendar
from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.sla.limits import SlaSettings
from engine.sla.models import SlaClock
from engine.sla.views import StageStatus, stage_status
from engine.users.models import Principal

LIGHTS = ("green", "yellow", "red")


@dataclass
class Lit:
    case: Case
    status: StageStatus


def lit_cases(
    session: Session,
    principal: Principal,
    city: CityDirectory,
    calendar: WorkCalendar,
    now: datetime,
    *where: Any,
) -> list[Lit]:
    """Open cases in ``principal``'s scope that have a running (or paused) clock."""
    join = and_(col(SlaClock.case_id) == col(Case.id), col(SlaClock.stopped_at).is_(None))
    query = (
        select(Case, SlaClock)
        .join(SlaClock, join)
        .where(access.case_scope(principal, city), col(Case.closed_at).is_(None), *where)
        .order_by(col(SlaClock.due_at), col(Case.id))
    )
    settings = SlaSettings.of(city)
    return [
        Lit(case, stage_status(clock, now, calendar, settings))
        for case, clock in session.exec(query)
    ]
