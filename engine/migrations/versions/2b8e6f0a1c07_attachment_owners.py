"""attachment owners: who uploaded each photo, and the cases each photo is attached to, so a
photo is shown exactly to those who may see one of its cases (and its uploader until then);
outbox messages about no case (audit checkpoints posted to an external witness)

Revision ID: 2b8e6f0a1c07
Revises: 2b8e6f0a1c06
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.db

revision = "2b8e6f0a1c07"
down_revision = "2b8e6f0a1c06"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment_upload",
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("uploader", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("uploaded_at", engine.db.UTCDateTime(), nullable=False),
        sa.Column("attached_at", engine.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("ref", "uploader"),
    )
    op.create_table(
        "attachment_case",
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("attached_at", engine.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ref", "case_id"),
    )
    _index_photos_in_the_trail()
    # Outbox messages about no case: signed audit checkpoints for an external witness.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.Integer(), nullable=True)


BATCH = 1000


def _index_photos_in_the_trail() -> None:
    """The photos events already carry, indexed to their cases once (the only pass over the
    trail: from here on the write path keeps the index). Events come by case, so only one
    case's references are held at a time."""
    bind = op.get_bind()
    table = sa.table(
        "attachment_case", sa.column("ref"), sa.column("case_id"), sa.column("attached_at")
    )
    events = bind.execute(
        sa.text(
            "SELECT case_id, at, data FROM case_event"
            " WHERE CAST(data AS TEXT) LIKE '%att:%' ORDER BY case_id, seq"
        )
    )
    current, seen, rows = None, set(), []
    for case_id, at, data in events:
        if case_id != current:
            current, seen = case_id, set()
        values = json.loads(data) if isinstance(data, str) else data or {}
        for value in values.values():
            for ref in value if isinstance(value, list) else ():
                if isinstance(ref, str) and ref.startswith("att:") and ref not in seen:
                    seen.add(ref)
                    rows.append({"ref": ref[:80], "case_id": case_id, "attached_at": at})
        if len(rows) >= BATCH:
            bind.execute(table.insert(), rows)
            rows = []
    if rows:
        bind.execute(table.insert(), rows)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE case_id IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("attachment_case")
    op.drop_table("attachment_upload")
