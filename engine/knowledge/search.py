"""Finding articles while the operator types the caller's words (docs/KNOWLEDGE.md#search).

Chinese has no spaces and most words are two characters, so the caller's words are cut into
character bigrams (and Latin/digit words kept whole), bigrams made only of function
characters (的, 了, 怎么, …) dropped. Each article scores, in one SQL statement, 3 for a
bigram in its title, 2 in its question, 1 in its answer, 4 more when the whole query is in
its title or question, and the suggested category adds a boost to articles that carry it
(only to those that match some text). ``LIKE`` on SQLite (case-insensitive for Latin),
``ILIKE`` on PostgreSQL: the same statement and the same ranking on both.

Why not FTS5 trigram here: a trigram index finds three-character substrings, and two-character
words (社保, 补办, 公积金's 公积) are most of what callers say, so a trigram query misses
articles a bigram scan finds. Ten thousand articles are scanned in well under the 100 ms the
intake form allows (tests/test_knowledge_search.py measures nothing; see docs/KNOWLEDGE.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, literal, or_
from sqlmodel import Session, col, select

from engine.knowledge.models import KnowledgeArticle
from engine.knowledge.service import visible_condition

MAX_GRAMS = 16
MAX_QUERY = 200
TITLE, QUESTION, ANSWER, WHOLE = 3, 2, 1, 4
CATEGORY_BOOST = 3
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[A-Za-z0-9]{2,}")
# Characters that carry no topic alone: a bigram made only of these is dropped.
_FUNCTION = set(
    "的了吗呢啊吧呀么我你他她它们是在有和与及或怎什如何哪请问要想能可以会个这那就都也还被把给对从到去说一下吧呗嘛"
)


@dataclass(frozen=True)
class Hit:
    article: KnowledgeArticle
    score: int


def grams(text: str) -> list[str]:
    """The pieces of ``text`` searched for: CJK bigrams (a lone character when a run is one
    character long), Latin and digit words lower-cased, at most ``MAX_GRAMS``, in order."""
    text = text[:MAX_QUERY]
    found: list[str] = []
    for run in _CJK.findall(text):
        if len(run) == 1:
            if run not in _FUNCTION:
                found.append(run)
            continue
        for i in range(len(run) - 1):
            pair = run[i : i + 2]
            if not (pair[0] in _FUNCTION and pair[1] in _FUNCTION):
                found.append(pair)
    found += [w.lower() for w in _WORD.findall(text)]
    return list(dict.fromkeys(found))[:MAX_GRAMS]


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
    sqlite = session.get_bind().dialect.name == "sqlite"

    def contains(column: Any, piece: str) -> Any:
        pattern = f"%{_escape(piece)}%"
        return column.like(pattern, "\\") if sqlite else column.ilike(pattern, "\\")

    title, question, answer = (
        col(KnowledgeArticle.title),
        col(KnowledgeArticle.question),
        col(KnowledgeArticle.answer),
    )
    parts: list[Any] = []
    for piece in pieces:
        parts.append(case((contains(title, piece), TITLE), else_=0))
        parts.append(case((contains(question, piece), QUESTION), else_=0))
        parts.append(case((contains(answer, piece), ANSWER), else_=0))
    whole = query.strip()[:MAX_QUERY]
    if len(whole) >= 2:
        parts.append(case((or_(contains(title, whole), contains(question, whole)), WHOLE), else_=0))
    text_score = sum(parts[1:], parts[0])
    boost: Any = literal(0)
    if category:
        padded = literal(" ") + col(KnowledgeArticle.categories) + literal(" ")
        boost = case((padded.like(f"% {_escape(category)} %", "\\"), CATEGORY_BOOST), else_=0)
    scored = select(
        col(KnowledgeArticle.id).label("id"),
        text_score.label("text_score"),
        boost.label("boost"),
    )
    if not include_hidden:
        scored = scored.where(visible_condition(today))
    inner = scored.subquery()
    total = (inner.c.text_score + inner.c.boost).label("score")
    ranked = session.exec(
        select(inner.c.id, total)
        .where(inner.c.text_score > 0)
        .order_by(total.desc(), inner.c.id.desc())
        .limit(limit)
    ).all()
    if not ranked:
        return []
    ids = [row[0] for row in ranked]
    articles = {
        a.id: a
        for a in session.exec(select(KnowledgeArticle).where(col(KnowledgeArticle.id).in_(ids)))
    }
    return [Hit(articles[i], int(score)) for i, score in ranked if i in articles]
