"""history import: the channel ``imported`` for cases brought over from the old system

An imported case keeps the old system's id as its ``external_id`` on channel ``imported``:
the existing unique key on (channel, external_id) makes a re-run skip what landed. The
channel column is a VARCHAR sized to its longest value, so it grows to hold "imported".

Revision ID: 2b8e6f0a1c03
Revises: 2b8e6f0a1c02
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2b8e6f0a1c03"
down_revision = "2b8e6f0a1c02"
branch_labels = None
depends_on = None

_BEFORE = ("hotline", "grid", "video", "open311", "web", "upper")
_AFTER = (*_BEFORE, "imported")


def _channel(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="channel", native_enum=False)


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.alter_column(
            "channel", existing_type=_channel(_BEFORE), type_=_channel(_AFTER), nullable=False
        )


def downgrade() -> None:
    # Imported cases must be deleted first: their channel no longer fits.
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.alter_column(
            "channel", existing_type=_channel(_AFTER), type_=_channel(_BEFORE), nullable=False
        )
