"""The review table: one row per 核查 (verify) or 回访 (callback) of a resolved case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from engine.db import UTCDateTime


class ReviewCheck(SQLModel, table=True):
    """A check's result. ``round`` is the number of reworks before it (0 for the first
    resolution): only checks of the case's current round count towards its closure.
    ``settles`` says whether the check meets its requirement: a passing verify (with photos
    when the city asks for them), a satisfied or basically satisfied callback, or an
    unsatisfied one that is not the department's fault."""

    __tablename__ = "review_check"
    __table_args__ = (Index("ix_review_check_case_round", "case_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    event_seq: int  # the audit event that recorded it
    kind: str = Field(max_length=10)  # verify | callback
    round: int = 0
    passed: bool  # verify passed; callback satisfied or basic
    settles: bool
    satisfaction: str | None = Field(default=None, max_length=12)  # callback only
    resolved_state: str | None = Field(default=None, max_length=10)  # solved | partly | unsolved
    fault: str | None = Field(default=None, max_length=12)  # department | other
    photos: int = 0
    department: str | None = Field(default=None, max_length=32, index=True)  # the lead then
    actor: str = Field(max_length=50)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
