"""The SLA clock and calendar override tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Index, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from engine.db import UTCDateTime


class SlaClock(SQLModel, table=True):
    """One run of one SLA stage of a case. A stage that runs again (rework, a returned case,
    a new lead department) gets a new ``generation``; timers carry the generation they were
    set for, so a timer of an earlier run is recognised as stale and dropped."""

    __tablename__ = "sla_clock"
    __table_args__ = (
        UniqueConstraint("case_id", "stage", "generation", name="uq_sla_clock_generation"),
        Index("ix_sla_clock_case_open", "case_id", "stopped_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    stage: str = Field(max_length=10)
    generation: int = 1
    limit: str = Field(max_length=16)  # e.g. "3wd", as configured
    kind: str = Field(max_length=10)  # working | natural: how elapsed time is measured
    started_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)  # moved by suspensions and extensions
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_seconds: float = 0.0  # completed pauses, in the clock's measure (kind)
    extensions: list[str] = Field(default_factory=list, sa_type=JSON)  # approved, in order
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The deadline runs through a year without an official holiday schedule, so it was
    # computed Monday to Friday; importing that year's notice recomputes it.
    provisional: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class CalendarOverride(SQLModel, table=True):
    """An administrator's entry in the working calendar: a date that is a workday or not,
    winning over city.toml's overrides and the chinesecalendar package."""

    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    kind: str = Field(max_length=10)  # workday | holiday
    note: str = Field(default="", max_length=200)
    updated_by: str = Field(default="", max_length=50)
    updated_at: datetime = Field(sa_type=UTCDateTime)
