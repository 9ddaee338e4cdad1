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
    # Who decided: "rule", or "router" when the rules had no confident answer and the text
    # router was asked (it dispatched, or queued the case with its top 3 as suggestions).
    source: str = Field(
        default="rule", max_length=10, sa_column_kwargs={"server_default": text("'rule'")}
    )
    model_version: str | None = Field(default=None, max_length=200)  # the router's models
    router_target: str | None = Field(default=None, max_length=10)  # department | category
    confidence: float | None = None  # the router's calibrated confidence in its best guess
    threshold: float | None = None  # the auto-dispatch threshold it was held to
    # The router's top 3, best first: [{"label": "HW-01", "confidence": 0.91}, …].
    candidates: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
