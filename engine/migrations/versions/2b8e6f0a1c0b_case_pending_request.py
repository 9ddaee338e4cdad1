"""case.pending_request: the kind of request (延期, 挂起, 作废申请) awaiting a decision, kept by
the write path and indexed with the unit, so the navigation's counts and the approvals queue
are index reads (engine/cases/requests.py)

Filled here for the requests already waiting: an extension request on a case in assigned or
in_progress (``pending_extension`` set), and a suspension request on a case in progress that
no later event answered (a suspension, its rejection, a result, a return or a new
assignment), as the approvals page read them before.

Revision ID: 2b8e6f0a1c0b
Revises: 2b8e6f0a1c0a
Create Date: 2026-12-07 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "2b8e6f0a1c0b"
down_revision = "2b8e6f0a1c0a"
branch_labels = None
depends_on = None

_EXTENSIONS = """
UPDATE "case" SET pending_request = 'extension'
WHERE pending_extension IS NOT NULL AND state IN ('assigned', 'in_progress')
"""
_SUSPENSIONS = """
UPDATE "case" SET pending_request = 'suspension'
WHERE state = 'in_progress' AND pending_request IS NULL AND EXISTS (
    SELECT 1 FROM case_event asked
    WHERE asked.case_id = "case".id AND asked.action = 'request_suspension'
    AND NOT EXISTS (
        SELECT 1 FROM case_event answer
        WHERE answer.case_id = asked.case_id AND answer.seq > asked.seq
        AND answer.action IN (
            'suspend', 'reject_suspension', 'resolve', 'return', 'redispatch', 'accept'
        )
    )
)
"""


def upgrade() -> None:
    # Plain ALTERs (no batch copy of the case table: SQLite adds and drops a column in place).
    op.add_column(
        "case",
        sa.Column("pending_request", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    )
    op.create_index(
        "ix_case_pending_request", "case", ["pending_request", "owning_unit"], unique=False
    )
    op.execute(_EXTENSIONS)
    op.execute(_SUSPENSIONS)


def downgrade() -> None:
    op.drop_index("ix_case_pending_request", table_name="case")
    op.drop_column("case", "pending_request")
