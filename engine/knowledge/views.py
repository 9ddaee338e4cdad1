"""The article reads the API and pages show: one article, its history, the lists of articles
and what waits for review (docs/KNOWLEDGE.md#articles). Search is ``search.py``.

Keepers (``access.may_keep``) see their articles in any status; the desks only published,
valid ones, anything else being a 404 so that a draft's existence does not leak.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from engine.errors import NotFound
from engine.knowledge.access import (
    KEEPERS,
    READERS,
    is_visible,
    kept_condition,
    may_keep,
    visible_condition,
)
from engine.knowledge.models import KnowledgeArticle, KnowledgeArticleVersion, Status
from engine.users.models import Principal


def get(session: Session, principal: Principal, article_id: int, today: date) -> KnowledgeArticle:
    """An article as the caller may see it: keepers see theirs in any status, readers only
    published and valid ones (anything else is a 404)."""
    article = session.get(KnowledgeArticle, article_id)
    if article is None or not (
        may_keep(principal, article.owner_department)
        or (principal.role in READERS and is_visible(article, today))
    ):
        raise NotFound(f"article {article_id} not found")
    return article


def versions(
    session: Session, principal: Principal, article_id: int, today: date
) -> list[KnowledgeArticleVersion]:
    """Every version row of an article the caller may see, oldest first."""
    get(session, principal, article_id, today)
    return list(
        session.exec(
            select(KnowledgeArticleVersion)
            .where(col(KnowledgeArticleVersion.article_id) == article_id)
            .order_by(col(KnowledgeArticleVersion.version))
        )
    )


def list_articles(
    session: Session,
    principal: Principal,
    today: date,
    status: str | None = None,
    limit: int = 200,
) -> list[KnowledgeArticle]:
    """Keepers: the articles they keep (any status). Readers: published and valid ones."""
    query = select(KnowledgeArticle)
    if principal.role in KEEPERS:
        kept = kept_condition(principal)
        if kept is not None:
            query = query.where(kept)
        if status is not None:
            query = query.where(col(KnowledgeArticle.status) == status)
    else:
        query = query.where(visible_condition(today))
    query = query.order_by(col(KnowledgeArticle.updated_at).desc()).limit(limit)
    return list(session.exec(query))


def review_list(session: Session, principal: Principal, today: date) -> list[KnowledgeArticle]:
    """What waits for a keeper: articles (or revisions) in review, expired (or past their
    review date), and flagged ones. The newest version row says whether a revision of a
    published article is in review."""
    newest = and_(
        col(KnowledgeArticleVersion.article_id) == col(KnowledgeArticle.id),
        col(KnowledgeArticleVersion.version) == col(KnowledgeArticle.version),
    )
    query = (
        select(KnowledgeArticle)
        .join(KnowledgeArticleVersion, newest, isouter=True)
        .where(
            or_(
                col(KnowledgeArticleVersion.status) == Status.in_review,
                col(KnowledgeArticle.status).in_([Status.in_review, Status.expired]),
                and_(
                    col(KnowledgeArticle.status) == Status.published,
                    col(KnowledgeArticle.review_by) < today,
                ),
                col(KnowledgeArticle.needs_review).is_(True),
            )
        )
    )
    kept = kept_condition(principal)
    if kept is not None:
        query = query.where(kept)
    return list(session.exec(query.order_by(col(KnowledgeArticle.updated_at)).limit(500)))
