"""read models: counts per state, unit and department; stage lights; daily KPI facts

Revision ID: 2b8e6f0a1c05
Revises: 2b8e6f0a1c04
Create Date: 2026-12-07 09:50:00
"""

from __future__ import annotations

revision = "2b8e6f0a1c05"
down_revision = "2b8e6f0a1c04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
