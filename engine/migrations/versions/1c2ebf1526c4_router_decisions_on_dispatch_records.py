"""router decisions on dispatch records: who decided; the text router's
model version, target, confidence, threshold and top 3

Revision ID: 1c2ebf1526c4
Revises: e74c79d17f44
Create Date: 2026-11-22 00:18:08.111480
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "1c2ebf1526c4"
down_revision = "e74c79d17f44"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dispatch_decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sqlmodel.sql.sqltypes.AutoString(length=10),
                server_default=sa.text("'rule'"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("router_target", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
        batch_op.add_column(sa.Column("confidence", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("threshold", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("candidates", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dispatch_decision", schema=None) as batch_op:
        batch_op.drop_column("candidates")
        batch_op.drop_column("threshold")
        batch_op.drop_column("confidence")
        batch_op.drop_column("router_target")
        batch_op.drop_column("model_version")
        batch_op.drop_column("source")
