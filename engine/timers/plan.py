"""Which timers a clock needs, written in the case's transaction.

A running clock has a yellow timer (at ``yellow_at`` of its limit) and a red timer (at its
deadline). When a clock stops, pauses or its deadline moves, its pending timers are dropped
and, if it still runs, written afresh. A warning that already went out for this run of the
stage is not repeated unless its moment moved into the future (an extension). After a
breach, each escalation step schedules the next one a grace period later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, literal, update
from sqlmodel import Session, select

from engine import rowbuffer
from engine.calendar import WorkCalendar
from engine.durations import extend
from engine.prepared import Prepared
from engine.sla.clocks import Clock, yellow_point
from engine.sla.limits import SlaSettings
from engine.timers.models import Timer, TimerKind, TimerStatus

TABLE = Timer.__table__  # type: ignore[attr-defined]
_row = rowbuffer.columns_of(TABLE)
_DROPS: dict[tuple[TimerKind, ...], Prepared] = {}


def _drop_pending(kinds: tuple[TimerKind, ...]) -> Prepared:
    """UPDATE timer SET status = dropped … for these kinds, built once per set of kinds."""
    found = _DROPS.get(kinds)
    if found is None:
        found = _DROPS[kinds] = Prepared(
            update(TABLE)
            .where(
                TABLE.c.case_id == bindparam("of_case"),
                TABLE.c.stage == bindparam("of_stage"),
                TABLE.c.status == TimerStatus.pending,
                TABLE.c.kind.in_([literal(kind.value) for kind in kinds]),
            )
            .values(status=TimerStatus.dropped, outcome=bindparam("reason"))
        )
    return found


def drop_pending(
    session: Session,
    case_id: int,
    stage: str,
    reason: str,
    kinds: Iterable[TimerKind] = tuple(TimerKind),
) -> None:
    """Drop the stage's pending timers: those of this transaction are never written, and
    the stored ones are marked dropped with the reason (a case new in this transaction has
    none, so no statement at all)."""
    kinds = tuple(kinds)
    if not kinds:
        return
    rowbuffer.discard(
        session, TABLE, case_id, lambda row: row["stage"] == stage and row["kind"] in kinds
    )
    if rowbuffer.is_unwritten(session, case_id):
        return
    # On the connection: the rows it may touch are stored ones (this case's waiting timers
    # of the stage were just dropped above), so the buffer need not be written first.
    params = {"of_case": case_id, "of_stage": stage, "reason": reason}
    _drop_pending(kinds).rowcount(session.connection(), params)


def _fired(session: Session, clock: Clock) -> set[TimerKind]:
    query = select(Timer.kind).where(
        Timer.case_id == clock.case_id,
        Timer.stage == clock.stage,
        Timer.generation == clock.generation,
        Timer.status == TimerStatus.fired,
    )
    return set(session.exec(query))


def _add(session: Session, clock: Clock, kind: TimerKind, due: datetime, now: datetime) -> None:
    row = {
        "case_id": clock.case_id,
        "kind": kind,
        "stage": clock.stage,
        "generation": clock.generation,
        "due_at": due,
        "created_at": now,
    }
    rowbuffer.add(session, TABLE, _row(row))


def plan_clock(
    session: Session,
    clock: Clock,
    now: datetime,
    calendar: WorkCalendar,
    settings: SlaSettings,
    *,
    at_top: bool,
    reason: str,
) -> None:
    """Replace the pending timers of ``clock``'s stage with those it needs now."""
    if reason != "started":  # a fresh run has none: the last run's went when it stopped
        drop_pending(session, clock.case_id, clock.stage, reason)
    if clock.stopped_at is not None or clock.paused_at is not None:
        return
    fired = set() if reason == "started" else _fired(session, clock)
    if clock.due_at > now or TimerKind.red not in fired:
        yellow = yellow_point(clock, calendar, settings.yellow_at)
        if yellow > now or (TimerKind.yellow not in fired and clock.due_at > now):
            _add(session, clock, TimerKind.yellow, yellow, now)
        _add(session, clock, TimerKind.red, clock.due_at, now)
    elif not at_top:
        # Already breached and escalated: the ladder goes on after a grace period.
        plan_escalation(session, clock, now, calendar, settings)


def plan_escalation(
    session: Session,
    clock: Clock,
    now: datetime,
    calendar: WorkCalendar,
    settings: SlaSettings,
) -> None:
    """The next escalation step of a breached clock, one grace period from ``now``."""
    drop_pending(session, clock.case_id, clock.stage, "rescheduled", [TimerKind.escalate])
    due = extend(now, settings.escalation_grace, calendar)
    _add(session, clock, TimerKind.escalate, due, now)
