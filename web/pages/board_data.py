"""What the supervisor's board shows for a unit: lights per department and per child unit,
the latest escalations, received / closed / overdue per day, and open cases per grid.

Everything comes from the read models (engine.views.board_reads and kpi_reads): the cost
follows the open cases and the days shown, never the number of cases ever filed
(docs/READ_SIDE.md). The unit is one the caller may see (web.pages.board checks it against
their scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session

from engine.calendar import WorkCalendar
from engine.city.directory import CityDirectory
from engine.city.grids import CityGrid
from engine.kpis import KpiRow, Period
from engine.sla.views import SupervisionQueue
from engine.views import board_reads as views
from engine.views.facts import LIGHTS
from engine.views.filters import in_units, light_expression, now_param, subtree
from engine.views.kpi_reads import kpi_report

DAYS = 14
TREND_DAYS = 30  # the big screen's trend: the last 7 or 30 days, picked on the screen
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
    provisional: int = 0  # open deadlines computed Monday to Friday (a year without holidays)


def board(
    session: Session, city: CityDirectory, calendar: WorkCalendar, now: datetime, unit: str
) -> Board:
    conn = session.connection()
    lights = views.board_lights(conn, city, unit, now)
    items = views.latest_escalations(conn, city, unit, now, limit=ESCALATIONS)
    queue = SupervisionQueue(items=items, total=len(items), limit=ESCALATIONS, offset=0)
    year = calendar.local_date(now).year
    warnings = [w for y in (year, year + 1) if (w := calendar.coverage_warning(y))]
    # Only a year without a holiday schedule makes a deadline provisional: no query otherwise.
    provisional = views.provisional_runs(conn, city, unit) if warnings else 0
    return Board(
        unit=unit,
        now=now,
        totals=lights.totals,
        by_department=lights.by_department,
        by_unit=lights.by_unit,
        queue=queue,
        warnings=warnings,
        provisional=provisional,
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


# ------------------------------------------------------------------ the big screen's JSON

POINTS = 2000  # case points on the map at most: the longest overdue yellow / red runs
RANKED = 15  # departments and units in each KPI ranking chart
KPI_PERIODS = {"month": 0, "7": 7, "30": 30}  # 本月 (to date), the last 7 or 30 days
KPI_FIGURES = ("on_time_resolve_rate", "satisfaction_rate", "resolution_rate", "score")


def grid_features(session: Session, city: CityDirectory, unit: str) -> list[dict[str, Any]]:
    """The grid polygons in ``unit``'s subtree (the stored grids.geojson), each named."""
    row = session.get(CityGrid, 1)
    features = (row.geojson if row is not None else {}).get("features", [])
    out = []
    for feature in features:
        code = str((feature.get("properties") or {}).get("code", ""))
        if code in city.units and city.is_within(code, unit):
            name = city.units[code].name
            properties = {"code": code, "name": name}
            geometry = feature.get("geometry")
            out.append({"type": "Feature", "properties": properties, "geometry": geometry})
    return out


def case_points(
    session: Session, city: CityDirectory, unit: str, now: datetime, limit: int = POINTS
) -> list[dict[str, Any]]:
    """Open cases in ``unit``'s subtree with a yellow or red stage run and a location, the
    earliest deadlines (the longest overdue) first: at most ``limit`` open runs are read
    (the open runs' ``due_at`` index), then their cases by primary key."""
    light, c = LIGHTS.c, views.CASES.c
    at = func.coalesce(light.paused_at, now_param(now))
    lit = case((at >= light.due_at, "red"), else_="yellow").label("light")
    runs = (
        select(light.case_id, lit)
        .where(in_units(light.unit, subtree(city, unit)), at >= light.yellow_at)
        .order_by(light.due_at)  # the due_at index: no sort of every open run
        .limit(limit)
    )
    conn = session.connection()
    first: dict[int, str] = {}
    for case_id, colour in conn.execute(runs):
        first.setdefault(case_id, colour)
    if not first:
        return []
    located = select(c.id, c.lat, c.lng, c.owning_unit).where(
        c.id.in_(list(first)), c.lat.is_not(None), c.lng.is_not(None)
    )
    rows = {row.id: row for row in conn.execute(located)}
    return [
        {"id": i, "lat": rows[i].lat, "lng": rows[i].lng, "unit": rows[i].owning_unit,
         "light": colour}
        for i, colour in first.items() if i in rows
    ]  # fmt: skip


def lights_per_grid(
    session: Session, city: CityDirectory, unit: str, now: datetime
) -> dict[str, dict[str, int]]:
    """Yellow and red open stage runs per owning unit (a grid, mostly) in ``unit``'s
    subtree: one grouped read of the open runs (``view_stage_light``, its unit index)."""
    light = LIGHTS.c
    lit = light_expression(now).label("light")
    query = (
        select(light.unit, lit, func.count())
        .where(in_units(light.unit, subtree(city, unit)))
        .group_by(light.unit, lit)
    )
    out: dict[str, dict[str, int]] = {}
    for owner, colour, n in session.connection().execute(query):
        if colour != "green":
            out.setdefault(owner, {"yellow": 0, "red": 0})[colour] = int(n)
    return out


def kpi_period(calendar: WorkCalendar, now: datetime, city: CityDirectory, choice: str) -> Period:
    """本月 to date, or the last 7 / 30 local days ending today."""
    today = calendar.local_date(now)
    days = KPI_PERIODS.get(choice, 0)
    first = today.replace(day=1) if days == 0 else today - timedelta(days=days - 1)
    return Period.of(first, today, city.timezone)


def _figures(row: KpiRow) -> dict[str, Any]:
    out: dict[str, Any] = {key: getattr(row, key) for key in KPI_FIGURES}
    return out | {"overdue_cases": row.overdue_cases, "assigned": row.assigned}


def _ranked(rows: list[KpiRow]) -> list[dict[str, Any]]:
    scored = [r for r in rows if r.score is not None]
    scored.sort(key=lambda r: (-(r.score or 0.0), r.code))
    return [{"code": r.code, "name": r.name, "score": r.score} for r in scored[:RANKED]]


def kpi_summary(
    session: Session,
    city: CityDirectory,
    calendar: WorkCalendar,
    now: datetime,
    unit: str,
    choice: str,
) -> dict[str, Any]:
    """The period's KPI figures for ``unit``'s subtree and the KPI ranking (考核排名) of its
    departments and child units by the composite score (kpi_report: the read models)."""
    period = kpi_period(calendar, now, city, choice)
    report = kpi_report(session.connection(), city, period, now, unit=unit)
    return {
        "period": choice if choice in KPI_PERIODS else "month",
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
        "total": _figures(report.total),
        "departments": _ranked(report.departments),
        "units": _ranked(report.units[1:]),
    }
