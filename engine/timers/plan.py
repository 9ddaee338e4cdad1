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

from sqlalchemy import update
from sqlmodel import Session, select

from engine.calendar import WorkCalendar
from engine.durations import extend
from engine.sla.clocks import yellow_point
from engine.sla.limits import SlaSettings
from engine.sla.models import SlaClock
from engine.timers.models import Timer, TimerKind, TimerStatus


def drop_pending(
    session: Session,
    case_id: int,
    stage: str,
    reason: str,
    kinds: Iterable[TimerKind] = tuple(TimerKind),
) -> None:
    table = Timer.__table__.c  # type: ignore[attr-defined]
    session.execute(
        update(Timer.__table__)  # type: ignore[arg-type]
        .where(
            table.case_id == case_id,
            table.stage == stage,
            table.status == TimerStatus.pending,
            table.kind.in_(list(kinds)),
        )
        .values(status=TimerStatus.dropped, outcome=reason)
    )


def _fired(session: Session, clock: SlaClock) -> set[TimerKind]:
    query = select(Timer.kind).where(
        Timer.case_id == clock.case_id,
        Timer.stage == clock.stage,
        Timer.generation == clock.generation,
        Timer.status == TimerStatus.fired,
    )
    return set(session.exec(query))


def _add(session: Session, clock: SlaClock, kind: TimerKind, due: datetime, now: datetime) -> None:
    session.add(
        Timer(
            case_id=clock.case_id,
            kind=kind,
            stage=clock.stage,
            generation=clock.generation,
            due_at=due,
            created_at=now,
        )
    )


def plan_clock(
    session: Session,
    clock: SlaClock,
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
    clock: SlaClock,
    now: datetime,
    calendar: WorkCalendar,
    settings: SlaSettings,
) -> None:
    """The next escalation step of a breached clock, one grace period from ``now``."""
    drop_pending(session, clock.case_id, clock.stage, "rescheduled", [TimerKind.escalate])
    due = extend(now, settings.escalation_grace, calendar)
    _add(session, clock, TimerKind.escalate, due, now)
