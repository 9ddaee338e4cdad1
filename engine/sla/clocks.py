"""Start, stop, pause, resume and extend one SLA clock, and read where it stands.

Working clocks (``wh``/``wd`` limits) measure working time only, natural clocks plain time;
a pause moves the deadline by the paused time in the clock's own measure, so two working
days suspended move a working deadline by exactly two working days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from engine.calendar import WorkCalendar
from engine.durations import (
    Duration,
    deadline,
    elapsed_fraction,
    extend,
    parse_duration,
    stage_seconds_between,
)
from engine.sla.models import SlaClock
from engine.sla.runs import ClockRun

Light = Literal["green", "yellow", "red"]
Clock = SlaClock | ClockRun  # a stored row, or a run inside a case transaction


def stop_clock(clock: Clock, now: datetime) -> None:
    clock.stopped_at = now


def pause_clock(clock: Clock, now: datetime) -> None:
    if clock.paused_at is None:
        clock.paused_at = now


def resume_clock(clock: Clock, now: datetime, calendar: WorkCalendar) -> float:
    """End a pause: the deadline moves by the paused time. Returns the paused seconds."""
    if clock.paused_at is None:
        return 0.0
    paused = stage_seconds_between(clock.paused_at, now, calendar, clock.kind)
    clock.paused_seconds += paused
    clock.due_at = shift(clock.due_at, paused, calendar, clock.kind)
    clock.paused_at = None
    clock.provisional = calendar.provisional(clock.kind, clock.started_at, clock.due_at)
    return paused


def extend_clock(clock: Clock, duration: Duration, calendar: WorkCalendar) -> None:
    """An approved extension: the deadline moves by ``duration``."""
    clock.due_at = extend(clock.due_at, duration, calendar)
    clock.extensions = [*clock.extensions, str(duration)]
    clock.provisional = calendar.provisional(clock.kind, clock.started_at, clock.due_at)


def recompute_due(clock: Clock, calendar: WorkCalendar) -> None:
    """The deadline worked out again on ``calendar`` (after its holidays changed): the limit
    from the start, moved by the completed pauses and by every approved extension."""
    due = deadline(clock.started_at, parse_duration(clock.limit), calendar)
    due = shift(due, clock.paused_seconds, calendar, clock.kind)
    for approved in clock.extensions:
        due = extend(due, parse_duration(approved), calendar)
    clock.due_at = due
    clock.provisional = calendar.provisional(clock.kind, clock.started_at, clock.due_at)


def shift(at: datetime, seconds: float, calendar: WorkCalendar, kind: str) -> datetime:
    """``at`` moved later by ``seconds`` of the clock's measure."""
    if seconds <= 0:
        return at
    if kind == "working":
        return calendar.add_working_seconds(at, seconds)
    return at + timedelta(seconds=seconds)


def measured_at(clock: Clock, now: datetime) -> datetime:
    """The instant a clock's reading refers to: frozen while paused and once stopped."""
    candidates = [now]
    if clock.paused_at is not None:
        candidates.append(clock.paused_at)
    if clock.stopped_at is not None:
        candidates.append(clock.stopped_at)
    return min(candidates)


def fraction(clock: Clock, now: datetime, calendar: WorkCalendar) -> float:
    """Share of the limit used: 0.0 at the start, 1.0 at the deadline (not capped)."""
    at = measured_at(clock, now)
    return elapsed_fraction(
        clock.started_at,
        clock.due_at,
        at,
        calendar,
        clock.kind,
        paused_seconds=clock.paused_seconds,
    )


def light(share: float, yellow_at: float) -> Light:
    if share >= 1.0:
        return "red"
    return "yellow" if share >= yellow_at else "green"


def overdue_seconds(clock: Clock, now: datetime, calendar: WorkCalendar) -> float:
    """Time past the deadline in the clock's measure; 0.0 while not overdue."""
    at = measured_at(clock, now)
    return (
        stage_seconds_between(clock.due_at, at, calendar, clock.kind) if at > clock.due_at else 0.0
    )


def yellow_point(clock: Clock, calendar: WorkCalendar, yellow_at: float) -> datetime:
    """The instant the clock reaches ``yellow_at`` of its limit, if it keeps running."""
    total = (
        stage_seconds_between(clock.started_at, clock.due_at, calendar, clock.kind)
        - clock.paused_seconds
    )
    used = clock.paused_seconds + yellow_at * max(total, 0.0)
    if clock.kind == "working":
        return calendar.add_working_seconds(clock.started_at, used)
    return clock.started_at + timedelta(seconds=used)
