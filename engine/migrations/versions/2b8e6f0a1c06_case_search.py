"""lookups and search: normalised caller phone, ticket and case number indexes; full-text index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL)

Revision ID: 2b8e6f0a1c06
Revises: 2b8e6f0a1c05
Create Date: 2026-12-07 09:50:00
"""

from __future__ import annotations

revision = "2b8e6f0a1c06"
down_revision = "2b8e6f0a1c05"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
