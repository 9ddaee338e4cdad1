"""history import: the old system's id on imported cases

Revision ID: 2b8e6f0a1c03
Revises: 2b8e6f0a1c02
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

revision = "2b8e6f0a1c03"
down_revision = "2b8e6f0a1c02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
