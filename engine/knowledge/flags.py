"""Flags that send an article back for review (docs/KNOWLEDGE.md#articles).

A department flags an article wrong or out of date from a case it can see, and a repeat call
after an answer flags the article answered (``answers.flag_repeat_of``). A flagged article
is listed for review until it is published again, which resolves its open flags.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from engine.errors import NotFound
from engine.knowledge.models import FlagKind, KnowledgeArticle, KnowledgeFlag
from engine.users.models import Principal


def flag(
    session: Session,
    principal: Principal,
    article_id: int,
    article_version: int | None,
    case_id: int,
    kind: FlagKind,
    now: datetime,
    note: str = "",
) -> tuple[KnowledgeFlag, bool]:
    """Mark an article for review from a case (the caller has checked the case is theirs).
    The same article, kind and case again returns the first flag; the bool: raised now."""
    article = session.get(KnowledgeArticle, article_id)
    if article is None:
        raise NotFound(f"article {article_id} not found")
    found = session.exec(
        select(KnowledgeFlag).where(
            col(KnowledgeFlag.article_id) == article_id,
            col(KnowledgeFlag.kind) == kind,
            col(KnowledgeFlag.case_id) == case_id,
        )
    ).first()
    if found is not None:
        return found, False
    raised = KnowledgeFlag(
        article_id=article_id,
        article_version=article_version or article.version,
        case_id=case_id,
        kind=kind,
        note=note.strip()[:500],
        raised_by=principal.name,
        raised_at=now,
    )
    session.add(raised)
    article.needs_review = True
    session.add(article)
    session.flush()
    return raised, True


def open_flags(session: Session, article_id: int | None) -> list[KnowledgeFlag]:
    """The article's flags not resolved yet, oldest first."""
    return list(
        session.exec(
            select(KnowledgeFlag)
            .where(
                col(KnowledgeFlag.article_id) == article_id,
                col(KnowledgeFlag.resolved_at).is_(None),
            )
            .order_by(col(KnowledgeFlag.id))
        )
    )


def resolve_flags(session: Session, article_id: int | None, now: datetime) -> None:
    """The article was published again: its open flags are dealt with."""
    for open_flag in open_flags(session, article_id):
        open_flag.resolved_at = now
        session.add(open_flag)
