"""case.queued_at: when a case last entered a command center's queue (待派遣 by ``queue``,
退单审核 by ``return``), which the queue's order and its 等待超过 filter read instead of
``updated_at``: a reminder, an escalation or a note on a waiting case changes
``updated_at`` and used to send it to the back of "longest waiting first".

Filled here for the cases waiting now, from their latest ``queue`` or ``return`` event (an
audit digest made before the field existed does not cover it, so the trail still verifies).

Revision ID: 2b8e6f0a1c0d
Revises: 2b8e6f0a1c0c
Create Date: 2026-12-07 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "2b8e6f0a1c0d"
down_revision = "2b8e6f0a1c0c"
branch_labels = None
depends_on = None

_FILL = """
UPDATE "case" SET queued_at = COALESCE(
    (SELECT MAX(e.at) FROM case_event e
     WHERE e.case_id = "case".id AND e.action IN ('queue', 'return')),
    updated_at)
WHERE state IN ('dispatching', 'returned')
"""
_QUEUE = ("state", "dispatch_queue", "urgency")


def upgrade() -> None:
    op.add_column("case", sa.Column("queued_at", UTCDateTime(), nullable=True))
    op.execute(_FILL)
    op.drop_index("ix_case_queue", table_name="case")
    op.create_index("ix_case_queue", "case", [*_QUEUE, "queued_at"])


def downgrade() -> None:
    op.drop_index("ix_case_queue", table_name="case")
    op.create_index("ix_case_queue", "case", [*_QUEUE, "updated_at"])
    op.drop_column("case", "queued_at")
