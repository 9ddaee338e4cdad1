"""Traffic lights of open cases for a department's inbox: which of its open stage runs are
yellow or red now, counted and a page of the most pressing (the read model
``view_stage_light``, by its department index), and where the cases it shows stand (each
one's running SLA clock). (The board counts lights from the same read model.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from engine.calendar import WorkCalendar
from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.sla.limits import SlaSettings
from engine.sla.models import SlaClock
from engine.sla.views import StageStatus, stage_status
from engine.views.facts import LIGHTS as RUNS
from engine.views.filters import light_expression

PRESSING = ("yellow", "red")  # 即将超时, 已超时


@dataclass
class Lit:
    case: Case
    status: StageStatus


@dataclass
class Pressing:
    """A department's yellow and red open stage runs now: how many of each, and the case ids
    of the ``limit`` soonest due of each."""

    totals: dict[str, int]
    ids: dict[str, list[int]]


def pressing(session: Session, department: str, now: datetime, limit: int) -> Pressing:
    """Read from ``view_stage_light`` (the department's open runs, by
    ``ix_view_stage_light_department``), so the cost follows its open work, never the cases
    it handled before. A run belongs to the department that led the case when it began."""
    c, light = RUNS.c, light_expression(now)
    mine = c.department == department
    connection = session.connection()
    counted = select(light, func.count()).where(mine, light.in_(PRESSING)).group_by(light)
    totals = {name: 0 for name in PRESSING} | dict(connection.execute(counted).all())
    ids = {
        name: list(
            connection.execute(
                select(c.case_id)
                .where(mine, light == name)
                .order_by(c.due_at, c.case_id)
                .limit(limit)
            ).scalars()
        )
        for name in PRESSING
    }
    return Pressing(totals, ids)


def lit_cases(
    session: Session,
    ids: Iterable[int],
    city: CityDirectory,
    calendar: WorkCalendar,
    now: datetime,
) -> list[Lit]:
    """These cases with a running (or paused) clock, and where it stands."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    join = and_(col(SlaClock.case_id) == col(Case.id), col(SlaClock.stopped_at).is_(None))
    query = select(Case, SlaClock).join(SlaClock, join).where(col(Case.id).in_(wanted))
    settings = SlaSettings.of(city)
    return [
        Lit(case, stage_status(clock, now, calendar, settings))
        for case, clock in session.exec(query)
    ]
