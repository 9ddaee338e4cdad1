"""ix_view_stage_light_department: a department's open stage runs, soonest due first, so the
inbox counts and lists its yellow and red runs (即将超时 / 已超时) from its own open runs.

Revision ID: 2b8e6f0a1c0e
Revises: 2b8e6f0a1c0d
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = "2b8e6f0a1c0e"
down_revision = "2b8e6f0a1c0d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_view_stage_light_department", "view_stage_light", ["department", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_view_stage_light_department", table_name="view_stage_light")
