"""Claiming and finishing outbox messages (the delivery worker's database half).

Claiming works like the timer sweeper: one ``UPDATE … RETURNING`` sets a lease on a batch of
due rows (on PostgreSQL the inner SELECT takes ``FOR UPDATE SKIP LOCKED``), so several workers
never post the same message at once and a crashed worker's rows come back when the lease ends.
Messages to one destination about one case go out in order: a row is claimable only when no
older row for the same (case, destination) is still pending.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from engine.db import new_session
from engine.errors import Conflict, NotFound
from engine.outbox.models import OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(seconds=60)
    batch: int = 50

    def delay(self, attempts: int) -> timedelta:
        """Backoff after the ``attempts``-th failure: base, 2×base, 4×base, … up to max."""
        return min(self.base_delay * (2 ** max(attempts - 1, 0)), self.max_delay)


@dataclass(frozen=True)
class Claimed:
    id: int
    message_id: str
    destination: str
    url: str
    body: str
    attempts: int
    claim: str


@dataclass(frozen=True)
class Outcome:
    id: int
    claim: str
    ok: bool
    error: str | None = None


def claim_due(db: Engine, now: datetime, policy: RetryPolicy) -> list[Claimed]:
    """Lease up to ``policy.batch`` due messages, oldest first, and return them."""
    older = aliased(OutboxMessage)
    o = OutboxMessage
    blocked = exists().where(
        older.case_id == o.case_id,
        older.destination == o.destination,
        older.status == OutboxStatus.pending,
        older.id < o.id,  # type: ignore[operator]
    )
    due = (
        select(o.id)
        .where(
            o.status == OutboxStatus.pending,
            col(o.next_attempt_at) <= now,
            or_(col(o.lease_until).is_(None), col(o.lease_until) < now),
            ~blocked,
        )
        .order_by(col(o.id))
        .limit(policy.batch)
    )
    if db.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    token = secrets.token_hex(8)
    statement = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(due.scalar_subquery()))
        .values(lease_until=now + policy.lease, claim=token)
        .returning(
            OutboxMessage.id,
            OutboxMessage.message_id,
            OutboxMessage.destination,
            OutboxMessage.url,
            OutboxMessage.body,
            OutboxMessage.attempts,
        )
    )
    with new_session(db) as session, session.begin():
        rows = session.execute(statement).all()
    return sorted((Claimed(*row, claim=token) for row in rows), key=lambda c: c.id)


def finish(db: Engine, outcomes: list[Outcome], now: datetime, policy: RetryPolicy) -> int:
    """Record attempts; returns how many messages became dead letters."""
    dead = 0
    with new_session(db) as session, session.begin():
        for outcome in outcomes:
            mine = and_(OutboxMessage.id == outcome.id, OutboxMessage.claim == outcome.claim)
            if outcome.ok:
                values = {
                    "status": OutboxStatus.delivered,
                    "delivered_at": now,
                    "attempts": OutboxMessage.attempts + 1,
                    "lease_until": None,
                    "claim": None,
                    "last_error": None,
                }
                session.execute(update(OutboxMessage).where(mine).values(**values))
                continue
            row = session.get(OutboxMessage, outcome.id)
            if row is None or row.claim != outcome.claim:
                continue  # the lease ran out and someone else took it
            row.attempts += 1
            row.last_error = (outcome.error or "failed")[:500]
            row.lease_until, row.claim = None, None
            if row.attempts >= policy.max_attempts:
                row.status = OutboxStatus.dead
                dead += 1
            else:
                row.next_attempt_at = now + policy.delay(row.attempts)
            session.add(row)
    return dead


def list_messages(
    db: Engine, status: OutboxStatus | None, limit: int, offset: int
) -> tuple[list[OutboxMessage], int]:
    where = [] if status is None else [OutboxMessage.status == status]
    with new_session(db) as session:
        total = session.exec(select(func.count()).select_from(OutboxMessage).where(*where)).one()
        query = (
            select(OutboxMessage)
            .where(*where)
            .order_by(col(OutboxMessage.id).desc())
            .limit(limit)
            .offset(offset)
        )
        return list(session.exec(query)), total


def redeliver(db: Engine, message_id: int, now: datetime) -> OutboxMessage:
    """Send a dead (or delivered) message again, with a fresh set of attempts."""
    with new_session(db) as session, session.begin():
        row = session.get(OutboxMessage, message_id)
        if row is None:
            raise NotFound(f"outbox message {message_id} not found")
        if row.status == OutboxStatus.pending:
            raise Conflict(f"outbox message {message_id} is already waiting for delivery")
        row.status, row.attempts, row.next_attempt_at = OutboxStatus.pending, 0, now
        row.lease_until, row.claim, row.delivered_at = None, None, None
        session.add(row)
        session.flush()
        return row


def next_due(db: Engine) -> datetime | None:
    """When the earliest pending message is due (the worker may sleep until then)."""
    with new_session(db) as session:
        query = select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == OutboxStatus.pending
        )
        value = session.exec(query).one()
    return value
