"""The pieces articles are searched by, and the index that finds them (``knowledge_gram``).

Chinese has no spaces and most words are two characters, so text is cut into character
bigrams (Latin and digit words kept whole, lower-cased); bigrams made only of function
characters (的, 了, 怎么, …) are left out. Each article's pieces are stored with a weight:
3 if the piece is in its title, plus 2 if in its question, plus 1 if in its answer. A search
then reads only the index rows of the query's pieces (an indexed look-up per piece), on
SQLite and PostgreSQL alike, instead of scanning every article's text.

The index is rewritten whenever an article's text changes (engine.knowledge.lifecycle) and
can be rebuilt from the articles at any time (``rebuild``).
"""

from __future__ import annotations

import re

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from engine.knowledge.models import GRAM_MAX, KnowledgeArticle, KnowledgeGram

MAX_QUERY_GRAMS = 16
TITLE, QUESTION, ANSWER = 3, 2, 1
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[A-Za-z0-9]{2,}")
# Characters that carry no topic alone: a bigram made only of these is left out.
_FUNCTION = set(
    "的了吗呢啊吧呀么我你他她它们是在有和与及或怎什如何哪请问要想能可以会个这那就都也还被把给对从到去说一下呗嘛"
)


def pieces(text: str) -> list[str]:
    """The pieces of ``text``, in order of first appearance, each once."""
    found: list[str] = []
    for run in _CJK.findall(text):
        for i in range(len(run) - 1):
            pair = run[i : i + 2]
            if not (pair[0] in _FUNCTION and pair[1] in _FUNCTION):
                found.append(pair)
    found += [w.lower()[:GRAM_MAX] for w in _WORD.findall(text)]
    return list(dict.fromkeys(found))


def query_pieces(text: str, limit: int = MAX_QUERY_GRAMS) -> list[str]:
    return pieces(text)[:limit]


def weights(title: str, question: str, answer: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for text, weight in ((title, TITLE), (question, QUESTION), (answer, ANSWER)):
        for piece in pieces(text):
            found[piece] = found.get(piece, 0) + weight
    return found


def reindex(session: Session, article: KnowledgeArticle) -> None:
    """Rewrite ``article``'s index rows from its current text (in the caller's transaction)."""
    assert article.id is not None
    session.execute(delete(KnowledgeGram).where(col(KnowledgeGram.article_id) == article.id))
    rows = [
        {"gram": gram, "article_id": article.id, "weight": weight}
        for gram, weight in weights(article.title, article.question, article.answer).items()
    ]
    if rows:
        session.execute(insert(KnowledgeGram), rows)


def rebuild(session: Session, batch: int = 500) -> int:
    """Index every article again (one insert per ``batch`` articles); returns how many."""
    session.execute(delete(KnowledgeGram))
    count, rows = 0, []
    query = select(
        col(KnowledgeArticle.id),
        col(KnowledgeArticle.title),
        col(KnowledgeArticle.question),
        col(KnowledgeArticle.answer),
    )
    for article_id, title, question, answer in session.exec(query).all():
        found = weights(title, question, answer)
        rows += [{"gram": g, "article_id": article_id, "weight": w} for g, w in found.items()]
        count += 1
        if count % batch == 0:
            session.execute(insert(KnowledgeGram), rows)
            rows = []
    if rows:
        session.execute(insert(KnowledgeGram), rows)
    return count
