"""An article's version rows (``knowledge_article_version``, docs/KNOWLEDGE.md#articles).

Every change writes one: who, when, the whole text and the status after it. While an edit
of a published article waits for review (a **revision**), the newest version row holds its
text and the article row keeps the published text, the one operators read and answers cite
(``served_version``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.knowledge.models import (
    ArticleFields,
    Change,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    Status,
)
from engine.users.models import Principal

FIELDS = tuple(ArticleFields.model_fields)


class Revision(NamedTuple):
    """A version row's text and status when they are a revision's, not the article's."""

    text: ArticleFields
    status: Status


def as_fields(article: Any) -> ArticleFields:
    """The text of an article or a version row."""
    return ArticleFields.model_validate({name: getattr(article, name) for name in FIELDS})


def record(
    session: Session,
    article: KnowledgeArticle,
    change: Change,
    principal: Principal,
    now: datetime,
    note: str = "",
    revision: Revision | None = None,
) -> None:
    """The version row of ``article.version``: the article's text and status, or
    ``revision``'s."""
    assert article.id is not None
    source = revision.text if revision is not None else article
    session.add(
        KnowledgeArticleVersion(
            **{name: getattr(source, name) for name in FIELDS},
            article_id=article.id,
            version=article.version,
            status=revision.status if revision is not None else article.status,
            change=change,
            note=note[:500],
            changed_by=principal.name,
            changed_at=now,
        )
    )


def version(session: Session, article_id: int, number: int) -> KnowledgeArticleVersion | None:
    return session.exec(
        select(KnowledgeArticleVersion).where(
            col(KnowledgeArticleVersion.article_id) == article_id,
            col(KnowledgeArticleVersion.version) == number,
        )
    ).first()


def revision(session: Session, article: KnowledgeArticle) -> KnowledgeArticleVersion | None:
    """The edit of a published article waiting to be reviewed (a draft or in review), if
    any: the newest version row, while the article row keeps the published text."""
    if article.status != Status.published or article.id is None:
        return None
    newest = version(session, article.id, article.version)
    if newest is not None and newest.status in (Status.draft, Status.in_review):
        return newest
    return None


def served_version(session: Session, article: KnowledgeArticle) -> int:
    """The version whose text operators read (and an answer cites): the article's own, or
    while a revision waits, the version that published the text still serving."""
    if revision(session, article) is None or article.id is None:
        return article.version
    published = session.exec(
        select(func.max(KnowledgeArticleVersion.version)).where(
            col(KnowledgeArticleVersion.article_id) == article.id,
            col(KnowledgeArticleVersion.change) == Change.publish,
        )
    ).one()
    return int(published or article.version)
