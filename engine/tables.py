"""Imports every table model so ``SQLModel.metadata`` is complete (schema creation, Alembic)."""

from engine.attachment_access import AttachmentCase, AttachmentUpload  # noqa: F401
from engine.cases.models import Case, CaseEvent, CaseTask
from engine.city.grids import CityGrid
from engine.city.models import Category, CityConfig, Department, Unit
from engine.dispatch.models import DispatchDecisionRecord, RuleTableRecord
from engine.intake.alerts import AlertWindow, VideoAlert
from engine.knowledge.models import (
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeFlag,
    KnowledgeGram,
)
from engine.outbox.models import OutboxMessage
from engine.review.models import ReviewCheck
from engine.sla.models import CalendarOverride, SlaClock
from engine.timers.models import Timer
from engine.users.lockout import LoginThrottle
from engine.users.models import ApiToken, User
from engine.users.sessions import PageSessionRecord
from engine.views.models import VIEW_TABLES

__all__ = [
    "VIEW_TABLES",
    "AlertWindow",
    "ApiToken",
    "CalendarOverride",
    "Case",
    "CaseEvent",
    "CaseTask",
    "Category",
    "CityConfig",
    "CityGrid",
    "Department",
    "DispatchDecisionRecord",
    "KnowledgeArticle",
    "KnowledgeArticleVersion",
    "KnowledgeFlag",
    "KnowledgeGram",
    "LoginThrottle",
    "OutboxMessage",
    "PageSessionRecord",
    "ReviewCheck",
    "RuleTableRecord",
    "SlaClock",
    "Timer",
    "Unit",
    "User",
    "VideoAlert",
]


def _portable_enums() -> None:
    """Store every enum column as a short string, not a PostgreSQL ENUM type: adding a member
    (a new channel, a new status) is then a code change, never an ALTER TYPE migration."""
    from sqlalchemy import Enum
    from sqlmodel import SQLModel

    for table in SQLModel.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, Enum):
                column.type.native_enum = False
                column.type.create_constraint = False


_portable_enums()
