"""page sessions kept server-side, so logout and account changes end them; login throttle
per address and account instead of an account lockout

Revision ID: 2b8e6f0a1c01
Revises: 1c2ebf1526c4
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.db

revision = "2b8e6f0a1c01"
down_revision = "1c2ebf1526c4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_session",
        sa.Column("id_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", engine.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", engine.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", engine.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    with op.batch_alter_table("page_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_session_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_page_session_expires_at"), ["expires_at"], unique=False
        )
    # The old per-account lockout's counters are dropped: failures are counted afresh.
    op.drop_table("login_attempt")
    op.create_table(
        "login_throttle",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", engine.db.UTCDateTime(), nullable=False),
        sa.Column("held_until", engine.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.create_table(
        "login_attempt",
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", engine.db.UTCDateTime(), nullable=True),
        sa.Column("locked_until", engine.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username"),
    )
    with op.batch_alter_table("page_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_page_session_user_id"))
    op.drop_table("page_session")
