"""What every read-model query shares: a unit subtree as a filter, "now" as a bound
parameter, a stage run's light, and which open runs count as decided late in a period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, literal

from engine.city.directory import CityDirectory
from engine.db import UTCDateTime
from engine.kpis.compute import Period
from engine.views.facts import LIGHTS


def in_units(column: Any, units: list[str] | None) -> Any:
    return literal(True) if units is None else column.in_(units)


def subtree(city: CityDirectory, unit: str) -> list[str] | None:
    """The unit codes under ``unit`` (None: the whole city, no filter needed)."""
    return None if unit == city.root else sorted(city.subtree(unit))


def now_param(now: datetime) -> Any:
    return bindparam("now", now, type_=UTCDateTime())


def open_late_where(
    period: Period, now: datetime, units: list[str] | None, department: str | None
) -> list[Any]:
    """Open stage runs decided late in the period: running (not paused), their deadline in
    the period and passed (engine.kpis.replay: a run counts when its deadline passes)."""
    c = LIGHTS.c
    where = [
        c.paused_at.is_(None),
        c.due_at >= bindparam("start", period.start, type_=UTCDateTime()),
        c.due_at < bindparam("end", period.end, type_=UTCDateTime()),
        c.due_at <= now_param(now),
        in_units(c.unit, units),
    ]
    if department is not None:
        where.append(c.department == department)
    return where


def light_expression(now: datetime) -> Any:
    """A stage run's light now: its reading is frozen while paused (engine.sla.clocks)."""
    c = LIGHTS.c
    at = func.coalesce(c.paused_at, now_param(now))
    return case((at >= c.due_at, "red"), (at >= c.yellow_at, "yellow"), else_="green")
