"""The knowledge base (知识库, docs/KNOWLEDGE.md): articles, every version of each, and the
flags that send an article back for review.

An article's current text lives on ``knowledge_article``; every change writes a new row of
``knowledge_article_version`` with who made it and when, so a case that cites "article 12,
version 3" can always show the words the operator read out. Lists of categories and
departments are stored as space-separated codes (``"12001 12002"``) so that "articles of
category X" is a plain portable ``LIKE`` on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.db import UTCDateTime


class Status(StrEnum):
    draft = "draft"  # 草稿: being written; only its keepers see it
    in_review = "in_review"  # 待审核: submitted, waiting for a second person
    published = "published"  # 已发布: operators find it (while valid)
    expired = "expired"  # 已失效: withdrawn or past its review date; listed for review


class Change(StrEnum):
    """What a version row records."""

    create = "create"
    edit = "edit"
    submit = "submit"
    publish = "publish"
    reject = "reject"
    expire = "expire"


class FlagKind(StrEnum):
    wrong = "wrong"  # a department says the answer is wrong
    outdated = "outdated"  # … or out of date
    repeat_call = "repeat_call"  # the caller called again on the same topic after the answer


TEXT_MAX = 8000
TITLE_MAX = 200
CODES_MAX = 400  # space-separated category / department codes
GRAM_MAX = 16


class ArticleFields(SQLModel):
    """What an author writes (shared by the table, its versions and the API)."""

    title: str = Field(max_length=TITLE_MAX)
    question: str = Field(sa_type=Text)
    answer: str = Field(sa_type=Text)
    source: str = Field(default="", max_length=300)  # 政策依据: the policy document
    source_date: date | None = None  # the policy's date
    categories: str = Field(default="", max_length=CODES_MAX)  # "12001 12002"
    departments: str = Field(default="", max_length=CODES_MAX)  # "RS-00 YB-00"
    valid_from: date | None = None
    review_by: date | None = None  # after this day it is hidden from operators


class KnowledgeArticle(ArticleFields, table=True):
    __tablename__ = "knowledge_article"
    __table_args__ = (Index("ix_knowledge_article_status", "status", "review_by"),)

    id: int | None = Field(default=None, primary_key=True)
    # The department that keeps it (its handlers may edit it); None: kept by administrators.
    owner_department: str | None = Field(default=None, max_length=32, index=True)
    status: str = Field(default=Status.draft, max_length=12)
    version: int = 1
    submitted_by: str | None = Field(default=None, max_length=50)  # who asked for review
    needs_review: bool = False  # an open flag (wrong, out of date, repeat call)
    created_by: str = Field(max_length=50)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_by: str = Field(max_length=50)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class KnowledgeArticleVersion(ArticleFields, table=True):
    """The article as it stood after one change."""

    __tablename__ = "knowledge_article_version"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="knowledge_article.id", index=True)
    version: int
    status: str = Field(max_length=12)
    change: str = Field(max_length=12)
    note: str = Field(default="", max_length=500)
    changed_by: str = Field(max_length=50)
    changed_at: datetime = Field(sa_type=UTCDateTime)


class KnowledgeFlag(SQLModel, table=True):
    """A reason to review an article, raised from a case; resolved by the next publication."""

    __tablename__ = "knowledge_flag"
    __table_args__ = (UniqueConstraint("article_id", "kind", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="knowledge_article.id", index=True)
    article_version: int
    case_id: int = Field(foreign_key="case.id")
    kind: str = Field(max_length=12)
    note: str = Field(default="", max_length=500)
    raised_by: str = Field(max_length=50)
    raised_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class KnowledgeGram(SQLModel, table=True):
    """The search index (engine.knowledge.grams): one row per article and piece of its text
    (a CJK bigram or a Latin/digit word), weighted by where the piece occurs."""

    __tablename__ = "knowledge_gram"

    gram: str = Field(max_length=GRAM_MAX, primary_key=True)
    article_id: int = Field(foreign_key="knowledge_article.id", primary_key=True, index=True)
    weight: int


def split_codes(text: str) -> list[str]:
    return [c for c in text.split() if c]


def join_codes(codes: list[str]) -> str:
    return " ".join(dict.fromkeys(c.strip() for c in codes if c.strip()))
