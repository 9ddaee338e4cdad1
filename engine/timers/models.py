"""The ``timer`` table: one pending deadline action of one case."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from engine.db import UTCDateTime


class TimerKind(StrEnum):
    yellow = "yellow"  # 黄灯: remind the assignee
    red = "red"  # 红灯: the deadline passed; supervision one tier up (yellow card)
    escalate = "escalate"  # still open after the grace: the next tier up (red card)


class TimerStatus(StrEnum):
    pending = "pending"
    fired = "fired"
    dropped = "dropped"  # stale: its stage run ended or its deadline moved
    incident = "incident"  # failed too often; an administrator looks at it


class Timer(SQLModel, table=True):
    __tablename__ = "timer"
    __table_args__ = (
        # The sweep's query: pending rows by due time. Keeps an idle sweep O(log n).
        Index("ix_timer_status_due", "status", "due_at"),
        Index("ix_timer_case_stage", "case_id", "stage"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    kind: TimerKind
    stage: str = Field(max_length=10)
    generation: int  # the stage run (SlaClock.generation) it was set for
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: TimerStatus = TimerStatus.pending
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # claimed / retry
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    outcome: str | None = Field(default=None, max_length=200)  # what firing did, or why dropped
    fired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class TimerPublic(SQLModel):
    id: int
    case_id: int
    kind: TimerKind
    stage: str
    generation: int
    due_at: datetime
    status: TimerStatus
    attempts: int
    last_error: str | None
    outcome: str | None
    fired_at: datetime | None
