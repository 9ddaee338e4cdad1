"""keyed audit chain: key id, global sequence and case-row digest on each event

Events already written keep their plain SHA-256 chain: they get the key id "sha256", which
``gridflow audit verify`` checks the old way, and global numbers in the order they were
written (by id). The sequence counter starts after them.

Revision ID: 2b8e6f0a1c02
Revises: 2b8e6f0a1c01
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "2b8e6f0a1c02"
down_revision = "2b8e6f0a1c01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(sa.Column("gseq", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("row_digest", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )
    op.execute("UPDATE case_event SET key_id = 'sha256'")
    op.execute(
        "UPDATE case_event SET gseq = numbered.n FROM "
        "(SELECT id, row_number() OVER (ORDER BY id) AS n FROM case_event) AS numbered "
        "WHERE numbered.id = case_event.id"
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_event_gseq"), ["gseq"], unique=True)
    op.create_table(
        "audit_sequence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(
        "INSERT INTO audit_sequence (id, last) SELECT 1, coalesce(max(gseq), 0) FROM case_event"
    )


def downgrade() -> None:
    op.drop_table("audit_sequence")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_event_gseq"))
        batch_op.drop_column("row_digest")
        batch_op.drop_column("gseq")
        batch_op.drop_column("key_id")
