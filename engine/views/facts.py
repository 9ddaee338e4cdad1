"""The read models' changes of one transaction, gathered in its row buffer and written when
the buffer goes out: one upsert per changed fact, a delete per ended stage run.

Counts are added (``cases = cases + :delta``), so concurrent transactions on other cases
never overwrite each other's counts; a stage run, a late run and an escalation belong to one
case, which the case's version check already serialises.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table
from sqlmodel import Session

from engine import rowbuffer
from engine.cases.models import Case
from engine.views import statements
from engine.views.models import (
    DAY_KEYS,
    ViewEscalation,
    ViewIntakeDay,
    ViewKpiDay,
    ViewKpiDayUnit,
    ViewKpiMonth,
    ViewLateRun,
    ViewOpenCount,
    ViewStageLight,
)

OPEN = ViewOpenCount.__table__  # type: ignore[attr-defined]
DAYS = ViewKpiDay.__table__  # type: ignore[attr-defined]
DAY_UNITS = ViewKpiDayUnit.__table__  # type: ignore[attr-defined]
MONTHS = ViewKpiMonth.__table__  # type: ignore[attr-defined]
LIGHTS = ViewStageLight.__table__  # type: ignore[attr-defined]
LATE = ViewLateRun.__table__  # type: ignore[attr-defined]
ESCALATIONS = ViewEscalation.__table__  # type: ignore[attr-defined]
INTAKE = ViewIntakeDay.__table__  # type: ignore[attr-defined]
INTAKE_KEY = ("day", "unit", "operator", "category")
DAY_KEY = ("day", "unit", "department", "category")
DAY_UNIT_KEY = ("day", "unit", "department")
MONTH_KEY = ("month", "unit", "department")
OPEN_KEY = ("state", "unit", "department")
CACHE_KEY = "views"

DayKey = tuple[date, str, str, str]  # day, unit, department, category
OpenKey = tuple[str, str, str]  # state, unit, department
IntakeKey = tuple[date, str, str, str]  # day, unit, operator, category


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


class Pending:
    """What this transaction changed in the read models, not yet written."""

    def __init__(self) -> None:
        self.open: Counter[OpenKey] = Counter()
        self.days: dict[DayKey, dict[str, int]] = {}
        self.lights: dict[int, dict[str, dict[str, Any]]] = {}  # case → stage → row (loaded)
        self.changed_lights: dict[tuple[int, str], dict[str, Any]] = {}
        self.dropped_lights: set[tuple[int, str]] = set()
        self.stored_lights: set[tuple[int, str]] = set()  # rows the database has
        self.late: list[dict[str, Any]] = []
        self.escalations: dict[int, dict[str, Any] | None] = {}  # None: the case closed
        self.leads: dict[int, str | None] = {}  # case → lead department after its last step
        self.intake: dict[IntakeKey, dict[str, int]] = {}
        self.filers: dict[int, str] = {}  # case → who filed it (this transaction's intakes)
        self.zone_name: str | None = None
        self.calendar: Any = None  # the working calendar (engine.views.hooks reads it once)
        self._zone: ZoneInfo | None = None
        self._day: tuple[datetime | None, date | None] = (None, None)  # the last day_of

    @classmethod
    def of(cls, session: Session) -> Pending:
        """This transaction's changes, written with its other rows."""
        buffer = rowbuffer.buffer(session)
        found = buffer.cache.get(CACHE_KEY)
        if found is None:
            found = buffer.cache[CACHE_KEY] = cls()
        if CACHE_KEY not in buffer.writes:  # once after each time the buffer went out
            rowbuffer.keep(session, CACHE_KEY, DAYS, found.write)
        return found

    def set_zone(self, name: str) -> None:
        self.zone_name, self._zone = name, ZoneInfo(name)

    def zone(self, name: str | None = None) -> ZoneInfo:
        if self._zone is None:
            assert name is not None
            self.set_zone(name)
        return self._zone  # type: ignore[return-value]

    def day_of(self, at: datetime) -> date:
        """The local day of ``at`` (a transaction's steps mostly ask for the same instant)."""
        last, day = self._day
        if last is None or at != last:  # the same instant: the same local day
            day = local_day(at, self.zone())
            self._day = (at, day)
        return day  # type: ignore[return-value]

    def add_day(self, key: DayKey, counts: dict[str, int]) -> None:
        sum_into(self.days, key, counts)

    def add_intake(self, key: IntakeKey, counts: dict[str, int]) -> None:
        sum_into(self.intake, key, counts)

    def add_open(self, key: OpenKey, delta: int) -> None:
        self.open[key] += delta

    def keep_light(self, case_id: int, row: dict[str, Any]) -> None:
        self.changed_lights[case_id, row["stage"]] = row
        self.dropped_lights.discard((case_id, row["stage"]))

    def drop_light(self, case_id: int, stage: str) -> None:
        self.changed_lights.pop((case_id, stage), None)
        if (case_id, stage) in self.stored_lights:  # else it never reached the database
            self.dropped_lights.add((case_id, stage))

    def late_run(self, row: dict[str, Any], generation: int, day: date) -> None:
        keys = ("case_id", "stage", "unit", "department", "category")
        self.late.append({k: row[k] for k in keys} | {"generation": generation, "day": day})

    def escalated(self, case: Case, stage: str, at: datetime) -> None:
        assert case.id is not None
        self.escalations[case.id] = {
            "case_id": case.id,
            "unit": case.owning_unit,
            "supervision_unit": case.supervision_unit or "",
            "card": case.card or "",
            "stage": stage,
            "at": at,
        }

    def closed_case(self, case_id: int) -> None:
        self.escalations[case_id] = None

    def write(self, connection: Connection) -> None:
        """Write what is pending (the row buffer calls this as its rows go out)."""
        opened = {key: n for key, n in self.open.items() if n}
        add_counts(connection, OPEN, OPEN_KEY, {key: {"cases": n} for key, n in opened.items()})
        add_counts(connection, DAYS, DAY_KEY, self.days)
        add_counts(connection, DAY_UNITS, DAY_UNIT_KEY, rolled_up(self.days, whole_month=False))
        add_counts(connection, MONTHS, MONTH_KEY, rolled_up(self.days, whole_month=True))
        add_counts(connection, INTAKE, INTAKE_KEY, self.intake)
        if self.dropped_lights:
            delete_keys(connection, LIGHTS, ("case_id", "stage"), self.dropped_lights)
        for row in self.changed_lights.values():
            if callable(row["yellow_at"]):
                row["yellow_at"] = row["yellow_at"]()
        replace(connection, LIGHTS, list(self.changed_lights.values()), ("case_id", "stage"))
        self.stored_lights |= self.changed_lights.keys()
        self.stored_lights -= self.dropped_lights
        if self.late:
            columns = [c.name for c in LATE.columns]
            late = [{name: row[name] for name in columns} for row in self.late]
            statements.insert(LATE).many(connection, late)
        closed = {(case_id,) for case_id, row in self.escalations.items() if row is None}
        if closed:
            delete_keys(connection, ESCALATIONS, ("case_id",), closed)
        kept = [row for row in self.escalations.values() if row is not None]
        replace(connection, ESCALATIONS, kept, ("case_id",))
        self.open, self.days, self.intake = Counter(), {}, {}
        self.late, self.escalations = [], {}
        self.changed_lights, self.dropped_lights = {}, set()


