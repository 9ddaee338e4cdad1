"""Rebuild the read models from the audit trail, and check the kept ones against it.

The rebuild replays every case's audit trail (``case_event``) with its SLA clocks
(engine.kpis.replay, the KPIs' reference implementation) a chunk of cases at a time, so its
memory follows the chunk and the size of the daily facts, never the number of cases. The
open-case counts are the case rows' own (each verified against its audit trail by
``gridflow audit verify``). See docs/READ_SIDE.md#read-models-views.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Connection, MetaData, Table, and_, delete, func, or_, select

from engine.calendar import WorkCalendar
from engine.cases.models import Case, CaseEvent, Channel
from engine.cases.workflow import Workflow
from engine.city.directory import CityDirectory
from engine.knowledge.answers import ANSWER_ACTION
from engine.kpis.aggregate import callback_counts, micros
from engine.kpis.compute import collect_facts
from engine.kpis.definitions import STAGE_COUNTS
from engine.kpis.replay import Fact
from engine.sla.clocks import yellow_point
from engine.sla.limits import SlaSettings
from engine.sla.models import SlaClock
from engine.views.facts import (
    DAY_KEY,
    DAY_UNIT_KEY,
    DAY_UNITS,
    DAYS,
    ESCALATIONS,
    INTAKE,
    INTAKE_KEY,
    LATE,
    LIGHTS,
    MONTH_KEY,
    MONTHS,
    OPEN,
    add_up,
    local_day,
    rollup,
)
from engine.views.models import DAY_KEYS, INTAKE_KEYS

CHUNK = 500
CASES = Case.__table__  # type: ignore[attr-defined]
CLOCKS = SlaClock.__table__  # type: ignore[attr-defined]
EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]
Progress = Callable[[int], None]  # cases done since the last call

# (table, its key columns) of the facts kept per case, compared chunk by chunk.
PER_CASE = (
    (LIGHTS, ("case_id", "stage")),
    (LATE, ("case_id", "stage", "generation")),
    (ESCALATIONS, ("case_id",)),
)
OPEN_KEY = ("state", "unit", "department")
# Compared with a tolerance: sums of floats that the two ways add in another order.
APPROXIMATE = {"working_seconds": 1e-3}


@dataclass
class Rebuilt:
    """The daily facts and open counts (small: days × units × departments × categories)."""

    days: dict[tuple[Any, ...], Counter[str]] = field(default_factory=dict)
    open: dict[tuple[Any, ...], int] = field(default_factory=dict)
    intake: dict[tuple[Any, ...], Counter[str]] = field(default_factory=dict)

    def intake_rows(self) -> list[dict[str, Any]]:
        return [
            dict(zip(INTAKE_KEY, key, strict=True)) | {k: counts.get(k, 0) for k in INTAKE_KEYS}
            for key, counts in self.intake.items()
            if any(counts.values())
        ]

    def day_rows(self) -> list[dict[str, Any]]:
        return [
            dict(zip(DAY_KEY, key, strict=True)) | {k: counts.get(k, 0) for k in DAY_KEYS}
            for key, counts in self.days.items()
            if any(counts.values())
        ]

    def day_unit_rows(self) -> list[dict[str, Any]]:
        return rollup(self.days, "day", whole_month=False)  # type: ignore[arg-type]

    def month_rows(self) -> list[dict[str, Any]]:
        return rollup(self.days, "month", whole_month=True)  # type: ignore[arg-type]

    def open_rows(self) -> list[dict[str, Any]]:
        return [
            dict(zip(OPEN_KEY, key, strict=True)) | {"cases": n}
            for key, n in self.open.items()
            if n
        ]


# The count tables a rebuild adds up chunk by chunk: (table, its key, the chunk's rows).
COUNTED = (
    (DAYS, DAY_KEY, Rebuilt.day_rows),
    (DAY_UNITS, DAY_UNIT_KEY, Rebuilt.day_unit_rows),
    (MONTHS, MONTH_KEY, Rebuilt.month_rows),
    (INTAKE, INTAKE_KEY, Rebuilt.intake_rows),
)
COUNT_TABLES = tuple(table for table, _, _ in COUNTED)


@dataclass
class Chunk:
    case_ids: list[int]
    rows: dict[str, list[dict[str, Any]]]  # table name → the rebuilt rows of these cases


class Rebuilder:
    """Replays the audit trail into read-model rows."""

    def __init__(
        self,
        conn: Connection,
        city: CityDirectory,
        workflow: Workflow,
        calendar: WorkCalendar,
        now: datetime,
    ) -> None:
        self.conn, self.city, self.workflow = conn, city, workflow
        self.calendar, self.now = calendar, now
        self.zone = ZoneInfo(city.timezone)
        self.yellow_at = SlaSettings.of(city).yellow_at
        self.result = Rebuilt()

    def total(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(CASES)).scalar_one())

    def chunks(self, only: list[int] | None = None) -> Iterator[Chunk]:
        """Every case (or those of ``only``), a chunk at a time."""
        last = 0
        while True:
            query = (
                select(
                    CASES.c.id, CASES.c.owning_unit, CASES.c.category, CASES.c.state,
                    CASES.c.supervision_unit, CASES.c.card, CASES.c.channel, CASES.c.created_at,
                )
                .where(CASES.c.id > last)
                .order_by(CASES.c.id)
                .limit(CHUNK)
            )  # fmt: skip
            if only is not None:
                query = query.where(CASES.c.id.in_(_chunk_of(only, last)))
            cases = {row["id"]: row for row in self.conn.execute(query).mappings()}
            if not cases:
                return
            last = max(cases)
            yield self._chunk(cases)

    def open_counts(self, only: list[int] | None = None) -> None:
        c = CASES.c
        finals = [name for name, state in self.workflow.states.items() if state.final]
        query = (
            select(c.state, c.owning_unit, c.lead_department, func.count())
            .where(c.state.not_in(finals))
            .group_by(c.state, c.owning_unit, c.lead_department)
        )
        if only is not None:
            query = query.where(c.id.in_(only))
        for state, unit, department, n in self.conn.execute(query):
            key = (state, unit, department or "")
            self.result.open[key] = self.result.open.get(key, 0) + int(n)

    def _chunk(self, cases: dict[int, Any]) -> Chunk:
        ids = sorted(cases)
        clocks = {
            (r["case_id"], r["stage"], r["generation"]): r
            for r in self.conn.execute(select(CLOCKS).where(CLOCKS.c.case_id.in_(ids))).mappings()
        }
        rows: dict[str, list[dict[str, Any]]] = {"view_stage_light": [], "view_late_run": []}
        escalations: dict[int, dict[str, Any]] = {}
        facts = collect_facts(self.conn, ids, self.workflow, self.calendar, self.now)
        for fact in facts:
            case = cases[fact.case_id]
            where = {
                "unit": case["owning_unit"],
                "department": fact.department or "",
                "category": case["category"] or "",
            }
            if fact.kind == "open_run":
                clock = clocks.get((fact.case_id, fact.stage, fact.generation))
                if clock is not None:
                    rows["view_stage_light"].append(self._light(fact, clock, where))
            elif fact.kind == "escalated":
                final = self.workflow.is_final(case["state"])
                if not final:
                    escalations[fact.case_id] = {
                        "case_id": fact.case_id,
                        "unit": case["owning_unit"],
                        "supervision_unit": case["supervision_unit"] or "",
                        "card": case["card"] or "",
                        "stage": fact.stage or "",
                        "at": fact.at,
                    }
            else:
                self._count(fact, where, rows["view_late_run"])
        rows["view_escalation"] = list(escalations.values())
        self._intake(cases)
        return Chunk(ids, rows)

    def _intake(self, cases: dict[int, Any]) -> None:
        """直办率's facts of the chunk's hotline cases (engine.views.hooks writes the same):
        each filed, and each answered at intake, on the day it was filed for its filer."""
        hotline = [i for i, case in cases.items() if case["channel"] == Channel.hotline]
        if not hotline:
            return
        e = EVENTS.c
        query = (
            select(e.case_id, e.actor, e.action, e.from_state)
            .where(e.case_id.in_(hotline), or_(e.from_state.is_(None), e.action == ANSWER_ACTION))
            .order_by(e.case_id, e.seq)
        )
        filers: dict[int, str] = {}
        for case_id, actor, action, from_state in self.conn.execute(query):
            case = cases[case_id]
            filed = from_state is None and case_id not in filers
            if filed:
                filers[case_id] = actor
            elif action != ANSWER_ACTION:
                continue
            day = local_day(case["created_at"], self.zone)
            key = (day, case["owning_unit"], filers.get(case_id, ""), case["category"] or "")
            counts = self.result.intake.setdefault(key, Counter())
            counts["hotline_cases" if filed else "answered_at_intake"] += 1

    def _light(self, fact: Fact, clock: Any, where: dict[str, str]) -> dict[str, Any]:
        due_at, paused_at = clock["due_at"], clock["paused_at"]
        yellow = yellow_point(_ClockView(clock), self.calendar, self.yellow_at)
        return {
            "case_id": fact.case_id, "stage": fact.stage, "generation": fact.generation,
            **where, "started_at": fact.at, "yellow_at": yellow, "due_at": due_at,
            "paused_at": paused_at, "light": fact.light,
            "working_seconds": (fact.hours or 0.0) * 3600, "since": fact.since,
        }  # fmt: skip

    def _count(self, fact: Fact, where: dict[str, str], late: list[dict[str, Any]]) -> None:
        counts = _fact_counts(fact)
        if counts:
            key = (local_day(fact.at, self.zone), where["unit"], where["department"])
            key += (where["category"],)
            self.result.days.setdefault(key, Counter()).update(counts)
        if fact.kind == "run" and not fact.on_time and not fact.still_open:
            day = local_day(fact.at, self.zone)
            late.append(
                {"case_id": fact.case_id, "stage": fact.stage, "generation": fact.generation}
                | where
                | {"day": day}
            )


def _chunk_of(ids: list[int], after: int) -> list[int]:
    """The next ``CHUNK`` of ``ids`` above ``after``."""
    return sorted(i for i in ids if i > after)[:CHUNK]


class _ClockView:
    """An ``sla_clock`` row as engine.sla.clocks reads a clock."""

    def __init__(self, row: Any) -> None:
        self.started_at, self.due_at, self.kind = row["started_at"], row["due_at"], row["kind"]
        self.paused_seconds, self.paused_at = row["paused_seconds"], row["paused_at"]
        self.stopped_at = row["stopped_at"]


def _fact_counts(fact: Fact) -> dict[str, int]:
    """The daily counts one replayed fact adds (engine.views.hooks writes the same)."""
    k = fact.kind
    if k == "received":
        return {"received": 1}
    if k == "closed":
        return {"closed": 1}
    if k == "assigned":
        return {"assigned": 1}
    if k == "returned":
        return {"returns": 1}
    if k == "redispatched":
        return {"redispatched": 1}
    if k == "reworked":
        return {"reworks": 1}
    if k == "verified":
        return {"verifies": 1, "verifies_passed": int(fact.passed)}
    if k == "callback":
        return callback_counts(fact.values)
    if k == "resolved":
        return {"resolves": 1, "handled": 1, "handle_us": micros(fact.hours or 0.0)}
    if k == "run" and not fact.still_open and fact.stage in STAGE_COUNTS:
        due, on_time = STAGE_COUNTS[fact.stage]
        return {due: 1, on_time: int(fact.on_time)}
    return {}


# ------------------------------------------------------------------------------ rebuild


@dataclass
class Summary:
    cases: int
    day_rows: int
    open_cases: int


def rebuild(
    conn: Connection,
    city: CityDirectory,
    workflow: Workflow,
    calendar: WorkCalendar,
    now: datetime,
    progress: Progress | None = None,
) -> Summary:
    """Replace every read-model row with what the audit trail says (in the caller's
    transaction: commit it, or roll it back to keep the old rows)."""
    for table in (*COUNT_TABLES, OPEN, *(t for t, _ in PER_CASE)):
        conn.execute(delete(table))
    builder = Rebuilder(conn, city, workflow, calendar, now)
    tables = {table.name: table for table, _ in PER_CASE}
    cases = 0
    for chunk in builder.chunks():
        for name, rows in chunk.rows.items():
            if rows:
                conn.execute(tables[name].insert(), rows)
        _add_counts(conn, builder.result, COUNT_TABLES)
        cases += len(chunk.case_ids)
        if progress is not None:
            progress(len(chunk.case_ids))
    builder.open_counts()
    rows = builder.result.open_rows()
    if rows:
        conn.execute(OPEN.insert(), rows)
    day_rows = conn.execute(select(func.count()).select_from(DAYS)).scalar_one()
    return Summary(cases, int(day_rows), sum(r["cases"] for r in rows))


def _add_counts(conn: Connection, result: Rebuilt, tables: Sequence[Table]) -> None:
    """Add a chunk's counts to ``tables`` (the count tables, or their scratch copies in the
    same order), and forget them: the memory a rebuild takes follows a chunk, never the
    history."""
    for table, (_, keys, rows_of) in zip(tables, COUNTED, strict=True):
        add_up(conn, table, rows_of(result), keys)
    result.days.clear()
    result.intake.clear()


def add_cases(
    conn: Connection,
    city: CityDirectory,
    workflow: Workflow,
    calendar: WorkCalendar,
    now: datetime,
    case_ids: list[int],
) -> None:
    """Add the read-model facts of cases written without the case service's hooks (a bulk
    history import lands them so), in the caller's transaction. The cases must be new to the
    read models: their facts are added, not replaced."""
    builder = Rebuilder(conn, city, workflow, calendar, now)
    tables = {table.name: table for table, _ in PER_CASE}
    for chunk in builder.chunks(case_ids):
        for name, rows in chunk.rows.items():
            if rows:
                conn.execute(tables[name].insert(), rows)
        _add_counts(conn, builder.result, COUNT_TABLES)
        builder.open_counts(chunk.case_ids)
    add_up(conn, OPEN, builder.result.open_rows(), OPEN_KEY)


class ImportedCases:
    """A history import's batch sink (``engine.history``): the facts of the cases each batch
    lands, added in the batch's own transaction, so the board and KPIs count imported cases
    at once and ``gridflow views check`` finds nothing to say after an import."""

    def __init__(
        self,
        city: CityDirectory,
        workflow: Workflow,
        calendar: WorkCalendar,
        now: Callable[[], datetime],
    ) -> None:
        self.city, self.workflow, self.calendar, self.now = city, workflow, calendar, now

    def land(self, session: Any, batch: Sequence[Any]) -> None:
        ids = [landed.id for landed in batch]
        add_cases(session.connection(), self.city, self.workflow, self.calendar, self.now(), ids)


# ------------------------------------------------------------------------------ check


def check(
    conn: Connection,
    city: CityDirectory,
    workflow: Workflow,
    calendar: WorkCalendar,
    now: datetime,
    progress: Progress | None = None,
) -> list[str]:
    """Every difference between the kept read models and a rebuild, each named. The rebuilt
    counts go to temporary tables, compared with the kept ones in SQL."""
    builder = Rebuilder(conn, city, workflow, calendar, now)
    found: list[str] = []
    scratch = [_scratch(conn, table) for table in COUNT_TABLES]
    try:
        for chunk in builder.chunks():
            for table, keys in PER_CASE:
                kept = conn.execute(select(table).where(table.c.case_id.in_(chunk.case_ids)))
                found += differences(
                    table.name, keys, list(kept.mappings()), chunk.rows[table.name]
                )
            _add_counts(conn, builder.result, scratch)
            if progress is not None:
                progress(len(chunk.case_ids))
        for (kept, keys, _), rebuilt in zip(COUNTED, scratch, strict=True):
            found += _count_differences(conn, kept, rebuilt, keys)
    finally:
        for rebuilt in scratch:
            rebuilt.drop(conn)
    builder.open_counts()
    kept_open = [dict(r) for r in conn.execute(select(OPEN).where(OPEN.c.cases != 0)).mappings()]
    found += differences(OPEN.name, OPEN_KEY, kept_open, builder.result.open_rows())
    return found


def _scratch(conn: Connection, table: Table) -> Table:
    """An empty temporary table shaped as ``table``."""
    columns = [Column(c.name, c.type, primary_key=c.primary_key) for c in table.columns]
    scratch = Table(f"rebuilt_{table.name}", MetaData(), *columns, prefixes=["TEMPORARY"])
    # A pooled connection may keep one from a check whose transaction rolled its drop back.
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {scratch.name}")
    scratch.create(conn)
    return scratch


def _count_differences(
    conn: Connection, kept: Table, rebuilt: Table, keys: tuple[str, ...]
) -> list[str]:
    """The kept count rows that differ from the rebuilt ones, or that only one side has."""
    on = and_(*(kept.c[k] == rebuilt.c[k] for k in keys))
    counts = [c.name for c in kept.columns if c.name not in keys]
    marker = rebuilt.c[keys[0]].label("rebuilt_key")
    theirs = [rebuilt.c[c].label(f"rebuilt_{c}") for c in counts]
    changed = (
        select(kept, marker, *theirs)
        .select_from(kept.outerjoin(rebuilt, on))
        .where(
            or_(*(kept.c[c] != 0 for c in counts)),
            or_(marker.is_(None), *(kept.c[c] != rebuilt.c[c] for c in counts)),
        )
    )
    found = []
    for row in conn.execute(changed).mappings():
        name = f"{kept.name} {'/'.join(str(_plain(row[k])) for k in keys)}"
        if row["rebuilt_key"] is None:
            found.append(f"{name}: extra (not in the audit trail)")
            continue
        for c in counts:
            if row[c] != row[f"rebuilt_{c}"]:
                found.append(f"{name}: {c} kept {row[c]!r}, rebuilt {row[f'rebuilt_{c}']!r}")
    missing = (
        select(rebuilt).select_from(rebuilt.outerjoin(kept, on)).where(kept.c[keys[0]].is_(None))
    )
    for row in conn.execute(missing).mappings():
        name = f"{kept.name} {'/'.join(str(_plain(row[k])) for k in keys)}"
        found.append(f"{name}: missing (the audit trail has it)")
    return sorted(found)


def differences(
    table: str,
    keys: tuple[str, ...],
    kept: list[Any],
    rebuilt: list[dict[str, Any]],
) -> list[str]:
    """``table key: column kept X, rebuilt Y`` for each differing value; a row only one side
    has is named as missing or extra."""
    kept_by = {tuple(_plain(row[k]) for k in keys): row for row in kept}
    rebuilt_by = {tuple(_plain(row[k]) for k in keys): row for row in rebuilt}
    found = []
    for key in sorted(kept_by.keys() | rebuilt_by.keys(), key=str):
        name = f"{table} {'/'.join(str(part) for part in key)}"
        mine, theirs = kept_by.get(key), rebuilt_by.get(key)
        if mine is None:
            found.append(f"{name}: missing (the audit trail has it)")
        elif theirs is None:
            found.append(f"{name}: extra (not in the audit trail)")
        else:
            for column, value in theirs.items():
                if column in keys or _same(column, mine[column], value):
                    continue
                found.append(f"{name}: {column} kept {mine[column]!r}, rebuilt {value!r}")
    return found


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _same(column: str, kept: Any, rebuilt: Any) -> bool:
    tolerance = APPROXIMATE.get(column)
    if tolerance is not None and kept is not None and rebuilt is not None:
        return abs(kept - rebuilt) <= tolerance
    if isinstance(kept, datetime) and isinstance(rebuilt, datetime):
        return abs((kept - rebuilt).total_seconds()) < 1e-3
    return kept == rebuilt
