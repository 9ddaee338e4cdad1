"""A case's SLA clocks inside one case transaction: read once, changed in memory, written
with the transaction's other rows (engine.rowbuffer).

``case_runs`` gives every clock of the case (every generation), read with one query the first
time a transaction asks, and none at all for a case the transaction itself created. ``start``
adds a clock, inserted when the rows go out; ``save`` records a change to one, written then as
one UPDATE by its natural key (case, stage, generation), however many steps changed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlmodel import Session

from engine import rowbuffer
from engine.calendar import WorkCalendar
from engine.durations import Duration, deadline
from engine.prepared import Prepared
from engine.sla.models import SlaClock

TABLE = SlaClock.__table__  # type: ignore[attr-defined]
_FIELDS = tuple(c.name for c in TABLE.columns if c.name != "id")
_CHANGING = ("due_at", "paused_at", "paused_seconds", "extensions", "stopped_at", "provisional")
_UPDATE = Prepared(
    update(TABLE)
    .where(
        TABLE.c.case_id == bindparam("key_case"),
        TABLE.c.stage == bindparam("key_stage"),
        TABLE.c.generation == bindparam("key_generation"),
    )
    .values({name: bindparam(f"new_{name}", type_=TABLE.c[name].type) for name in _CHANGING})
)
_OF_CASE = Prepared(
    select(*(TABLE.c[name] for name in _FIELDS)).where(TABLE.c.case_id == bindparam("case_id"))
)


@dataclass
class ClockRun:
    """One run of one SLA stage: the fields of an ``sla_clock`` row."""

    case_id: int
    stage: str
    generation: int
    limit: str
    kind: str
    started_at: datetime
    due_at: datetime
    paused_at: datetime | None = None
    paused_seconds: float = 0.0
    extensions: list[str] = field(default_factory=list)
    stopped_at: datetime | None = None
    provisional: bool = False  # the deadline crosses a year without holiday data
    written: bool = True  # False until the transaction's rows go out

    def row(self) -> dict[str, Any]:
        self.written = True
        return {name: getattr(self, name) for name in _FIELDS}


def case_runs(session: Session, case_id: int) -> list[ClockRun]:
    cache = rowbuffer.buffer(session).cache
    key = ("sla_clock", case_id)
    runs = cache.get(key)
    if runs is None:
        if rowbuffer.is_unwritten(session, case_id):
            runs = []
        else:
            # On the connection: this case's clocks are all stored (a clock of this
            # transaction is only ever started after this read, into this cache).
            rows = _OF_CASE.all(session.connection(), {"case_id": case_id})
            runs = [ClockRun(**row) for row in rows]
        cache[key] = runs
    return runs


def open_runs(session: Session, case_id: int) -> list[ClockRun]:
    """The case's clocks that have not stopped (running or paused)."""
    return [run for run in case_runs(session, case_id) if run.stopped_at is None]


def start(
    session: Session,
    case_id: int,
    stage: str,
    limit: Duration,
    now: datetime,
    calendar: WorkCalendar,
    generation: int,
) -> ClockRun:
    """Generation ``generation`` of ``stage``'s clock, due ``limit`` after ``now``."""
    run = ClockRun(
        case_id=case_id,
        stage=stage,
        generation=generation,
        limit=str(limit),
        kind=limit.kind,
        started_at=now,
        due_at=deadline(now, limit, calendar),
        written=False,
    )
    run.provisional = calendar.provisional(run.kind, run.started_at, run.due_at)
    case_runs(session, case_id).append(run)
    rowbuffer.add(session, TABLE, run.row)
    return run


def save(session: Session, run: ClockRun) -> None:
    """Write ``run``'s changes with the transaction's rows."""
    if not run.written:
        return  # its insert is still waiting and will carry them

    def write(connection: Connection) -> None:
        values = {f"new_{name}": getattr(run, name) for name in _CHANGING}
        values |= {
            "key_case": run.case_id,
            "key_stage": run.stage,
            "key_generation": run.generation,
        }
        _UPDATE.rowcount(connection, values)

    key = ("sla_clock", run.case_id, run.stage, run.generation)
    rowbuffer.keep(session, key, TABLE, write)
