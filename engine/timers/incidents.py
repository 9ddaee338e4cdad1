"""Timers that failed too often: listed for administrators, who retry or dismiss them."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.errors import Conflict, NotFound
from engine.timers.models import Timer, TimerStatus


def list_incidents(session: Session, limit: int = 50, offset: int = 0) -> tuple[list[Timer], int]:
    where = col(Timer.status) == TimerStatus.incident
    total = session.exec(select(func.count()).select_from(Timer).where(where)).one()
    query = select(Timer).where(where).order_by(col(Timer.due_at), col(Timer.id))
    return list(session.exec(query.limit(limit).offset(offset))), total


def count_incidents(session: Session) -> int:
    where = col(Timer.status) == TimerStatus.incident
    return session.exec(select(func.count()).select_from(Timer).where(where)).one()


def _incident(session: Session, timer_id: int) -> Timer:
    timer = session.get(Timer, timer_id)
    if timer is None:
        raise NotFound(f"timer {timer_id} not found")
    if timer.status != TimerStatus.incident:
        raise Conflict(f"timer {timer_id} is {timer.status}, not an incident")
    return timer


def retry(session: Session, timer_id: int) -> Timer:
    """Back to pending with a fresh count of attempts: the next sweep fires it."""
    timer = _incident(session, timer_id)
    timer.status, timer.attempts, timer.lease_until = TimerStatus.pending, 0, None
    session.add(timer)
    return timer


def dismiss(session: Session, timer_id: int, actor: str) -> Timer:
    timer = _incident(session, timer_id)
    timer.status, timer.outcome = TimerStatus.dropped, f"dismissed by {actor}"[:200]
    session.add(timer)
    return timer
