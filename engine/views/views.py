"""Queries over the read models: the KPI report of any period and unit subtree, and what the
supervisor's board shows. Each reads only the read-model tables (and, for the few rows a
board lists, the cases by primary key): their cost follows the open cases and the days
asked for, not the number of cases ever filed. See docs/READ_SIDE.md#read-models-views.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Connection, and_, bindparam, case, func, literal, select, union_all

from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.db import UTCDateTime
from engine.errors import InvalidInput
from engine.kpis.aggregate import row_of_counts
from engine.kpis.compute import KpiReport, Period
from engine.kpis.definitions import COUNT_KEYS, DEPARTMENT_STAGES, STAGE_COUNTS, weights_of
from engine.sla.models import SlaClock
from engine.sla.views import SupervisedCase
from engine.views.facts import DAYS, ESCALATIONS, LATE, LIGHTS, MONTHS, OPEN, local_day
from engine.views.models import STAGE_KEYS

LIGHT_NAMES = ("green", "yellow", "red")
SUMMED = tuple(dict.fromkeys((*COUNT_KEYS, *STAGE_KEYS, "handled", "handle_us")))
CASES = Case.__table__  # type: ignore[attr-defined]


def _in_units(column: Any, units: list[str] | None) -> Any:
    return literal(True) if units is None else column.in_(units)


def subtree(city: CityDirectory, unit: str) -> list[str] | None:
    """The unit codes under ``unit`` (None: the whole city, no filter needed)."""
    return None if unit == city.root else sorted(city.subtree(unit))


# ------------------------------------------------------------------------------ KPIs


def kpi_report(
    conn: Connection,
    city: CityDirectory,
    period: Period,
    now: datetime,
    unit: str | None = None,
    department: str | None = None,
) -> KpiReport:
    """The KPI report of ``period`` for ``unit``'s subtree, from the daily facts: the same
    figures engine.kpis.compute replays from the audit trail (definitions.py)."""
    scope = unit or city.root
    if scope not in city.units:
        raise InvalidInput("unit", f"unknown unit {scope!r}")
    if department is not None and department not in city.departments:
        raise InvalidInput("department", f"unknown department {department!r}")
    weights = weights_of(city.settings)
    units = subtree(city, scope)
    today = local_day(now, ZoneInfo(city.timezone))
    sums = _day_sums(conn, period, units, department, today)
    for (owner, dept, stage), n in _open_late(conn, period, now, units, department).items():
        due = STAGE_COUNTS[stage][0]
        sums.setdefault((owner, dept), Counter())[due] += n
    late_units, late_departments = _overdue_cases(conn, period, now, units, department)
    children = sorted(c for c in city.subtree(scope) if city.units[c].parent == scope)
    child_of = {code: child for child in children for code in city.subtree(child)}
    total: Counter[str] = Counter()
    by_child: dict[str, Counter[str]] = {c: Counter() for c in children}
    by_department: dict[str, Counter[str]] = {}
    overdue_child: Counter[str] = Counter()
    for (owner, dept), counts in sums.items():
        total.update(counts)
        child = child_of.get(owner)
        if child is not None:
            by_child[child].update(counts)
        if dept and any(counts.values()):
            by_department.setdefault(dept, Counter()).update(counts)
    for owner, n in late_units.items():
        if owner in child_of:
            overdue_child[child_of[owner]] += n
    names = {code: u.name for code, u in city.units.items()}
    every_late = sum(late_units.values())
    unit_rows = [row_of_counts("unit", scope, names[scope], total, weights, every_late)]
    unit_rows += [
        row_of_counts("unit", c, names[c], by_child[c], weights, overdue_child[c]) for c in children
    ]
    wanted = [department] if department else sorted(by_department)
    department_rows = [
        row_of_counts(
            "department", d, _department_name(city, d), by_department.get(d, Counter()),
            weights, late_departments[d],
        )
        for d in wanted
    ]  # fmt: skip
    return KpiReport(
        period_start=period.first,
        period_end=period.last,
        timezone=city.timezone,
        start=period.start,
        end=period.end,
        computed_at=now,
        unit=scope,
        department=department,
        weights=weights,
        total=row_of_counts("total", scope, names[scope], total, weights, every_late),
        units=unit_rows,
        departments=department_rows,
    )


def _department_name(city: CityDirectory, code: str) -> str:
    found = city.departments.get(code)
    return found.name if found is not None else code


def _day_sums(
    conn: Connection,
    period: Period,
    units: list[str] | None,
    department: str | None,
    today: date,
) -> dict[tuple[str, str], Counter[str]]:
    """(unit, department) → the facts' counts summed over the period: whole months from
    ``view_kpi_month``, a month partly in the period from its days, or from the month's row
    less the days outside when those are fewer. Days after ``today`` hold no fact yet, so
    this month to date reads no day at all."""
    found: dict[tuple[str, str], Counter[str]] = {}
    months: list[date] = []
    for month, first, last in _months(period.first, period.last):
        end = _month_end(month)
        inside = _span(first, min(last, today))
        if inside == 0:
            continue  # days to come: no fact yet
        outside = _span(month, min(end, today)) - inside
        if outside < inside:
            months.append(month)
            for lo, hi in ((month, first - timedelta(days=1)), (last + timedelta(days=1), end)):
                if lo <= hi:
                    _add_days(conn, found, lo, hi, units, department, -1)
        else:
            _add_days(conn, found, first, last, units, department, 1)
    if months:
        c = MONTHS.c
        query = _summed(c, c.month.in_(months), units, department)
        _add(found, conn.execute(query).mappings(), 1)
    return found


def _months(first: date, last: date) -> list[tuple[date, date, date]]:
    """(month, first day in the period, last day in the period) for each month touched."""
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append((month, max(first, month), min(last, _month_end(month))))
        month = _month_end(month) + timedelta(days=1)
    return out


def _span(first: date, last: date) -> int:
    return max(0, (last - first).days + 1)


def _month_end(month: date) -> date:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _summed(c: Any, when: Any, units: list[str] | None, department: str | None) -> Any:
    query = (
        select(c.unit, c.department, *(func.sum(c[key]).label(key) for key in SUMMED))
        .where(when, _in_units(c.unit, units))
        .group_by(c.unit, c.department)
    )
    return query if department is None else query.where(c.department == department)


def _add_days(
    conn: Connection,
    found: dict[tuple[str, str], Counter[str]],
    first: date,
    last: date,
    units: list[str] | None,
    department: str | None,
    sign: int,
) -> None:
    c = DAYS.c
    query = _summed(c, and_(c.day >= first, c.day <= last), units, department)
    _add(found, conn.execute(query).mappings(), sign)


def _add(found: dict[tuple[str, str], Counter[str]], rows: Any, sign: int) -> None:
    for row in rows:
        counts = found.setdefault((row["unit"], row["department"]), Counter())
        for key in SUMMED:
            counts[key] += sign * int(row[key] or 0)


def _now(now: datetime) -> Any:
    return bindparam("now", now, type_=UTCDateTime())


def _open_late_where(
    period: Period, now: datetime, units: list[str] | None, department: str | None
) -> list[Any]:
    """Open stage runs decided late in the period: running (not paused), their deadline in
    the period and passed (engine.kpis.replay: a run counts when its deadline passes)."""
    c = LIGHTS.c
    where = [
        c.paused_at.is_(None),
        c.due_at >= bindparam("start", period.start, type_=UTCDateTime()),
        c.due_at < bindparam("end", period.end, type_=UTCDateTime()),
        c.due_at <= _now(now),
        _in_units(c.unit, units),
    ]
    if department is not None:
        where.append(c.department == department)
    return where


def _open_late(
    conn: Connection, period: Period, now: datetime, units: list[str] | None, department: str | None
) -> Counter[tuple[str, str, str]]:
    c = LIGHTS.c
    query = (
        select(c.unit, c.department, c.stage, func.count())
        .where(*_open_late_where(period, now, units, department), c.stage.in_(STAGE_COUNTS))
        .group_by(c.unit, c.department, c.stage)
    )
    return Counter({(u, d, s): int(n) for u, d, s, n in conn.execute(query)})


def _overdue_cases(
    conn: Connection, period: Period, now: datetime, units: list[str] | None, department: str | None
) -> tuple[Counter[str], Counter[str]]:
    """超期件数: distinct cases with a late run in the period, per owning unit (a case has one,
    so units add up) and per department (its 签收 and 处置 runs only)."""
    late, light = LATE.c, LIGHTS.c
    ended = [late.day >= period.first, late.day <= period.last, _in_units(late.unit, units)]
    if department is not None:
        ended.append(late.department == department)
    runs = union_all(
        select(late.case_id, late.unit, late.department, late.stage).where(*ended),
        select(light.case_id, light.unit, light.department, light.stage).where(
            *_open_late_where(period, now, units, department)
        ),
    ).subquery()
    per_unit = select(runs.c.unit, func.count(runs.c.case_id.distinct())).group_by(runs.c.unit)
    per_department = (
        select(runs.c.department, func.count(runs.c.case_id.distinct()))
        .where(runs.c.stage.in_(DEPARTMENT_STAGES), runs.c.department != "")
        .group_by(runs.c.department)
    )
    units_found = Counter({u: int(n) for u, n in conn.execute(per_unit)})
    departments_found = Counter({d: int(n) for d, n in conn.execute(per_department)})
    return units_found, departments_found


# ------------------------------------------------------------------------------ the board


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


def _light_expression(now: datetime) -> Any:
    """A stage run's light now: its reading is frozen while paused (engine.sla.clocks)."""
    c = LIGHTS.c
    at = func.coalesce(c.paused_at, _now(now))
    return case((at >= c.due_at, "red"), (at >= c.yellow_at, "yellow"), else_="green")


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
    light = _light_expression(now).label("light")
    query = (
        select(c.department, c.unit, light, func.count())
        .where(_in_units(c.unit, subtree(city, unit)))
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
        .where(_in_units(c.unit, subtree(city, unit)), clock.provisional.is_(True))
    )
    return int(conn.execute(query).scalar_one())


