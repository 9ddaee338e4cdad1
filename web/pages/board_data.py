"""What the supervisor's board shows for a unit: lights per department and per child unit,
the supervision queue, opened / closed / overdue per day, and open cases per grid."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from engine import access
from engine.calendar import WorkCalendar
from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.sla.models import SlaClock
from engine.sla.views import SupervisionQueue, supervision_queue
from engine.users.models import Principal
from web.pages.lights import LIGHTS, count_lights, lit_cases

DAYS = 14


@dataclass
class Board:
    unit: str
    now: datetime
    totals: dict[str, int]
    by_department: list[tuple[str, dict[str, int]]]
    by_unit: list[tuple[str, dict[str, int]]]
    queue: SupervisionQueue
    warnings: list[str]


def board(
    session: Session,
    principal: Principal,
    city: CityDirectory,
    calendar: WorkCalendar,
    now: datetime,
    unit: str,
) -> Board:
    lit = lit_cases(session, principal, city, calendar, now, _in_unit(city, unit))
    by_department, by_unit = count_lights(lit, city, unit)
    totals = Counter(item.status.light or "green" for item in lit)
    queue = supervision_queue(session, principal, city, calendar, now, limit=100)
    queue.items = [i for i in queue.items if city.is_within(i.owning_unit, unit)]
    year = calendar.local_date(now).year
    warnings = [w for y in (year, year + 1) if (w := calendar.coverage_warning(y))]
    return Board(
        unit=unit,
        now=now,
        totals={light: totals[light] for light in LIGHTS},
        by_department=by_department.rows(),
        by_unit=by_unit.rows(),
        queue=queue,
        warnings=warnings,
    )


def _in_unit(city: CityDirectory, unit: str) -> Any:
    if unit == city.root:
        return col(Case.id).is_not(None)
    return col(Case.owning_unit).in_(city.subtree(unit))


@dataclass
class DaySeries:
    days: list[date]
    opened: list[int]
    closed: list[int]
    overdue: list[int]


def daily_series(
    session: Session,
    principal: Principal,
    city: CityDirectory,
    calendar: WorkCalendar,
    now: datetime,
    unit: str,
    days: int = DAYS,
) -> DaySeries:
    """Per local day, the last ``days`` days: cases opened, closed, and deadlines missed."""
    today = calendar.local_date(now)
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(), tzinfo=calendar.zone).astimezone(UTC)
    scope = (access.case_scope(principal, city), _in_unit(city, unit))
    local = calendar.local_date
    created = select(Case.created_at).where(*scope, col(Case.created_at) >= start)
    opened = Counter(local(at) for at in session.exec(created))
    closed_at = select(Case.closed_at).where(
        *scope, Case.state == "closed", col(Case.closed_at) >= start
    )
    closed = Counter(local(at) for at in session.exec(closed_at) if at is not None)
    missed = (
        select(SlaClock.due_at)
        .join(Case, col(Case.id) == col(SlaClock.case_id))
        .where(
            *scope,
            col(SlaClock.due_at) >= start,
            col(SlaClock.due_at) <= now,
            or_(col(SlaClock.stopped_at).is_(None), col(SlaClock.stopped_at) > SlaClock.due_at),
        )
    )
    overdue = Counter(local(at) for at in session.exec(missed))
    span = [first + timedelta(days=i) for i in range(days)]
    return DaySeries(
        days=span,
        opened=[opened[d] for d in span],
        closed=[closed[d] for d in span],
        overdue=[overdue[d] for d in span],
    )


def open_per_grid(
    session: Session, principal: Principal, city: CityDirectory, unit: str
) -> dict[str, int]:
    query = (
        select(Case.owning_unit, func.count())
        .where(access.case_scope(principal, city), _in_unit(city, unit))
        .where(col(Case.closed_at).is_(None))
        .group_by(col(Case.owning_unit))
    )
    return {code: int(n) for code, n in session.exec(query)}
