"""A batch of replayed cases written in one transaction, one executemany per table.

The case ids are taken first (a database sequence on PostgreSQL; on SQLite the highest id
under the write lock), so each case's audit events are built, chained and hashed by
``engine.audit`` before anything is written, and the case row goes out once, complete with
its version and audit head. The rows wait in the transaction's row buffer
(``engine.rowbuffer``): cases, events and the lead department's task for every case; for a
case still open, the run of its current SLA stage and that run's timers, made by the engine's
own clock and timer functions (``engine.sla``, ``engine.timers.plan``) as if the case had
just entered its state. Before the commit each ``BatchSink`` sees the landed batch in the
same transaction: the seam where facts kept per batch (read models) are fed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, false, func, select, text, update
from sqlmodel import Session

from engine import rowbuffer
from engine.audit import AuditKey, AuditKeys, NewEvent, event_mac, new_event
from engine.cases.effects import TASKS
from engine.cases.models import Case
from engine.cases.rows import CASES, EVENTS
from engine.city.directory import CityDirectory
from engine.durations import parse_duration
from engine.history.replay import IMPORTED, ReplayedCase
from engine.sla import clocks, runs
from engine.sla.calendars import CityCalendars
from engine.sla.limits import SlaSettings, stage_limit
from engine.timers.plan import plan_clock

_case_row = rowbuffer.columns_of(CASES)
_LANDED = select(CASES.c.external_id).where(
    CASES.c.channel == IMPORTED, CASES.c.external_id.in_(bindparam("ids", expanding=True))
)
_PG_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('\"case\"', 'id')) FROM generate_series(1, :count)"
)
# A write that changes nothing: on SQLite it takes the database's write lock, so the highest
# id read after it stays the highest until this transaction ends.
_SQLITE_LOCK = update(CASES).where(false()).values(version=CASES.c.version)


@dataclass(slots=True)
class LandedCase:
    id: int
    case: ReplayedCase
    events: list[NewEvent]


class BatchSink(Protocol):
    def land(self, session: Session, batch: Sequence[LandedCase]) -> None:
        """Write what this sink keeps of ``batch``, in the batch's own transaction."""
        ...


def landed_ids(connection: Connection, old_ids: Sequence[str]) -> set[str]:
    """Which of these old-system ids are imported cases already."""
    if not old_ids:
        return set()
    return set(connection.execute(_LANDED, {"ids": list(old_ids)}).scalars())


def allocate_ids(connection: Connection, count: int) -> list[int]:
    """``count`` new case ids, reserved for this transaction."""
    if connection.dialect.name == "postgresql":
        return sorted(connection.execute(_PG_IDS, {"count": count}).scalars())
    connection.execute(_SQLITE_LOCK)
    top = connection.execute(select(func.max(CASES.c.id))).scalar() or 0
    return list(range(top + 1, top + 1 + count))


class Lander:
    def __init__(
        self,
        city: CityDirectory,
        calendars: CityCalendars,
        keys: AuditKeys,
        sinks: Sequence[BatchSink] = (),
    ) -> None:
        self.city, self.calendars, self.sinks = city, calendars, list(sinks)
        self.keys = keys
        self.settings = SlaSettings.of(city)

    def land(self, session: Session, batch: Sequence[ReplayedCase], now: datetime) -> int:
        """Write ``batch`` in ``session``'s transaction (the caller commits); the number of
        open cases among it. ``now``: when the open cases' timers are set."""
        connection = session.connection()
        ids = allocate_ids(connection, len(batch))
        key = self.keys.current()
        landed = []
        for case_id, case in zip(ids, batch, strict=True):
            row = _case_row(case.row) | {"id": case_id, "version": len(case.entries)}
            events = _events(key, row, case)
            row["audit_head"] = events[-1].hash
            rowbuffer.add(session, CASES, row)
            landed.append(LandedCase(case_id, case, events))
        buffer = rowbuffer.buffer(session)
        for item in landed:
            for event in item.events:
                rowbuffer.add(session, EVENTS, event.row())
        opened = 0
        for item in landed:
            lead = item.case.row["lead_department"]
            if lead is not None:
                task = {"case_id": item.id, "department": lead, "lead": True, "done": False}
                rowbuffer.add(session, TASKS, task)
            if item.case.is_open:
                buffer.unwritten.add(item.id)  # none of its clocks is stored: no read
                self._start_clock(session, item, now)
                opened += 1
        for sink in self.sinks:
            sink.land(session, landed)
        rowbuffer.flush(session)
        return opened

    def _start_clock(self, session: Session, item: LandedCase, now: datetime) -> None:
        """The open case's current stage run and its timers, as the SLA hook makes them."""
        run = item.case.run
        assert run is not None
        city = self.city
        calendar = self.calendars.get(session, now)
        limit = stage_limit(Case(**item.case.row), run.stage, city, self.settings)
        clock = runs.start(
            session, item.id, run.stage, limit, run.started_at, calendar, run.generation
        )
        for change, at, duration in run.changes:
            if change == "pause":
                clocks.pause_clock(clock, at)
            elif change == "resume":
                clocks.resume_clock(clock, at, calendar)
            elif duration is not None:
                clocks.extend_clock(clock, parse_duration(duration), calendar)
        plan_clock(session, clock, now, calendar, self.settings, at_top=False, reason="started")


def _events(key: AuditKey, row: dict[str, Any], case: ReplayedCase) -> list[NewEvent]:
    """The case's audit trail, chained with the audit key. Its last event carries the tags of
    the case row as it lands (``verify`` checks the row against them); the steps before it
    happened in the old system, whose rows gridflow never held, so they vouch for no row."""
    events: list[NewEvent] = []
    head, last = "", len(case.entries)
    for seq, entry in enumerate(case.entries, 1):
        if seq == last:
            event = new_event(
                key=key,
                case=SimpleNamespace(**row),
                seq=seq,
                at=entry.at,
                actor=entry.actor,
                actor_role=entry.actor_role,
                action=entry.action,
                from_state=entry.from_state,
                to_state=entry.to_state,
                data=entry.data,
                prev_hash=head,
            )
        else:
            event = NewEvent(
                case_id=row["id"],
                seq=seq,
                at=entry.at,
                actor=entry.actor,
                actor_role=entry.actor_role,
                action=entry.action,
                from_state=entry.from_state,
                to_state=entry.to_state,
                data=entry.data,
                prev_hash=head,
                key_id=key.key_id,
            )
            event.hash = event_mac(key, head, event)
        events.append(event)
        head = event.hash
    return events
