"""A batch of replayed cases written in one transaction, one executemany per table.

Each case's ids are reserved before its rows are made (a database sequence on PostgreSQL;
on SQLite the ids above the highest, checked again under the write lock when the batch
lands), so its audit events are built, chained and MAC'd by ``engine.audit`` where the
case is replayed, possibly in a worker process (``Shaper``), and the case row goes out
once, complete with its version and audit head. A batch lands as one executemany per table
(cases, events numbered on the global audit sequence, the lead department's task); for a
case still open, the run of its current SLA stage and that run's timers go through the
row buffer, made by the engine's own clock and timer functions (``engine.sla``,
``engine.timers.plan``) as if the case had just entered its state. Before the commit each
``BatchSink`` sees the landed batch (its case ids) in the same transaction: the seam where
facts kept per batch (read models) are fed. On SQLite the batch's cases are indexed for
full-text search in one statement rather than row by row (``engine.search.bulk``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, false, func, select, text, update
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from engine import rowbuffer
from engine.audit import AuditKey, AuditKeys, NewEvent
from engine.audit.sequence import reserve_numbers
from engine.cases.effects import TASKS
from engine.cases.models import Case
from engine.cases.rows import CASES, EVENTS
from engine.city.directory import CityDirectory
from engine.durations import parse_duration
from engine.history.bulk import TableRows, insert_keys, sqlite_time
from engine.history.replay import IMPORTED, ReplayedCase
from engine.history.trail import chained_events, stored_time
from engine.history.view_rows import Made, ViewRows
from engine.kpis.replay import EventRow
from engine.search.bulk import indexed_together
from engine.sla import clocks, runs
from engine.sla.calendars import CityCalendars
from engine.sla.limits import SlaSettings, stage_limit
from engine.sla.runs import ClockRun
from engine.timers.plan import plan_clock
from engine.views.tally import Tally, trail_of

_case_row = rowbuffer.columns_of(CASES)
# A NewEvent's attributes are its row's columns but ``gseq``, numbered as the batch lands.
_EVENT_ATTRS = frozenset(field.name for field in fields(NewEvent))
_EVENT_KEYS = tuple(name for name in insert_keys(EVENTS) if name != "id")
_TASK_KEYS = tuple(name for name in insert_keys(TASKS) if name != "id")
_LANDED = select(CASES.c.external_id).where(
    CASES.c.channel == IMPORTED, CASES.c.external_id.in_(bindparam("ids", expanding=True))
)
_PG_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('\"case\"', 'id')) FROM generate_series(1, :count)"
)
# A write that changes nothing: on SQLite it takes the database's write lock, so the highest
# id read after it stays the highest until this transaction ends.
_SQLITE_LOCK = update(CASES).where(false()).values(version=CASES.c.version)


@dataclass(frozen=True, slots=True)
class LandedCase:
    """A case a batch landed, as a sink sees it: its id (its rows are in the database, in
    the batch's transaction). Nothing more crosses from the worker processes."""

    id: int


@dataclass(slots=True)
class CaseRows:
    """One replayed case as it lands: its rows as the driver takes them, made where it was
    replayed. ``open``: the replayed case, for a case still open (its clock starts as it
    lands)."""

    old_id: str
    id: int
    case: tuple[Any, ...]
    events: list[list[Any]]  # without their global sequence numbers (given as they land)
    task: tuple[Any, ...] | None
    open: ReplayedCase | None = None


class IdsTaken(Exception):
    """Another writer took ids this batch reserved (SQLite): the batch is made again."""


class BatchSink(Protocol):
    def land(self, session: Session, batch: Sequence[LandedCase]) -> None:
        """Write what this sink keeps of ``batch``, in the batch's own transaction."""
        ...


class TallySink(BatchSink, Protocol):
    """A sink whose rows are the read models' (engine.views.tally), made from each case's
    replay where it is replayed (the worker processes): the writing process only adds them
    up. ``land`` stays the way for a batch whose rows were not made so."""

    def tally(self, now: datetime | None = None) -> Tally:
        """An empty tally for cases replayed at ``now``."""
        ...


def tallies(sinks: Sequence[BatchSink]) -> list[TallySink | None]:
    """Each sink that keeps its rows in a tally, in the sinks' order (None: one that does
    not)."""
    return [sink if callable(getattr(sink, "tally", None)) else None for sink in sinks]  # type: ignore[misc]


def landed_ids(connection: Connection, old_ids: Sequence[str]) -> set[str]:
    """Which of these old-system ids are imported cases already."""
    if not old_ids:
        return set()
    return set(connection.execute(_LANDED, {"ids": list(old_ids)}).scalars())


def reserve_ids(connection: Connection, count: int, above: int = 0) -> list[int]:
    """``count`` new case ids: from the sequence on PostgreSQL (never handed out again);
    on SQLite the ``count`` ids above the highest case id and ``above`` (a reservation, not
    a lock: ``Lander.land`` checks them again under the write lock)."""
    if connection.dialect.name == "postgresql":
        return sorted(connection.execute(_PG_IDS, {"count": count}).scalars())
    top = max(connection.execute(select(func.max(CASES.c.id))).scalar() or 0, above)
    return list(range(top + 1, top + 1 + count))


class Shaper:
    """A replayed case's rows as they land: the case row, its audit events chained and MAC'd
    with the current audit key, the lead department's task, each converted for the driver
    (``engine.history.bulk``). Needs no database: it runs in the import's worker processes."""

    def __init__(self, dialect: Dialect, key: AuditKey) -> None:
        self.key = key
        self.cases = TableRows(CASES, insert_keys(CASES), dialect)
        # SQLite: an event's time and data stored as the text its MAC covers (made once)
        self.texts = dialect.name == "sqlite"
        given = frozenset({"at", "data"}) if self.texts else frozenset()
        self.events = TableRows(EVENTS, _EVENT_KEYS, dialect, _EVENT_ATTRS, lists=True, given=given)
        self.at, self.data = self.events.order.index("at"), self.events.order.index("data")
        self.tasks = TableRows(TASKS, _TASK_KEYS, dialect)
        self.gseq = self.events.order.index("gseq")

    def rows(
        self, case_id: int, case: ReplayedCase, tallies: Sequence[Tally | None] = ()
    ) -> CaseRows:
        """The case's rows; a closed case's read-model facts are added to ``tallies`` (an
        open one's wait for its clock, as it lands)."""
        row = _case_row(case.row) | {"id": case_id, "version": len(case.entries)}
        if not case.is_open:
            add_facts(tallies, row, case, {})
        texts: list[tuple[str, str]] | None = [] if self.texts else None
        events = chained_events(self.key, row, case, texts)
        row["audit_head"] = events[-1].hash
        lead = case.row["lead_department"]
        task = None
        if lead is not None:
            values = {"case_id": case_id, "department": lead, "lead": True, "done": False}
            task = self.tasks.row(values)
        event_row = self.events.row_of
        event_rows = [event_row(event) for event in events]
        if texts is not None:
            at, data = self.at, self.data
            for made, event, (iso, text) in zip(event_rows, events, texts, strict=True):
                made[at], made[data] = stored_time(iso) or sqlite_time(event.at), text
        return CaseRows(
            case.old_id,
            case_id,
            self.cases.row(row),
            event_rows,
            task,
            case if case.is_open else None,
        )


class Lander:
    def __init__(
        self,
        city: CityDirectory,
        calendars: CityCalendars,
        keys: AuditKeys,
        dialect: Dialect,
        sinks: Sequence[BatchSink] = (),
    ) -> None:
        self.city, self.calendars, self.sinks = city, calendars, list(sinks)
        self.keys = keys
        self.settings = SlaSettings.of(city)
        self.shape = Shaper(dialect, keys.current())
        self.tallies = tallies(self.sinks)
        self.views = ViewRows(dialect)

    def land(
        self,
        session: Session,
        batch: Sequence[CaseRows],
        now: datetime,
        made: Sequence[Made | None] | None = None,
    ) -> int:
        """Write ``batch`` in ``session``'s transaction (the caller commits); the number of
        open cases among it. ``now``: when the open cases' timers are set. ``made``: each
        sink's rows of the batch's closed cases, made with it (``shape_chunk``), when
        ``batch`` is all of their chunk; else the sinks replay the batch from the database.
        ``IdsTaken`` when another writer took one of the batch's ids since they were
        reserved."""
        connection = session.connection()
        ids = [item.id for item in batch]
        if connection.dialect.name == "sqlite":
            connection.execute(_SQLITE_LOCK)
            top = connection.execute(select(func.max(CASES.c.id))).scalar() or 0
            if top >= min(ids):
                raise IdsTaken(top)
        shape = self.shape
        with indexed_together(connection, min(ids), max(ids)):  # no other case among them
            shape.cases.insert(connection, [item.case for item in batch])
        events = [event for item in batch for event in item.events]
        # The global audit sequence, in this transaction: the batch's events in order.
        at = shape.gseq
        for number, event in enumerate(events, reserve_numbers(connection, len(events))):
            event[at] = number
        shape.events.insert(connection, events)
        shape.tasks.insert(connection, [item.task for item in batch if item.task is not None])
        buffer = rowbuffer.buffer(session)
        started: list[tuple[CaseRows, ClockRun]] = []
        for item in batch:
            if item.open is not None:
                buffer.unwritten.add(item.id)  # none of its clocks is stored: no read
                started.append((item, self._start_clock(session, item.id, item.open, now)))
        rowbuffer.flush(session)  # the open cases' clocks and timers: a sink may read them
        if self.sinks:
            self._feed(session, batch, made, started, now)
        return len(started)

    def _feed(
        self,
        session: Session,
        batch: Sequence[CaseRows],
        made: Sequence[Made | None] | None,
        started: list[tuple[CaseRows, ClockRun]],
        now: datetime,
    ) -> None:
        """Each sink's rows of the landed batch: those made with it, and the open cases'
        now that their clocks run; or the sink's own ``land``."""
        connection = session.connection()
        landed: list[LandedCase] | None = None
        for index, sink in enumerate(self.sinks):
            rows = made[index] if made is not None else None
            tallying = self.tallies[index]
            if rows is None or tallying is None:
                if landed is None:
                    landed = [LandedCase(item.id) for item in batch]
                sink.land(session, landed)
                continue
            self.views.write(connection, rows)
            if started:
                tally = tallying.tally(now)
                for item, clock in started:
                    case = item.open
                    assert case is not None
                    row = _case_row(case.row) | {"id": item.id}
                    add_facts([tally], row, case, {(clock.stage, clock.generation): clock})
                self.views.write(connection, self.views.made(tally))

    def _start_clock(
        self, session: Session, case_id: int, case: ReplayedCase, now: datetime
    ) -> ClockRun:
        """The open case's current stage run and its timers, as the SLA hook makes them."""
        run = case.run
        assert run is not None
        city = self.city
        calendar = self.calendars.get(session, now)
        limit = stage_limit(Case(**case.row), run.stage, city, self.settings)
        clock = runs.start(
            session, case_id, run.stage, limit, run.started_at, calendar, run.generation
        )
        for change, at, duration in run.changes:
            if change == "pause":
                clocks.pause_clock(clock, at)
            elif change == "resume":
                clocks.resume_clock(clock, at, calendar)
            elif duration is not None:
                clocks.extend_clock(clock, parse_duration(duration), calendar)
        plan_clock(session, clock, now, calendar, self.settings, at_top=False, reason="started")
        return clock


def add_facts(
    tallies: Sequence[Tally | None],
    row: dict[str, Any],
    case: ReplayedCase,
    clocks: dict[tuple[str, int], ClockRun],
) -> None:
    """The replayed case's read-model facts (its case row ``row``) added to each tally."""
    trail: list[EventRow] | None = None
    for tally in tallies:
        if tally is not None:
            if trail is None:
                trail = trail_of(row["id"], case.entries)
            tally.add_case(row, trail, clocks, case.entries[0].actor)
