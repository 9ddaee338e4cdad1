"""What the supervisor's board shows for a unit: lights per department and per child unit,
the latest escalations, received / closed / overdue per day, and open cases per grid.

Everything comes from the read models (engine.views.views): the cost follows the open cases
and the days shown, never the number of cases ever filed (docs/READ_SIDE.md). The unit is
one the caller may see (web.pages.board checks it against their scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from engine.calendar import WorkCalendar
from engine.city.directory import CityDirectory
from engine.sla.views import SupervisionQueue
from engine.views import views

DAYS = 14
ESCALATIONS = 100  # the latest, on the board


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
    session: Session, city: CityDirectory, calendar: WorkCalendar, now: datetime, unit: str
) -> Board:
    conn = session.connection()
    lights = views.board_lights(conn, city, unit, now)
    items = views.latest_escalations(conn, city, unit, now, limit=ESCALATIONS)
    queue = SupervisionQueue(items=items, total=len(items), limit=ESCALATIONS, offset=0)
    year = calendar.local_date(now).year
    warnings = [w for y in (year, year + 1) if (w := calendar.coverage_warning(y))]
    return Board(
        unit=unit,
        now=now,
        totals=lights.totals,
        by_department=lights.by_department,
        by_unit=lights.by_unit,
        queue=queue,
        warnings=warnings,
    )


@dataclass
class DaySeries:
    days: list[date]
    opened: list[int]
    closed: list[int]
    overdue: list[int]


def daily_series(
    session: Session,
    city: CityDirectory,
    calendar: WorkCalendar,
    now: datetime,
    unit: str,
    days: int = DAYS,
) -> DaySeries:
    """Per local day, the last ``days`` days: cases received, closed, and deadlines missed."""
    today = calendar.local_date(now)
    first = today - timedelta(days=days - 1)
    found = views.day_counts(session.connection(), city, unit, first, today, now)
    return DaySeries(found.days, found.opened, found.closed, found.overdue)


def open_per_grid(session: Session, city: CityDirectory, unit: str) -> dict[str, int]:
    return views.open_per_unit(session.connection(), city, unit)
