"""Compute the KPI report of a period: per department, per unit subtree and in total.

``compute_kpis`` reads the audit trail and the SLA clocks of every case that had an event or
a deadline in the period (in chunks, with plain SQL: no ORM objects), replays each case
(replay.py) and counts its facts (aggregate.py). Its cost grows with the cases in the period:
it is the reference implementation (``gridflow views rebuild`` / ``check``, the simulator's
report, the tests), while the API and the pages read the kept facts (engine.views.kpi_reads
``kpi_report``, docs/READ_SIDE.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select, union
from sqlalchemy.engine import Connection

from engine.calendar import WorkCalendar
from engine.cases.models import Case, CaseEvent
from engine.cases.workflow import Workflow
from engine.city.directory import CityDirectory
from engine.errors import InvalidInput
from engine.kpis.aggregate import KpiRow, build_row
from engine.kpis.definitions import weights_of
from engine.kpis.replay import KPI_KINDS, ClockRow, EventRow, Fact, group_events, replay_case
from engine.sla.models import SlaClock

CHUNK = 500
MAX_DAYS = 366 * 3
MIN_YEAR, MAX_YEAR = 1970, 2200


@dataclass(frozen=True)
class Period:
    """Local calendar days ``first`` … ``last`` (inclusive) as the UTC range [start, end)."""

    first: date
    last: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, first: date, last: date, timezone: str) -> Period:
        for name, day in (("period_start", first), ("period_end", last)):
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                raise InvalidInput(name, f"a day in the years {MIN_YEAR}–{MAX_YEAR}")
        if last < first:
            raise InvalidInput("period_end", "the period ends before it starts")
        if (last - first).days > MAX_DAYS:
            raise InvalidInput("period_end", f"a period is at most {MAX_DAYS} days")
        zone = ZoneInfo(timezone)
        start = datetime.combine(first, time(0), zone).astimezone(ZoneInfo("UTC"))
        end = datetime.combine(last + timedelta(days=1), time(0), zone)
        return cls(first, last, start, end.astimezone(ZoneInfo("UTC")))


class KpiReport(BaseModel):
    period_start: date
    period_end: date  # inclusive
    timezone: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    computed_at: datetime
    unit: str
    department: str | None
    weights: dict[str, float]
    total: KpiRow
    units: list[KpiRow]  # the unit, then each unit directly below it
    departments: list[KpiRow]

    @classmethod
    def of(
        cls,
        period: Period,
        city: CityDirectory,
        now: datetime,
        scope: str,
        department: str | None,
        weights: dict[str, float],
        rows: tuple[KpiRow, list[KpiRow], list[KpiRow]],
    ) -> KpiReport:
        """The report of ``period`` for ``scope``: its ``(total, units, departments)`` rows."""
        total, units, departments = rows
        return cls(
            period_start=period.first, period_end=period.last, timezone=city.timezone,
            start=period.start, end=period.end, computed_at=now, unit=scope,
            department=department, weights=weights, total=total, units=units,
            departments=departments,
        )  # fmt: skip


def report_scope(city: CityDirectory, unit: str | None, department: str | None) -> str:
    """The unit a report is for (the city without one); an unknown unit or department is
    refused naming the field."""
    scope = unit or city.root
    if scope not in city.units:
        raise InvalidInput("unit", f"unknown unit {scope!r}")
    if department is not None and department not in city.departments:
        raise InvalidInput("department", f"unknown department {department!r}")
    return scope


def department_name(city: CityDirectory, code: str) -> str:
    """A department's name, or its code when the city no longer has it."""
    found = city.departments.get(code)
    return found.name if found is not None else code


def compute_kpis(
    conn: Connection,
    city: CityDirectory,
    workflow: Workflow,
    calendar: WorkCalendar,
    period: Period,
    now: datetime,
    unit: str | None = None,
    department: str | None = None,
) -> KpiReport:
    scope = report_scope(city, unit, department)
    weights = weights_of(city.settings)
    units = case_units(conn, period, city, scope)
    facts = [
        f
        for f in collect_facts(conn, sorted(units), workflow, calendar, now)
        if f.kind in KPI_KINDS and period.start <= f.at < period.end
    ]
    if department is not None:
        facts = [f for f in facts if f.department == department]
    by_child: dict[str, list[Fact]] = defaultdict(list)
    children = [c for c in city.subtree(scope) if city.units[c].parent == scope]
    child_of = {code: child for child in children for code in city.subtree(child)}
    by_department: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        child = child_of.get(units[fact.case_id])
        if child is not None:
            by_child[child].append(fact)
        if fact.department is not None:
            by_department[fact.department].append(fact)
    names = {code: u.name for code, u in city.units.items()}
    unit_rows = [build_row("unit", scope, names[scope], facts, weights)]
    unit_rows += [build_row("unit", c, names[c], by_child[c], weights) for c in sorted(children)]
    wanted = [department] if department else sorted(by_department)
    department_rows = [
        build_row("department", d, department_name(city, d), by_department[d], weights)
        for d in wanted
    ]
    total = build_row("total", scope, names[scope], facts, weights)
    rows = (total, unit_rows, department_rows)
    return KpiReport.of(period, city, now, scope, department, weights, rows)


def case_units(conn: Connection, period: Period, city: CityDirectory, scope: str) -> dict[int, str]:
    """Case id → owning unit, for the cases in ``scope`` with an event or a deadline in the
    period."""
    events = CaseEvent.__table__.c  # type: ignore[attr-defined]
    clocks = SlaClock.__table__.c  # type: ignore[attr-defined]
    cases = Case.__table__.c  # type: ignore[attr-defined]
    touched = union(
        select(events.case_id).where(events.at >= period.start, events.at < period.end),
        select(clocks.case_id).where(clocks.due_at >= period.start, clocks.due_at < period.end),
    ).subquery()
    rows = conn.execute(
        select(cases.id, cases.owning_unit).where(cases.id.in_(select(touched.c.case_id)))
    )
    everywhere = scope == city.root
    return {case_id: owner for case_id, owner in rows if everywhere or city.is_within(owner, scope)}


def collect_facts(
    conn: Connection,
    case_ids: list[int],
    workflow: Workflow,
    calendar: WorkCalendar,
    now: datetime,
) -> Iterator[Fact]:
    """Every fact of the given cases, whenever it happened."""
    events = CaseEvent.__table__.c  # type: ignore[attr-defined]
    clocks = SlaClock.__table__.c  # type: ignore[attr-defined]
    for i in range(0, len(case_ids), CHUNK):
        ids = case_ids[i : i + CHUNK]
        due: dict[int, dict[tuple[str, int], ClockRow]] = defaultdict(dict)
        query = select(
            clocks.case_id, clocks.stage, clocks.generation, clocks.due_at, clocks.paused_at
        ).where(clocks.case_id.in_(ids))
        for case_id, stage, generation, due_at, paused_at in conn.execute(query):
            due[case_id][(stage, generation)] = ClockRow(stage, generation, due_at, paused_at)
        rows = conn.execute(
            select(
                events.case_id,
                events.seq,
                events.at,
                events.action,
                events.from_state,
                events.to_state,
                events.data,
            )
            .where(events.case_id.in_(ids))
            .order_by(events.case_id, events.seq)
        )
        for trail in group_events(EventRow(*row) for row in rows):
            yield from replay_case(trail, due[trail[0].case_id], workflow, calendar, now)