def open_per_unit(conn: Connection, city: CityDirectory, unit: str) -> dict[str, int]:
    """Open cases per owning unit (a grid, mostly) in ``unit``'s subtree: the map."""
    c = OPEN.c
    query = (
        select(c.unit, func.sum(c.cases))
        .where(_in_units(c.unit, subtree(city, unit)))
        .group_by(c.unit)
    )
    return {code: int(n) for code, n in conn.execute(query) if n}


def open_per_state(conn: Connection, city: CityDirectory, unit: str) -> dict[str, int]:
    c = OPEN.c
    query = (
        select(c.state, func.sum(c.cases))
        .where(_in_units(c.unit, subtree(city, unit)))
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
    (ended late, or open past it)."""
    c, units = DAYS.c, subtree(city, unit)
    late = sum((c[due] - c[on_time] for due, on_time in STAGE_COUNTS.values()), literal(0))
    query = (
        select(c.day, func.sum(c.received), func.sum(c.closed), func.sum(late))
        .where(c.day >= first, c.day <= last, _in_units(c.unit, units))
        .group_by(c.day)
    )
    found = {day: (int(o or 0), int(x or 0), int(n or 0)) for day, o, x, n in conn.execute(query)}
    period = Period.of(first, last, city.timezone)
    light = LIGHTS.c
    open_late = select(light.due_at).where(
        *_open_late_where(period, now, units, None), light.stage.in_(STAGE_COUNTS)
    )
    zone = ZoneInfo(city.timezone)
    extra: Counter[date] = Counter(local_day(due, zone) for (due,) in conn.execute(open_late))
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return DayCounts(
        days=span,
        opened=[found.get(d, (0, 0, 0))[0] for d in span],
        closed=[found.get(d, (0, 0, 0))[1] for d in span],
        overdue=[found.get(d, (0, 0, 0))[2] + extra[d] for d in span],
    )


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
        .where(_in_units(e.unit, subtree(city, unit)))
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
