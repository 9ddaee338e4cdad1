"""What the supervisor's board shows, from the read models: light counts per department and
unit, the open cases per grid and state, days' counts, the latest escalations. Each reads
only the read-model tables (and, for the few rows a board lists, the cases by primary key):
the cost follows the open cases, not the cases ever filed. See docs/READ_SIDE.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, and_, bindparam, case, func, literal, select

from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.db import UTCDateTime
from engine.kpis.compute import Period
from engine.kpis.definitions import STAGE_COUNTS
from engine.sla.models import SlaClock
from engine.sla.views import SupervisedCase
from engine.views.facts import DAY_UNITS, ESCALATIONS, LIGHTS, OPEN
from engine.views.filters import in_units, light_expression, open_late_where, subtree

LIGHT_NAMES = ("green", "yellow", "red")
CASES = Case.__table__  # type: ignore[attr-defined]


@dataclass
class LightCounts:
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, key: str, light: str, n: int = 1) -> None:
        self.counts.setdefault(key, Counter())[light] += n

    def rows(self) -> list[tuple[str, dict[str, int]]]:
        """(key, {green, yellow, red, total}), the most red first."""
        out = [
            (key, {light: c[light] for light in LIGHT_NAMES} | {"total": sum(c.values())})
            for key, c in self.counts.items()
        ]
        return sorted(out, key=lambda r: (-r[1]["red"], -r[1]["yellow"], r[0]))


@dataclass
class BoardLights:
    totals: dict[str, int]
    by_department: list[tuple[str, dict[str, int]]]
    by_unit: list[tuple[str, dict[str, int]]]


def child_of(city: CityDirectory, scope: str, code: str) -> str | None:
    """The child unit of ``scope`` that holds ``code`` (None: ``code`` is ``scope`` itself)."""
    chain = city.ancestors(code) if code in city.units else ()
    if scope not in chain:
        return None
    index = chain.index(scope)
    return chain[index - 1] if index > 0 else None


def board_lights(conn: Connection, city: CityDirectory, unit: str, now: datetime) -> BoardLights:
    """Open stage runs' lights in ``unit``'s subtree, per lead department and child unit."""
    c = LIGHTS.c
    light = light_expression(now).label("light")
    query = (
        select(c.department, c.unit, light, func.count())
        .where(in_units(c.unit, subtree(city, unit)))
        .group_by(c.department, c.unit, light)
    )
    totals: Counter[str] = Counter()
    by_department, by_unit = LightCounts(), LightCounts()
    for department, owner, lit, n in conn.execute(query):
        totals[lit] += n
        by_department.add(department, lit, n)
        by_unit.add(child_of(city, unit, owner) or unit, lit, n)
    return BoardLights(
        totals={name: totals[name] for name in LIGHT_NAMES},
        by_department=by_department.rows(),
        by_unit=by_unit.rows(),
    )


def provisional_runs(conn: Connection, city: CityDirectory, unit: str) -> int:
    """Open stage runs in ``unit``'s subtree whose deadline was computed Monday to Friday,
    for want of a year's holiday schedule (``sla_clock.provisional``): the open runs, each
    joined to its clock by its key."""
    c = LIGHTS.c
    clock = SlaClock.__table__.c  # type: ignore[attr-defined]
    query = (
        select(func.count())
        .select_from(LIGHTS)
        .join(
            SlaClock.__table__,  # type: ignore[attr-defined]
            and_(
                clock.case_id == c.case_id,
                clock.stage == c.stage,
                clock.generation == c.generation,
            ),
        )
        .where(in_units(c.unit, subtree(city, unit)), clock.provisional.is_(True))
    )
    return int(conn.execute(query).scalar_one())


def open_per_unit(conn: Connection, city: CityDirectory, unit: str) -> dict[str, int]:
    """Open cases per owning unit (a grid, mostly) in ``unit``'s subtree: the map."""
    c = OPEN.c
    query = (
        select(c.unit, func.sum(c.cases))
        .where(in_units(c.unit, subtree(city, unit)))
        .group_by(c.unit)
    )
    return {code: int(n) for code, n in conn.execute(query) if n}


def open_per_state(conn: Connection, city: CityDirectory, unit: str) -> dict[str, int]:
    c = OPEN.c
    query = (
        select(c.state, func.sum(c.cases))
        .where(in_units(c.unit, subtree(city, unit)))
        .group_by(c.state)
    )
    return {state: int(n) for state, n in conn.execute(query) if n}


@dataclass
class DayCounts:
    days: list[date]
    opened: list[int]
    closed: list[int]
    overdue: list[int]


