"""The ``outbox`` table: one row per message to one destination."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from engine.cases.models import Case
from engine.db import UTCDateTime

# The hook finds the tickets merged into a master case on each of its updates: one indexed
# look-up. Declared here, with the outbox table, so schema creation always includes it.
Index("ix_case_merged_into", Case.__table__.c.merged_into)  # type: ignore[attr-defined]


class OutboxStatus(StrEnum):
    pending = "pending"  # waiting for its (next) attempt; leased while being posted
    delivered = "delivered"
    dead = "dead"  # gave up after the last attempt; an admin may redeliver it


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_order", "case_id", "destination", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=80, unique=True)  # stable across retries: receivers dedupe
    case_id: int | None = Field(default=None, foreign_key="case.id")  # None: audit witness
    event_seq: int
    destination: str = Field(max_length=80)  # "department:HW-01" | "hotline"
    url: str = Field(max_length=500)
    kind: str = Field(max_length=40)  # what happened, e.g. "dispatch", "accepted", "closed"
    body: str = Field(sa_type=Text)  # the exact JSON bytes posted (and signed)
    status: OutboxStatus = OutboxStatus.pending
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claim: str | None = Field(default=None, max_length=40)  # who holds the lease
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxPublic(SQLModel):
    id: int
    message_id: str
    case_id: int | None
    event_seq: int
    destination: str
    url: str
    kind: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
