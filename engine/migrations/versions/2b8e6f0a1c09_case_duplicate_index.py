"""case.duplicate_of indexed: the case page lists the cases flagged as its duplicates, which
read the whole case table without it

Revision ID: 2b8e6f0a1c09
Revises: 2b8e6f0a1c08
Create Date: 2026-12-07 11:30:00
"""

from __future__ import annotations

from alembic import op

revision = "2b8e6f0a1c09"
down_revision = "2b8e6f0a1c08"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index("ix_case_duplicate_of", ["duplicate_of"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_duplicate_of")
