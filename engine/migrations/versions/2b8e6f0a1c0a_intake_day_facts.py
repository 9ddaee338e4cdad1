"""read model: daily hotline cases and answers at intake per unit, operator and category (直办率)

``view_intake_day`` (engine.views.models.ViewIntakeDay) starts empty: a database that
already holds cases fills it with ``gridflow views rebuild``; the write path keeps it from
then on (docs/READ_SIDE.md#read-models-views).

Revision ID: 2b8e6f0a1c0a
Revises: 2b8e6f0a1c09
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "2b8e6f0a1c0a"
down_revision = "2b8e6f0a1c09"
branch_labels = None
depends_on = None


def _text(name: str, length: int) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False)


def upgrade() -> None:
    op.create_table(
        "view_intake_day",
        sa.Column("day", sa.Date(), nullable=False),
        _text("unit", 32),
        _text("operator", 50),
        _text("category", 5),
        sa.Column("hotline_cases", sa.Integer(), nullable=False),
        sa.Column("answered_at_intake", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "unit", "operator", "category"),
    )


def downgrade() -> None:
    op.drop_table("view_intake_day")
