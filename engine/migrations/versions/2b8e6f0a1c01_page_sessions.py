"""page sessions kept server-side, so logout and account changes end them

Revision ID: 2b8e6f0a1c01
Revises: 1c2ebf1526c4
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

revision = "2b8e6f0a1c01"
down_revision = "1c2ebf1526c4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
