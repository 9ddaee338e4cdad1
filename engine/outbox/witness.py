"""Signed audit checkpoints posted to an external witness (``GRIDFLOW_AUDIT_WITNESS_URL``)
through the outbox: retried, dead-lettered and redelivered like every other message.

A witness keeps the lines it receives; later, an edited or shortened checkpoints file (or a
trail rewritten and re-checkpointed by someone who holds the keys) no longer matches them.
Each checkpoint is one message whose id names its number and MAC, and every run queues the
checkpoints of the file the outbox does not hold yet, so one lost between the file and the
database is sent the next time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, select
from sqlmodel import col

from engine.audit.checkpoints import Checkpoint
from engine.db import new_session
from engine.outbox.models import OutboxMessage

DESTINATION = "audit-witness"
KIND = "audit_checkpoint"
PREFIX = "audit-checkpoint-"


def message_id(checkpoint: Checkpoint) -> str:
    return f"{PREFIX}{checkpoint.number}-{checkpoint.mac[:16]}"


def queue_checkpoints(
    db: Engine, checkpoints: Iterable[Checkpoint], url: str, now: datetime
) -> list[Checkpoint]:
    """Queue for ``url`` each checkpoint the outbox does not hold yet; return those queued."""
    with new_session(db) as session, session.begin():
        held = select(OutboxMessage.message_id).where(
            col(OutboxMessage.message_id).startswith(PREFIX)
        )
        sent = set(session.execute(held).scalars())
        queued = [c for c in checkpoints if message_id(c) not in sent]
        for checkpoint in queued:
            session.add(
                OutboxMessage(
                    message_id=message_id(checkpoint),
                    case_id=None,
                    event_seq=checkpoint.number,
                    destination=DESTINATION,
                    url=url,
                    kind=KIND,
                    body=checkpoint.line(),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    return queued