def day_counts(
    conn: Connection, city: CityDirectory, unit: str, first: date, last: date, now: datetime
) -> DayCounts:
    """Per local day: cases received, closed, and stage runs that went past their deadline
    (ended late, or open past it). Both sums are made by the database, per day: the daily
    facts without their category (``view_kpi_day_unit``), and the open runs late by now
    counted per local day of their deadline."""
    c, units = DAY_UNITS.c, subtree(city, unit)
    late = sum((c[due] - c[on_time] for due, on_time in STAGE_COUNTS.values()), literal(0))
    query = (
        select(c.day, func.sum(c.received), func.sum(c.closed), func.sum(late))
        .where(c.day >= first, c.day <= last, in_units(c.unit, units))
        .group_by(c.day)
    )
    found = {day: (int(o or 0), int(x or 0), int(n or 0)) for day, o, x, n in conn.execute(query)}
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    extra = _open_late_per_day(conn, city, span, units, now)
    return DayCounts(
        days=span,
        opened=[found.get(d, (0, 0, 0))[0] for d in span],
        closed=[found.get(d, (0, 0, 0))[1] for d in span],
        overdue=[found.get(d, (0, 0, 0))[2] + extra[d] for d in span],
    )


def _open_late_per_day(
    conn: Connection, city: CityDirectory, span: list[date], units: list[str] | None, now: datetime
) -> Counter[date]:
    """Open stage runs past their deadline by now, per local day of the deadline: the day
    each deadline falls on is worked out by the database (a CASE over the days' starts), so
    only one row a day comes back, however many runs are late."""
    period = Period.of(span[0], span[-1], city.timezone)
    light = LIGHTS.c
    ends = [Period.of(day, day, city.timezone).end for day in span[:-1]]
    which = case(
        *((light.due_at < bindparam(f"day_end_{i}", at, type_=UTCDateTime()), i)
          for i, at in enumerate(ends)),
        else_=len(span) - 1,
    ).label("which")  # fmt: skip
    query = (
        select(which, func.count())
        .where(*open_late_where(period, now, units, None), light.stage.in_(STAGE_COUNTS))
        .group_by(which)
    )
    return Counter({span[int(i)]: int(n) for i, n in conn.execute(query)})


def latest_escalations(
    conn: Connection, city: CityDirectory, unit: str, now: datetime, limit: int = 100
) -> list[SupervisedCase]:
    """The open cases under supervision (督办) in ``unit``'s subtree, latest escalation first."""
    e, c, light = ESCALATIONS.c, CASES.c, LIGHTS.c
    query = (
        select(
            e.case_id, e.supervision_unit, e.card, e.stage, c.state, c.category, c.description,
            c.owning_unit, c.lead_department,
        )
        .join(CASES, c.id == e.case_id)
        .where(in_units(e.unit, subtree(city, unit)))
        .order_by(e.at.desc(), e.case_id.desc())
        .limit(limit)
    )  # fmt: skip
    rows = list(conn.execute(query).mappings())
    runs: dict[int, dict[str, Any]] = {}
    if rows:
        found = conn.execute(
            select(light.case_id, light.stage, light.due_at, light.paused_at, light.yellow_at)
            .where(light.case_id.in_([r["case_id"] for r in rows]))
            .order_by(light.due_at)
        ).mappings()
        for run in found:
            runs.setdefault(run["case_id"], dict(run))
    items = []
    for row in rows:
        run = runs.get(row["case_id"])
        supervisor = row["supervision_unit"]
        at = min(now, run["paused_at"]) if run and run["paused_at"] else now
        overdue = max(0.0, (at - run["due_at"]).total_seconds()) if run else 0.0
        lit = None
        if run is not None:
            lit = "red" if at >= run["due_at"] else "yellow" if at >= run["yellow_at"] else "green"
        items.append(
            SupervisedCase(
                case_id=row["case_id"],
                state=row["state"],
                category=row["category"],
                description=row["description"][:200],
                owning_unit=row["owning_unit"],
                lead_department=row["lead_department"],
                supervision_unit=supervisor,
                supervision_tier=str(city.units[supervisor].tier)
                if supervisor in city.units
                else "",
                card=row["card"] or None,
                stage=run["stage"] if run else None,
                due_at=run["due_at"] if run else None,
                due_local=None,
                light=lit,
                overdue_seconds=overdue,
                overdue_stage_seconds=overdue,
            )
        )
    return items


class LightRow(BaseModel):
    code: str  # a department ("" for none yet) or a unit
    green: int
    yellow: int
    red: int
    total: int


class BoardAnswer(BaseModel):
    """What the supervisor's board shows for a unit, all from the read models."""

    unit: str
    now: datetime
    totals: dict[str, int]  # open stage runs per light
    by_department: list[LightRow]  # per lead department, the most red first
    by_unit: list[LightRow]  # per unit directly below (the unit itself for its own cases)
    escalations: list[SupervisedCase]  # open cases under supervision, latest first
    open_per_grid: dict[str, int]  # open cases per owning unit (a grid, mostly): the map
    open_per_state: dict[str, int]


def board_answer(
    conn: Connection, city: CityDirectory, unit: str, now: datetime, limit: int = 100
) -> BoardAnswer:
    lights = board_lights(conn, city, unit, now)

    def rows(found: list[tuple[str, dict[str, int]]]) -> list[LightRow]:
        return [LightRow(code=code, **counts) for code, counts in found]

    return BoardAnswer(
        unit=unit,
        now=now,
        totals=lights.totals,
        by_department=rows(lights.by_department),
        by_unit=rows(lights.by_unit),
        escalations=latest_escalations(conn, city, unit, now, limit),
        open_per_grid=open_per_unit(conn, city, unit),
        open_per_state=open_per_state(conn, city, unit),
    )
