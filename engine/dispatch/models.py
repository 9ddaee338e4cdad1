"""Stored rule tables (every version kept) and each case's recorded dispatch decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, text
from sqlmodel import Field, SQLModel

from engine.db import UTCDateTime


class RuleTableRecord(SQLModel, table=True):
    """One version of the city's rules.toml. At most one row is active (a partial unique
    index), so every process agrees on the live table; old versions stay for explanations."""

    __tablename__ = "rule_table"
    __table_args__ = (
        Index(
            "uq_rule_table_active",
            "active",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=16, unique=True)  # RuleTable.version (content hash)
    text: str = Field(sa_type=Text)
    version_note: str = Field(default="", max_length=500)
    rows: int = 0
    active: bool = Field(default=False)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=50)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    activated_by: str | None = Field(default=None, max_length=50)


class DispatchDecisionRecord(SQLModel, table=True):
    """What the dispatch hook saw and decided for a case, so the decision can be explained
    (and replayed against the same table version) later."""

    __tablename__ = "dispatch_decision"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    rules_version: str | None = Field(default=None, max_length=16)
    rule_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=20)  # "dispatch" | "queue"
    department: str | None = Field(default=None, max_length=32)  # lead, or the suggestion
    queue_unit: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    # DispatchInput as JSON (unit_codes a list, local_time ISO 8601).
    input: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
