"""Case, case task and case event tables, with their input and output families."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, StringConstraints
from sqlalchemy import JSON, BigInteger, Column, Computed, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.db import UTCDateTime

# Patterns as pydantic constraints (SQLModel's own ``regex=`` is not enforced).
CategoryCode = Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
Phone = Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]{3,30}$")]
# A call recording's address from the phone system: http(s) only, no spaces or quotes.
RECORDING_URL_PATTERN = r"^https?://[^\s\"'<>]+$"
RecordingUrl = Annotated[str, StringConstraints(pattern=RECORDING_URL_PATTERN, max_length=300)]

# The caller's phone as one key (docs/SEARCH.md): spaces and dashes dropped, a +86 / 0086 /
# 86 country prefix removed. The database computes it on every write (a generated column),
# so no writer can forget it; engine.search.models.phone_key is the same rule for input.
_DIGITS = "replace(replace(reporter_phone, ' ', ''), '-', '')"
PHONE_KEY_SQL = (
    f"CASE WHEN {_DIGITS} LIKE '+86%' THEN substr({_DIGITS}, 4)"
    f" WHEN {_DIGITS} LIKE '0086%' THEN substr({_DIGITS}, 5)"
    f" WHEN length({_DIGITS}) = 13 AND {_DIGITS} LIKE '861%' THEN substr({_DIGITS}, 3)"
    f" ELSE {_DIGITS} END"
)


class Channel(StrEnum):
    hotline = "hotline"  # 12345
    grid = "grid"  # 网格员
    video = "video"  # AI video alert
    open311 = "open311"
    web = "web"
    upper = "upper"  # 上级交办
    imported = "imported"  # 历史导入: a past case from the old system (engine.history)


class Urgency(StrEnum):
    urgent = "urgent"
    normal = "normal"


class RequestType(StrEnum):
    consult = "consult"  # 咨询
    help = "help"  # 求助
    complaint = "complaint"  # 投诉
    report = "report"  # 举报
    suggestion = "suggestion"  # 建议


class CaseBase(SQLModel):
    channel: Channel
    external_id: str | None = Field(default=None, min_length=1, max_length=64)
    category: CategoryCode | None = Field(default=None, min_length=5, max_length=5)
    description: str = Field(min_length=1, max_length=4000)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    grid_code: str | None = Field(default=None, min_length=1, max_length=32)
    address: str | None = Field(default=None, max_length=300)
    request_type: RequestType | None = None
    reporter_name: str | None = Field(default=None, max_length=50)
    reporter_phone: Phone | None = Field(default=None, max_length=30)


class CaseCreate(CaseBase):
    model_config = ConfigDict(extra="forbid")  # a misspelled field is refused, not dropped

    urgency: Urgency | None = None  # None: the category's default
    # The call's recording (来电弹屏): kept on the report's audit event, not the case row.
    recording_url: RecordingUrl | None = None


class Case(CaseBase, table=True):
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_case_channel_external_id"),
        Index("ix_case_state_unit", "state", "owning_unit"),
        # The keyset-paginated lists (docs/SEARCH.md): queue, inbox, Open311 newest first.
        # They replace the single-column indexes on state, lead_department and dispatch_queue
        # (each a prefix of one of these), so a case write updates no more indexes than before.
        Index("ix_case_queue", "state", "dispatch_queue", "urgency", "queued_at"),
        Index("ix_case_inbox", "lead_department", "state", "urgency", "updated_at"),
        Index("ix_case_channel_id", "channel", "id"),
        # Requests waiting for a decision per kind and unit (engine/cases/requests.py).
        Index("ix_case_pending_request", "pending_request", "owning_unit"),
    )

    id: int | None = Field(default=None, primary_key=True)
    urgency: Urgency = Urgency.normal
    state: str = Field(max_length=20)  # indexed first in ix_case_state_unit and ix_case_queue
    owning_unit: str = Field(max_length=32, index=True)  # where it happened (grid … city)
    lead_department: str | None = Field(default=None, max_length=32)  # first in ix_case_inbox
    resolution: str | None = Field(default=None, max_length=4000)  # the latest 办结反馈
    rework_count: int = 0
    merged_into: int | None = Field(default=None, foreign_key="case.id")
    pending_extension: str | None = Field(default=None, max_length=16)
    # The kind of request awaiting a decision: extension | suspension | void (None: none).
    pending_request: str | None = Field(default=None, max_length=16)
    # Stage limit overrides from the dispatch rule, e.g. {"handle": "4h"}.
    sla_limits: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    supervision_unit: str | None = Field(default=None, max_length=32, index=True)  # 督办 by
    card: str | None = Field(default=None, max_length=10)  # yellow | red (督办 card)
    alert_count: int = 0  # repeated alerts merged into this case (video storms)
    latest_snapshot: str | None = Field(default=None, max_length=300)
    # a likely duplicate of this open case (indexed: the case page lists the cases flagged so)
    duplicate_of: int | None = Field(default=None, index=True)
    # Dispatch (docs/ARCHITECTURE.md#dispatch): the rule row and rule-table version that
    # decided, who chose the department ("rule" | "person" | "router") and the command
    # center whose manual queue has the case (a return goes back there).
    dispatch_rule: str | None = Field(default=None, max_length=64)
    rules_version: str | None = Field(default=None, max_length=16)
    dispatch_source: str | None = Field(default=None, max_length=10)
    dispatch_queue: str | None = Field(default=None, max_length=32)  # in ix_case_queue
    # When it last entered a command center's queue (待派遣 or 退单审核): the queue's
    # "longest waiting first" and its 等待超过 filter, which a reminder, an escalation or a
    # note on the waiting case (each changing updated_at) must not move.
    queued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # in ix_case_queue
    version: int = 1
    audit_head: str = Field(default="", max_length=64)  # MAC of the latest event
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Written by the database (PHONE_KEY_SQL), never by the application.
    phone_key: str | None = Field(
        default=None,
        sa_column=Column(String(30), Computed(PHONE_KEY_SQL), index=True, nullable=True),
    )


class CaseTask(SQLModel, table=True):
    """A department's part in a case: the lead (主办) or a co-handler (协办)."""

    __tablename__ = "case_task"
    __table_args__ = (
        UniqueConstraint("case_id", "department"),
        # A department's cases (a handler's scope) read from the index alone.
        Index("ix_case_task_department_case", "department", "case_id"),
        # Its open co-handler tasks (lead false, done false), from the index alone.
        Index("ix_case_task_open", "department", "lead", "done", "case_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    department: str = Field(max_length=32)
    lead: bool = True
    done: bool = False


class CasePublic(CaseBase):
    id: int
    urgency: Urgency
    state: str
    owning_unit: str
    lead_department: str | None
    co_handlers: list[str] = []
    resolution: str | None
    rework_count: int
    merged_into: int | None
    pending_extension: str | None
    pending_request: str | None = None
    sla_limits: dict[str, str] = {}
    supervision_unit: str | None = None
    card: str | None = None
    alert_count: int = 0
    latest_snapshot: str | None = None
    duplicate_of: int | None = None
    dispatch_rule: str | None = None
    rules_version: str | None = None
    dispatch_source: str | None = None
    dispatch_queue: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    allowed_actions: list[str] = []


class CaseEvent(SQLModel, table=True):
    """One entry of a case's audit trail (engine.audit). ``seq`` is the case version the
    event produced; ``gseq`` its place among all events, assigned as it is written."""

    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    seq: int
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=50)
    actor_role: str = Field(max_length=20)
    action: str = Field(max_length=40)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(max_length=64)
    # The audit key that MACs ``hash``; "sha256" marks an event from before keyed chains.
    key_id: str | None = Field(default=None, max_length=16)
    gseq: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    row_digest: str | None = Field(default=None, max_length=255)  # tags of the case row


class AuditSequence(SQLModel, table=True):
    """The last global sequence number given to an audit event: one row, advanced by the
    write path once per transaction (engine.audit.sequence)."""

    __tablename__ = "audit_sequence"

    id: int = Field(primary_key=True)
    last: int = Field(default=0, sa_type=BigInteger)


class CaseEventPublic(SQLModel):
    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]
    hash: str
