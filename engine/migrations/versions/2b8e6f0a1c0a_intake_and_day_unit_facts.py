"""read models: daily hotline cases and answers at intake (直办率); daily facts without category

``view_intake_day`` (engine.views.models.ViewIntakeDay): per local day, unit, filing operator
and category, hotline cases and those answered at intake. ``view_kpi_day_unit``
(ViewKpiDayUnit): the daily KPI facts per day, unit and lead department, without the
category, for the board's daily series and a KPI period's edge days, filled here from
``view_kpi_day``. ``view_intake_day`` starts empty: a database that already holds cases
fills it with ``gridflow views rebuild``; the write path keeps both from then on
(docs/READ_SIDE.md#read-models-views).

Revision ID: 2b8e6f0a1c0a
Revises: 2b8e6f0a1c09
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "2b8e6f0a1c0a"
down_revision = "2b8e6f0a1c09"
branch_labels = None
depends_on = None


def _text(name: str, length: int) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False)


DAY_COUNTS = (
    "received", "closed", "assigned", "returns", "redispatched", "resolves", "reworks",
    "accept_due", "accepted_on_time", "handle_due", "resolved_on_time", "verifies",
    "verifies_passed", "callbacks", "satisfied", "basic", "unsatisfied", "unsatisfied_other",
    "answered", "solved", "dispatch_due", "dispatched_on_time", "verify_due",
    "verified_on_time", "handled",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "view_intake_day",
        sa.Column("day", sa.Date(), nullable=False),
        _text("unit", 32),
        _text("operator", 50),
        _text("category", 5),
        sa.Column("hotline_cases", sa.Integer(), nullable=False),
        sa.Column("answered_at_intake", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "unit", "operator", "category"),
    )
    op.create_table(
        "view_kpi_day_unit",
        sa.Column("day", sa.Date(), nullable=False),
        _text("unit", 32),
        _text("department", 32),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in DAY_COUNTS),
        sa.Column("handle_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "unit", "department"),
    )
    # The daily facts already kept, without their category: no rebuild needed for these.
    counts = (*DAY_COUNTS, "handle_us")
    op.execute(
        f"INSERT INTO view_kpi_day_unit (day, unit, department, {', '.join(counts)}) "
        f"SELECT day, unit, department, {', '.join(f'SUM({c})' for c in counts)} "
        "FROM view_kpi_day GROUP BY day, unit, department"
    )


def downgrade() -> None:
    op.drop_table("view_kpi_day_unit")
    op.drop_table("view_intake_day")
