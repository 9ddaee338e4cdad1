"""provisional deadlines: an SLA clock whose deadline crosses a year without holiday data

A working-time deadline that runs through a year the calendar has no official schedule for
(neither the chinesecalendar package nor an override) is computed Monday to Friday and marked
``provisional``; importing that year's State Council notice recomputes and unmarks it.

Revision ID: 2b8e6f0a1c04
Revises: 2b8e6f0a1c03
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2b8e6f0a1c04"
down_revision = "2b8e6f0a1c03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sla_clock") as batch:
        batch.add_column(
            sa.Column("provisional", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("sla_clock") as batch:
        batch.drop_column("provisional")
