"""Finding articles while the operator types the caller's words (docs/KNOWLEDGE.md#search).

The caller's words are cut into pieces (engine.knowledge.grams: CJK bigrams, Latin and
digit words) and each article scores the sum of its index weights for those pieces (3 in
the title, 2 in the question, 1 in the answer), plus 4 when the whole query is in its
title or question, plus a boost when it carries the suggested category. Only the index rows
of the query's pieces are read, so the cost follows how common the pieces are, not how many
articles there are; one statement on SQLite and PostgreSQL alike.

Why not FTS5 trigram or pg_trgm: a trigram index finds three-character substrings, and
two-character words (社保, 补办, 医保) are most of what callers say, so a trigram query misses
articles a bigram index finds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, literal, or_
from sqlmodel import Session, col, select

from engine.knowledge.access import visible_condition
from engine.knowledge.grams import query_pieces
from engine.knowledge.models import KnowledgeArticle, KnowledgeGram

MAX_QUERY = 200
WHOLE = 4
CATEGORY_BOOST = 3


@dataclass(frozen=True)
class Hit:
    article: KnowledgeArticle
    score: int


def grams(text: str) -> list[str]:
    """The pieces a query is searched by (see engine.knowledge.grams)."""
    return query_pieces(text[:MAX_QUERY])


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    session: Session,
    query: str,
    today: date,
    category: str | None = None,
    limit: int = 8,
    include_hidden: bool = False,
) -> list[Hit]:
    """The best matching articles operators may use on ``today``, best first.
    ``include_hidden``: every status (a keeper's list)."""
    pieces = grams(query)
    if not pieces:
        return []
    matched = (
        select(
            col(KnowledgeGram.article_id).label("article_id"),
            func.sum(KnowledgeGram.weight).label("text_score"),
        )
        .where(col(KnowledgeGram.gram).in_(pieces))
        .group_by(col(KnowledgeGram.article_id))
        .subquery()
    )
    sqlite = session.get_bind().dialect.name == "sqlite"
    whole = query.strip()[:MAX_QUERY]
    pattern = f"%{_escape(whole)}%"

    def contains(column: Any) -> Any:
        return column.like(pattern, "\\") if sqlite else column.ilike(pattern, "\\")

    bonus: Any = literal(0)
    if len(whole) >= 2:
        title, question = col(KnowledgeArticle.title), col(KnowledgeArticle.question)
        bonus = case((or_(contains(title), contains(question)), WHOLE), else_=0)
    if category:
        padded = literal(" ") + col(KnowledgeArticle.categories) + literal(" ")
        boost = case((padded.like(f"% {_escape(category)} %", "\\"), CATEGORY_BOOST), else_=0)
        bonus = bonus + boost
    score = (matched.c.text_score + bonus).label("score")
    ranked = select(KnowledgeArticle, score).join(
        matched, matched.c.article_id == col(KnowledgeArticle.id)
    )
    if not include_hidden:
        ranked = ranked.where(visible_condition(today))
    rows = session.exec(
        ranked.order_by(score.desc(), col(KnowledgeArticle.id).desc()).limit(limit)
    ).all()
    return [Hit(article, int(points)) for article, points in rows]
