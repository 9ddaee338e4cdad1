"""knowledge base: articles, every version of each (who changed what, when), the flags
that send an article back for review (a department's report, a repeat call), and the search
index (CJK bigrams and words per article, weighted by title, question, answer)

Revision ID: 2b8e6f0a1c08
Revises: 2b8e6f0a1c07
Create Date: 2026-12-07 10:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.db

revision = "2b8e6f0a1c08"
down_revision = "2b8e6f0a1c07"
branch_labels = None
depends_on = None


def _article_fields() -> list[sa.Column]:
    """The columns an author writes, shared by the article and its versions."""
    return [
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("categories", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("departments", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("review_by", sa.Date(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "knowledge_article",
        *_article_fields(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_department", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("created_at", engine.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("updated_at", engine.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_knowledge_article_owner_department", "knowledge_article", ["owner_department"]
    )
    op.create_index("ix_knowledge_article_status", "knowledge_article", ["status", "review_by"])
    op.create_table(
        "knowledge_article_version",
        *_article_fields(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("change", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("changed_at", engine.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["knowledge_article.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "version"),
    )
    op.create_index(
        "ix_knowledge_article_version_article_id", "knowledge_article_version", ["article_id"]
    )
    op.create_table(
        "knowledge_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("article_version", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("raised_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("raised_at", engine.db.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", engine.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["knowledge_article.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "kind", "case_id"),
    )
    op.create_index("ix_knowledge_flag_article_id", "knowledge_flag", ["article_id"])
    op.create_table(
        "knowledge_gram",
        sa.Column("gram", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["knowledge_article.id"]),
        sa.PrimaryKeyConstraint("gram", "article_id"),
    )
    op.create_index("ix_knowledge_gram_article_id", "knowledge_gram", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_knowledge_gram_article_id", table_name="knowledge_gram")
    op.drop_table("knowledge_gram")
    op.drop_index("ix_knowledge_flag_article_id", table_name="knowledge_flag")
    op.drop_table("knowledge_flag")
    op.drop_index("ix_knowledge_article_version_article_id", table_name="knowledge_article_version")
    op.drop_table("knowledge_article_version")
    op.drop_index("ix_knowledge_article_status", table_name="knowledge_article")
    op.drop_index("ix_knowledge_article_owner_department", table_name="knowledge_article")
    op.drop_table("knowledge_article")
