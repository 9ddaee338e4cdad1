"""Traffic lights of open cases, listed for a department's inbox: each open case's running SLA
clock and where it stands. (The board counts lights from the read models: engine.views.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from engine.calendar import WorkCalendar
from engine.cases.models import Case, CaseTask
from engine.city.directory import CityDirectory
from engine.sla.limits import SlaSettings
from engine.sla.models import SlaClock
from engine.sla.views import StageStatus, stage_status

LIGHTS = ("green", "yellow", "red")


@dataclass
class Lit:
    case: Case
    status: StageStatus


def department_work(department: str, open_states: Iterable[str]) -> ColumnElement[bool]:
    """A department's own open work: the cases it leads that are not closed (ix_case_inbox:
    lead department, state) and those it co-handles with its part not yet reported
    (ix_case_task_open). Within a handler's scope, and read from indexes over open cases
    only, however many cases the department handled before."""
    co_tasks = select(CaseTask.case_id).where(
        col(CaseTask.department) == department,
        col(CaseTask.lead) == False,  # noqa: E712
        col(CaseTask.done) == False,  # noqa: E712
    )
    leads = and_(col(Case.lead_department) == department, col(Case.state).in_(open_states))
    return or_(leads, col(Case.id).in_(co_tasks))


def lit_cases(
    session: Session,
    department: str,
    open_states: Iterable[str],
    city: CityDirectory,
    calendar: WorkCalendar,
    now: datetime,
) -> list[Lit]:
    """The department's open work (:func:`department_work`) with a running (or paused)
    clock, due soonest first."""
    join = and_(col(SlaClock.case_id) == col(Case.id), col(SlaClock.stopped_at).is_(None))
    query = (
        select(Case, SlaClock)
        .join(SlaClock, join)
        .where(department_work(department, open_states))
        .order_by(col(SlaClock.due_at), col(Case.id))
    )
    settings = SlaSettings.of(city)
    return [
        Lit(case, stage_status(clock, now, calendar, settings))
        for case, clock in session.exec(query)
    ]
