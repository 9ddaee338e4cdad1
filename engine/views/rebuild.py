"""Rebuild the read models from the audit trail, and add the facts of cases written without
the case service's hooks.

The rebuild replays every case's audit trail (``case_event``) with its SLA clocks
(engine.kpis.replay, the KPIs' reference implementation) a chunk of cases at a time, so its
memory follows the chunk and the size of the daily facts, never the number of cases. What
each fact puts in the read models is ``engine.views.tally``'s. The open-case counts are the
case rows' own (each verified against its audit trail by ``gridflow audit verify``). See
docs/READ_SIDE.md#read-models-views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, delete, func, or_, select

from engine.calendar import WorkCalendar
from engine.cases.models import Case, CaseEvent, Channel
from engine.cases.workflow import Workflow
from engine.city.directory import CityDirectory
from engine.knowledge.answers import ANSWER_ACTION
from engine.kpis.compute import collect_facts
from engine.sla.limits import SlaSettings
from engine.sla.models import SlaClock
from engine.views.facts import (
    DAY_KEY,
    DAY_UNIT_KEY,
    DAY_UNITS,
    DAYS,
    INTAKE,
    INTAKE_KEY,
    MONTH_KEY,
    MONTHS,
    OPEN,
    OPEN_KEY,
    add_up,
)
from engine.views.tally import PER_CASE, Tally, intake_facts

CHUNK = 500
CASES = Case.__table__  # type: ignore[attr-defined]
CLOCKS = SlaClock.__table__  # type: ignore[attr-defined]
EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]
Progress = Callable[[int], None]  # cases done since the last call

# The count tables a rebuild adds up chunk by chunk: (table, its key, the chunk's rows).
COUNTED = (
    (DAYS, DAY_KEY, Tally.day_rows),
    (DAY_UNITS, DAY_UNIT_KEY, Tally.day_unit_rows),
    (MONTHS, MONTH_KEY, Tally.month_rows),
    (INTAKE, INTAKE_KEY, Tally.intake_rows),
)
COUNT_TABLES = tuple(table for table, _, _ in COUNTED)


@dataclass
class Chunk:
    case_ids: list[int]
    rows: dict[str, list[dict[str, Any]]]  # table name → the rebuilt rows of these cases


class Rebuilder:
    """Replays the audit trail into read-model rows (``result``: the counts so far)."""

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
        self.result = Tally(self.zone, workflow, calendar, now, self.yellow_at)

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
            self.result.add_open(state, unit, department, int(n))

    def _chunk(self, cases: dict[int, Any]) -> Chunk:
        ids = sorted(cases)
        clocks = {  # each row read as engine.sla.clocks reads a clock, by attribute
            (r.case_id, r.stage, r.generation): r
            for r in self.conn.execute(select(CLOCKS).where(CLOCKS.c.case_id.in_(ids)))
        }
        tally = self.result
        for fact in collect_facts(self.conn, ids, self.workflow, self.calendar, self.now):
            clock = clocks.get((fact.case_id, fact.stage, fact.generation))
            tally.add_fact(cases[fact.case_id], fact, clock)
        rows = {table.name: rows for table, rows in tally.per_case()}
        tally.clear_cases()
        self._intake(cases)
        return Chunk(ids, rows)

    def _intake(self, cases: dict[int, Any]) -> None:
        """直办率's facts of the chunk's hotline cases (tally.intake_facts), read from their
        filing and answering events alone."""
        hotline = [i for i, case in cases.items() if case["channel"] == Channel.hotline]
        if not hotline:
            return
        e = EVENTS.c
        query = (
            select(e.case_id, e.actor, e.action, e.from_state)
            .where(e.case_id.in_(hotline), or_(e.from_state.is_(None), e.action == ANSWER_ACTION))
            .order_by(e.case_id, e.seq)
        )
        for case_id, steps in groupby(self.conn.execute(query), key=itemgetter(0)):
            for filer, filed in intake_facts((s.actor, s.from_state, s.action) for s in steps):
                self.result.add_intake(cases[case_id], filer, filed)


def _chunk_of(ids: list[int], after: int) -> list[int]:
    """The next ``CHUNK`` of ``ids`` above ``after``."""
    return sorted(i for i in ids if i > after)[:CHUNK]


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
        add_counts(conn, builder.result, COUNT_TABLES)
        cases += len(chunk.case_ids)
        if progress is not None:
            progress(len(chunk.case_ids))
    builder.open_counts()
    rows = builder.result.open_rows()
    if rows:
        conn.execute(OPEN.insert(), rows)
    day_rows = conn.execute(select(func.count()).select_from(DAYS)).scalar_one()
    return Summary(cases, int(day_rows), sum(r["cases"] for r in rows))


def add_counts(conn: Connection, result: Tally, tables: Sequence[Table]) -> None:
    """Add a chunk's counts to ``tables`` (the count tables, or their scratch copies in the
    same order), and forget them: the memory a rebuild takes follows a chunk, never the
    history."""
    for table, (_, keys, rows_of) in zip(tables, COUNTED, strict=True):
        add_up(conn, table, rows_of(result), keys)
    result.clear_counts()


def add_cases(
    conn: Connection,
    city: CityDirectory,
    workflow: Workflow,
    calendar: WorkCalendar,
    now: datetime,
    case_ids: list[int],
) -> None:
    """Add the read-model facts of cases written without the case service's hooks (a bulk
    history import lands them so), in the caller's transaction, replayed from their audit
    trail. The cases must be new to the read models: their facts are added, not replaced."""
    builder = Rebuilder(conn, city, workflow, calendar, now)
    tables = {table.name: table for table, _ in PER_CASE}
    for chunk in builder.chunks(case_ids):
        for name, rows in chunk.rows.items():
            if rows:
                conn.execute(tables[name].insert(), rows)
        add_counts(conn, builder.result, COUNT_TABLES)
        builder.open_counts(chunk.case_ids)
    add_up(conn, OPEN, builder.result.open_rows(), OPEN_KEY)
