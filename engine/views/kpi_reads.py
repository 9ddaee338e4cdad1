"""The KPI report of any period and unit subtree, from the daily and monthly facts: the same
figures engine.kpis.compute replays from the audit trail, at a cost that follows the days
asked for, not the cases ever filed. See docs/READ_SIDE.md#read-models-views.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, select, union_all

from engine.city.directory import CityDirectory
from engine.kpis.aggregate import row_of_counts
from engine.kpis.compute import KpiReport, Period, department_name, report_scope
from engine.kpis.definitions import COUNT_KEYS, DEPARTMENT_STAGES, STAGE_COUNTS, weights_of
from engine.views.facts import DAY_UNITS, LATE, LIGHTS, MONTHS, local_day
from engine.views.filters import in_units, open_late_where, subtree
from engine.views.models import STAGE_KEYS

SUMMED = tuple(dict.fromkeys((*COUNT_KEYS, *STAGE_KEYS, "handled", "handle_us")))


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
    scope = report_scope(city, unit, department)
    weights = weights_of(city.settings)
    units = subtree(city, scope)
    today = local_day(now, ZoneInfo(city.timezone))
    # Summed by the database per owning unit and per department (a few dozen rows each),
    # never folded here row by row (docs/READ_SIDE.md).
    per_unit = _sums(conn, "unit", period, units, department, today)
    per_department = _sums(conn, "department", period, units, department, today)
    for (owner, dept, stage), n in _open_late(conn, period, now, units, department).items():
        due = STAGE_COUNTS[stage][0]
        per_unit.setdefault(owner, Counter())[due] += n
        per_department.setdefault(dept, Counter())[due] += n
    late_units, late_departments = _overdue_cases(conn, period, now, units, department)
    children = sorted(c for c in city.subtree(scope) if city.units[c].parent == scope)
    child_of = {code: child for child in children for code in city.subtree(child)}
    total: Counter[str] = Counter()
    by_child: dict[str, Counter[str]] = {c: Counter() for c in children}
    overdue_child: Counter[str] = Counter()
    for owner, counts in per_unit.items():
        total.update(counts)
        child = child_of.get(owner)
        if child is not None:
            by_child[child].update(counts)
    by_department = {
        dept: counts for dept, counts in per_department.items() if dept and any(counts.values())
    }
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
            "department", d, department_name(city, d), by_department.get(d, Counter()),
            weights, late_departments[d],
        )
        for d in wanted
    ]  # fmt: skip
    total_row = row_of_counts("total", scope, names[scope], total, weights, every_late)
    rows = (total_row, unit_rows, department_rows)
    return KpiReport.of(period, city, now, scope, department, weights, rows)


def _sums(
    conn: Connection,
    by: str,
    period: Period,
    units: list[str] | None,
    department: str | None,
    today: date,
) -> dict[str, Counter[str]]:
    """``by`` (unit or department) → the facts' counts summed over the period: whole months
    from ``view_kpi_month``, a month partly in the period from its days
    (``view_kpi_day_unit``), or from the month's row less the days outside when those are
    fewer. Days after ``today`` hold no fact yet, so this month to date reads no day at
    all."""
    found: dict[str, Counter[str]] = {}
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
                    _add_days(conn, found, by, lo, hi, units, department, -1)
        else:
            _add_days(conn, found, by, first, last, units, department, 1)
    if months:
        c = MONTHS.c
        query = _summed(c, by, c.month.in_(months), units, department)
        _add(found, conn.execute(query).all(), 1)
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


def _summed(c: Any, by: str, when: Any, units: list[str] | None, department: str | None) -> Any:
    query = (
        select(c[by], *(func.sum(c[key]) for key in SUMMED))
        .where(when, in_units(c.unit, units))
        .group_by(c[by])
    )
    return query if department is None else query.where(c.department == department)


def _add_days(
    conn: Connection,
    found: dict[str, Counter[str]],
    by: str,
    first: date,
    last: date,
    units: list[str] | None,
    department: str | None,
    sign: int,
) -> None:
    c = DAY_UNITS.c
    query = _summed(c, by, and_(c.day >= first, c.day <= last), units, department)
    _add(found, conn.execute(query).all(), sign)


def _add(found: dict[str, Counter[str]], rows: Any, sign: int) -> None:
    for key, *sums in rows:
        counts = found.setdefault(key, Counter())
        for name, n in zip(SUMMED, sums, strict=True):
            if n:
                counts[name] += sign * int(n)


def _open_late(
    conn: Connection, period: Period, now: datetime, units: list[str] | None, department: str | None
) -> Counter[tuple[str, str, str]]:
    c = LIGHTS.c
    query = (
        select(c.unit, c.department, c.stage, func.count())
        .where(*open_late_where(period, now, units, department), c.stage.in_(STAGE_COUNTS))
        .group_by(c.unit, c.department, c.stage)
    )
    return Counter({(u, d, s): int(n) for u, d, s, n in conn.execute(query)})


def _overdue_cases(
    conn: Connection, period: Period, now: datetime, units: list[str] | None, department: str | None
) -> tuple[Counter[str], Counter[str]]:
    """超期件数: distinct cases with a late run in the period, per owning unit (a case has one,
    so units add up) and per department (its 签收 and 处置 runs only)."""
    late, light = LATE.c, LIGHTS.c
    ended = [late.day >= period.first, late.day <= period.last, in_units(late.unit, units)]
    if department is not None:
        ended.append(late.department == department)
    runs = union_all(
        select(late.case_id, late.unit, late.department, late.stage).where(*ended),
        select(light.case_id, light.unit, light.department, light.stage).where(
            *open_late_where(period, now, units, department)
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
