"""Claiming due timers in batches under a lease (docs/ARCHITECTURE.md#timers-and-escalation).

One statement claims a batch: ``UPDATE timer SET lease_until = … WHERE id IN (SELECT id …
ORDER BY due_at LIMIT n) RETURNING …``. SQLite has a single writer, so the statement alone is
safe there; on PostgreSQL the inner SELECT takes ``FOR UPDATE SKIP LOCKED`` so concurrent
sweepers claim disjoint batches without waiting on each other. A claimer that dies leaves its
rows pending: they come back when the lease runs out. ``lease_until`` also holds the
not-before time of a retry after a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from engine.timers.models import Timer, TimerKind, TimerStatus


@dataclass(frozen=True)
class Claimed:
    id: int
    case_id: int
    kind: TimerKind
    stage: str
    generation: int
    due_at: datetime
    attempts: int


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return (
        col(Timer.status) == TimerStatus.pending,
        col(Timer.due_at) <= now,
        or_(col(Timer.lease_until).is_(None), col(Timer.lease_until) < now),
    )


def any_due(conn: Connection, now: datetime) -> bool:
    """A read-only look: is anything claimable? Keeps an idle sweep from taking the write lock."""
    query = select(Timer.id).where(*_due(now)).limit(1)  # type: ignore[call-overload]
    return conn.execute(query).first() is not None


def claim_due(conn: Connection, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due timers, earliest first; run inside a transaction."""
    inner = (
        select(Timer.id)  # type: ignore[call-overload]
        .where(*_due(now))
        .order_by(col(Timer.due_at))
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        inner = inner.with_for_update(skip_locked=True)
    statement = (
        update(Timer)
        .where(col(Timer.id).in_(inner.scalar_subquery()))
        .values(lease_until=lease_until)
        .returning(
            Timer.id,  # type: ignore[arg-type]
            Timer.case_id,  # type: ignore[arg-type]
            Timer.kind,  # type: ignore[arg-type]
            Timer.stage,  # type: ignore[arg-type]
            Timer.generation,  # type: ignore[arg-type]
            Timer.due_at,  # type: ignore[arg-type]
            Timer.attempts,  # type: ignore[arg-type]
        )
    )
    rows = conn.execute(statement).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: (c.due_at, c.id))


def next_due_after(conn: Connection, now: datetime) -> datetime | None:
    """The earliest pending due time after ``now`` (for the scheduler's wake-up)."""
    query = select(func.min(Timer.due_at)).where(  # type: ignore[call-overload]
        col(Timer.status) == TimerStatus.pending, col(Timer.due_at) > now
    )
    return conn.execute(query).scalar_one_or_none()