def sum_into(facts: dict[Any, dict[str, int]], key: Any, counts: Mapping[str, int]) -> None:
    """Add ``counts`` to the counts kept under ``key`` (a new key starts at them)."""
    found = facts.get(key)
    if found is None:
        facts[key] = dict(counts)
    else:
        for name, n in counts.items():
            found[name] = found.get(name, 0) + n


def rolled_up(
    days: Mapping[DayKey, Mapping[str, int]], whole_month: bool
) -> dict[tuple[date, str, str], dict[str, int]]:
    """The daily facts without their category, per day or (``whole_month``) per month (the
    facts of ``view_kpi_day_unit`` and ``view_kpi_month``), those that count something."""
    found: dict[tuple[date, str, str], dict[str, int]] = {}
    for (day, unit, department, _), counts in days.items():
        sum_into(found, (day.replace(day=1) if whole_month else day, unit, department), counts)
    return {key: counts for key, counts in found.items() if any(counts.values())}


def rollup(
    days: Mapping[DayKey, Mapping[str, int]], name: str, whole_month: bool
) -> list[dict[str, Any]]:
    """``rolled_up`` as rows of ``view_kpi_day_unit`` (``name`` ``day``) or ``view_kpi_month``
    (``month``), every count named."""
    return [
        {name: when, "unit": u, "department": dep} | {k: counts.get(k, 0) for k in DAY_KEYS}
        for (when, u, dep), counts in rolled_up(days, whole_month).items()
    ]


def add_counts(
    connection: Connection,
    table: Table,
    keys: tuple[str, ...],
    facts: Mapping[tuple[Any, ...], Mapping[str, int]],
) -> None:
    """Add each key's counts to its stored row (inserted at 0 first), in key order (one lock
    order for all writers). One statement for the table, binding only the counts some fact
    names (statements.add_counts)."""
    if not facts:
        return
    named: set[str] = set()
    for counts in facts.values():
        named.update(counts)
    columns = tuple(c.name for c in table.columns if c.name in named)
    rows = []
    for key, counts in sorted(facts.items()):
        row = dict(zip(keys, key, strict=True))  # one dict a row: fewer objects to collect
        for c in columns:
            row[c] = counts.get(c, 0)
        rows.append(row)
    statements.add_counts(connection, table, keys, columns).many(connection, rows)


def add_up(
    connection: Connection, table: Table, rows: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    """Add each row's counts to the stored row of its key (inserted at 0 first)."""
    facts: dict[tuple[Any, ...], Counter[str]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        found = facts.get(key)
        if found is None:
            found = facts[key] = Counter()
        found.update({k: v for k, v in row.items() if k not in keys})
    add_counts(connection, table, keys, facts)


def replace(
    connection: Connection, table: Table, rows: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    """Insert each row, or replace the stored row of its key."""
    if rows:
        columns = [c.name for c in table.columns]
        rows = [{name: row.get(name) for name in columns} for row in rows]
        statements.upsert(connection, table, keys, add=False).many(connection, rows)


def delete_keys(
    connection: Connection, table: Table, keys: tuple[str, ...], values: set[tuple[Any, ...]]
) -> None:
    params = [{f"key_{k}": v for k, v in zip(keys, value, strict=True)} for value in values]
    statements.delete_by(table, keys).many(connection, params)
