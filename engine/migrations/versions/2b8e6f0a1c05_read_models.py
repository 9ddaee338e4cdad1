"""read models: counts per state, unit and department; stage lights; daily and monthly KPI facts

The tables of engine.views (docs/READ_SIDE.md#read-models-views). They start empty: a
database that already holds cases fills them with ``gridflow views rebuild`` (from the audit
trail, in bounded memory) before the board and the KPIs are read; ``gridflow views check``
then finds no difference. A new database needs nothing: the write path keeps them.

Revision ID: 2b8e6f0a1c05
Revises: 2b8e6f0a1c04
Create Date: 2026-12-07 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.db

revision = "2b8e6f0a1c05"
down_revision = "2b8e6f0a1c04"
branch_labels = None
depends_on = None

DAY_COUNTS = (
    "received", "closed", "assigned", "returns", "redispatched", "resolves", "reworks",
    "accept_due", "accepted_on_time", "handle_due", "resolved_on_time", "verifies",
    "verifies_passed", "callbacks", "satisfied", "basic", "unsatisfied", "unsatisfied_other",
    "answered", "solved", "dispatch_due", "dispatched_on_time", "verify_due",
    "verified_on_time", "handled",
)  # fmt: skip


def _text(name: str, length: int, **kwargs: object) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), **kwargs)


def upgrade() -> None:
    op.create_table(
        "view_open_count",
        _text("state", 20, nullable=False),
        _text("unit", 32, nullable=False),
        _text("department", 32, nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("state", "unit", "department"),
    )
    op.create_table(
        "view_stage_light",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        _text("stage", 10, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        _text("unit", 32, nullable=False),
        _text("department", 32, nullable=False),
        _text("category", 5, nullable=False),
        sa.Column("started_at", engine.db.UTCDateTime(), nullable=False),
        sa.Column("yellow_at", engine.db.UTCDateTime(), nullable=False),
        sa.Column("due_at", engine.db.UTCDateTime(), nullable=False),
        sa.Column("paused_at", engine.db.UTCDateTime(), nullable=True),
        _text("light", 6, nullable=False),
        sa.Column("working_seconds", sa.Float(), nullable=False),
        sa.Column("since", engine.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", "stage"),
    )
    with op.batch_alter_table("view_stage_light") as batch:
        batch.create_index("ix_view_stage_light_due", ["due_at"], unique=False)
        batch.create_index("ix_view_stage_light_unit", ["unit"], unique=False)
    op.create_table(
        "view_late_run",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        _text("stage", 10, nullable=False),
        sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        _text("unit", 32, nullable=False),
        _text("department", 32, nullable=False),
        _text("category", 5, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "stage", "generation"),
    )
    with op.batch_alter_table("view_late_run") as batch:
        batch.create_index("ix_view_late_run_day", ["day", "unit"], unique=False)
    op.create_table(
        "view_escalation",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        _text("unit", 32, nullable=False),
        _text("supervision_unit", 32, nullable=False),
        _text("card", 10, nullable=False),
        _text("stage", 10, nullable=False),
        sa.Column("at", engine.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    with op.batch_alter_table("view_escalation") as batch:
        batch.create_index("ix_view_escalation_at", ["at"], unique=False)
    op.create_table(
        "view_kpi_day",
        sa.Column("day", sa.Date(), nullable=False),
        _text("unit", 32, nullable=False),
        _text("department", 32, nullable=False),
        _text("category", 5, nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in DAY_COUNTS),
        sa.Column("handle_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "unit", "department", "category"),
    )
    op.create_table(
        "view_kpi_month",
        sa.Column("month", sa.Date(), nullable=False),
        _text("unit", 32, nullable=False),
        _text("department", 32, nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in DAY_COUNTS),
        sa.Column("handle_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "unit", "department"),
    )


def downgrade() -> None:
    op.drop_table("view_kpi_month")
    op.drop_table("view_kpi_day")
    with op.batch_alter_table("view_escalation") as batch:
        batch.drop_index("ix_view_escalation_at")
    op.drop_table("view_escalation")
    with op.batch_alter_table("view_late_run") as batch:
        batch.drop_index("ix_view_late_run_day")
    op.drop_table("view_late_run")
    with op.batch_alter_table("view_stage_light") as batch:
        batch.drop_index("ix_view_stage_light_unit")
        batch.drop_index("ix_view_stage_light_due")
    op.drop_table("view_stage_light")
    op.drop_table("view_open_count")
