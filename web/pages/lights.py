"""Traffic lights of open cases: each open case's running SLA clock and where it stands,
counted per department and per child unit for the board, listed for the inbox."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
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


@dataclass
class LightCounts:
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, key: str, light: str) -> None:
        self.counts.setdefault(key, Counter())[light] += 1

    def rows(self) -> list[tuple[str, dict[str, int]]]:
        """(key, {green, yellow, red, total}), the most red first."""
        out = [
            (key, {light: c[light] for light in LIGHTS} | {"total": sum(c.values())})
            for key, c in self.counts.items()
        ]
        return sorted(out, key=lambda r: (-r[1]["red"], -r[1]["yellow"], r[0]))


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


def child_of(city: CityDirectory, scope: str, code: str) -> str | None:
    """The child unit of ``scope`` that holds ``code`` (None: ``code`` is ``scope`` itself)."""
    chain = city.ancestors(code) if code in city.units else ()
    if scope not in chain:
        return None
    index = chain.index(scope)
    return chain[index - 1] if index > 0 else None


def count_lights(
    lit: list[Lit], city: CityDirectory, scope: str
) -> tuple[LightCounts, LightCounts]:
    """Counts by lead department and by child unit of ``scope``."""
    by_department, by_unit = LightCounts(), LightCounts()
    for item in lit:
        light = item.status.light or "green"
        by_department.add(item.case.lead_department or "", light)
        by_unit.add(child_of(city, scope, item.case.owning_unit) or scope, light)
    return by_department, by_unit
