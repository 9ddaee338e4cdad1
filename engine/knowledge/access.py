"""Who may keep an article, and what the desks see (docs/KNOWLEDGE.md#articles).

Administrators keep every article; a department's handlers keep the articles their
department owns. The desks (``READERS``) see an article only while it is published and
valid on the city's day: ``valid_from`` reached, ``review_by`` not passed. A published
article past its review date is shown as expired before ``lifecycle.expire_due`` marks it so.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col

from engine.knowledge.models import KnowledgeArticle, Status
from engine.users.models import Principal, Role

# Who may read published articles (and search them).
READERS = frozenset({Role.operator, Role.dispatcher, Role.handler, Role.supervisor, Role.admin})
KEEPERS = frozenset({Role.admin, Role.handler})


def may_keep(principal: Principal, owner_department: str | None) -> bool:
    """Administrators keep every article; a handler the articles of their own department."""
    if principal.role is Role.admin:
        return True
    return (
        principal.role is Role.handler
        and owner_department is not None
        and (owner_department == principal.scope)
    )


def kept_condition(principal: Principal) -> ColumnElement[bool] | None:
    """The articles the caller keeps (None: all of them, for administrators)."""
    if principal.role is Role.admin:
        return None
    if principal.role is Role.handler and principal.scope:
        return col(KnowledgeArticle.owner_department) == principal.scope
    return col(KnowledgeArticle.id) < 0  # keeps none


def visible_condition(today: date) -> ColumnElement[bool]:
    """Published and valid on ``today``: what operators find."""
    return and_(
        col(KnowledgeArticle.status) == Status.published,
        or_(col(KnowledgeArticle.valid_from).is_(None), col(KnowledgeArticle.valid_from) <= today),
        or_(col(KnowledgeArticle.review_by).is_(None), col(KnowledgeArticle.review_by) >= today),
    )


def is_visible(article: KnowledgeArticle, today: date) -> bool:
    return (
        article.status == Status.published
        and (article.valid_from is None or article.valid_from <= today)
        and (article.review_by is None or article.review_by >= today)
    )


def effective_status(article: KnowledgeArticle, today: date) -> str:
    """The status a person is shown: a published article past its review date is expired."""
    if article.status == Status.published and article.review_by and article.review_by < today:
        return Status.expired
    return article.status


def local_today(now: datetime, timezone: str) -> date:
    """The city's date at ``now``: validity and review dates are city days."""
    return now.astimezone(ZoneInfo(timezone)).date()
