"""ix_case_task_open: a department's co-handler tasks not yet reported, read from the index
alone (the inbox's 协办 list and its lights), instead of walking every task the department
ever had (its lead tasks included) and dropping them one by one.

Revision ID: 2b8e6f0a1c0c
Revises: 2b8e6f0a1c0b
Create Date: 2026-12-07 17:40:00
"""

from __future__ import annotations

from alembic import op

revision = "2b8e6f0a1c0c"
down_revision = "2b8e6f0a1c0b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_task_open", "case_task", ["department", "lead", "done", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_task_open", table_name="case_task")
