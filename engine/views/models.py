"""The read models' tables (docs/READ_SIDE.md#read-models-views): facts kept in the case
transaction by ``ViewsHook`` and recomputable from the audit trail (``views rebuild``).

Missing values are stored as ``""`` (no department yet, no category) so that they can be
part of a primary key.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from engine.db import UTCDateTime
from engine.kpis.definitions import COUNT_KEYS, INTAKE_COUNT_KEYS, STAGE_COUNTS


class ViewOpenCount(SQLModel, table=True):
    """How many open (not final) cases are in a state, per owning unit and lead department."""

    __tablename__ = "view_open_count"

    state: str = Field(max_length=20, primary_key=True)
    unit: str = Field(max_length=32, primary_key=True)
    department: str = Field(max_length=32, primary_key=True)
    cases: int = 0


class ViewStageLight(SQLModel, table=True):
    """One open stage run of one case (its SLA clock not stopped) and its light: ``green``
    when it starts, ``yellow`` / ``red`` when the stage's yellow / red timer fires. Also the
    run's own bookkeeping (lead department when it started, working time in progress) that
    decides its KPI fact when it ends."""

    __tablename__ = "view_stage_light"
    __table_args__ = (
        Index("ix_view_stage_light_due", "due_at"),
        Index("ix_view_stage_light_unit", "unit"),
        # A department's open runs, soonest due first (the inbox's 即将超时 / 已超时).
        Index("ix_view_stage_light_department", "department", "due_at"),
    )

    case_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    stage: str = Field(max_length=10, primary_key=True)
    generation: int
    unit: str = Field(max_length=32)
    department: str = Field(default="", max_length=32)
    category: str = Field(default="", max_length=5)
    started_at: datetime = Field(sa_type=UTCDateTime)
    yellow_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    light: str = Field(default="green", max_length=6)
    working_seconds: float = 0.0  # handle runs: working time spent in progress so far
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)  # in progress since


class ViewLateRun(SQLModel, table=True):
    """A stage run that ended after its deadline, on the local day of the deadline: the
    distinct cases of 超期件数 (overdue cases) over any period."""

    __tablename__ = "view_late_run"
    __table_args__ = (Index("ix_view_late_run_day", "day", "unit"),)

    case_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    stage: str = Field(max_length=10, primary_key=True)
    generation: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    day: date
    unit: str = Field(max_length=32)
    department: str = Field(default="", max_length=32)
    category: str = Field(default="", max_length=5)


class ViewEscalation(SQLModel, table=True):
    """The latest supervision (督办) of each open case: the board's escalation list."""

    __tablename__ = "view_escalation"
    __table_args__ = (Index("ix_view_escalation_at", "at"),)

    case_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    unit: str = Field(max_length=32)
    supervision_unit: str = Field(max_length=32)
    card: str = Field(default="", max_length=10)
    stage: str = Field(default="", max_length=10)
    at: datetime = Field(sa_type=UTCDateTime)


# The daily facts' counts: the KPI counts, each stage's decided runs, the handling time.
STAGE_KEYS = tuple(key for pair in STAGE_COUNTS.values() for key in pair)
DAY_KEYS = tuple(
    dict.fromkeys(("received", "closed", *COUNT_KEYS, *STAGE_KEYS, "handled", "handle_us"))
)


class KpiCounts(SQLModel):
    """The counts of the KPI facts (each a column of the tables below)."""

    received: int = 0  # reported (a new case)
    closed: int = 0  # reached 已结案
    assigned: int = 0
    returns: int = 0
    redispatched: int = 0
    resolves: int = 0
    reworks: int = 0
    accept_due: int = 0
    accepted_on_time: int = 0
    handle_due: int = 0
    resolved_on_time: int = 0
    verifies: int = 0
    verifies_passed: int = 0
    callbacks: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    unsatisfied_other: int = 0
    answered: int = 0
    solved: int = 0
    dispatch_due: int = 0
    dispatched_on_time: int = 0
    verify_due: int = 0
    verified_on_time: int = 0
    handled: int = 0  # handle runs ended by resolve
    handle_us: int = Field(default=0, sa_type=BigInteger)  # their working time, microseconds


class ViewKpiDay(KpiCounts, table=True):
    """What happened on one local day to the cases of one unit, per lead department and
    category: every KPI of engine.kpis is a sum of these over a period and a unit subtree
    (plus the open runs past their deadline, read from ``view_stage_light``)."""

    __tablename__ = "view_kpi_day"

    day: date = Field(primary_key=True)
    unit: str = Field(max_length=32, primary_key=True)
    department: str = Field(max_length=32, primary_key=True)
    category: str = Field(max_length=5, primary_key=True)


class ViewKpiDayUnit(KpiCounts, table=True):
    """The daily facts without the category: one local day × owning unit × lead department.
    What the board's daily series and a KPI period's edge days read (a few hundred rows a
    day however many cases the day saw, where ``view_kpi_day`` has one per category too)."""

    __tablename__ = "view_kpi_day_unit"

    day: date = Field(primary_key=True)
    unit: str = Field(max_length=32, primary_key=True)
    department: str = Field(max_length=32, primary_key=True)


class ViewKpiMonth(KpiCounts, table=True):
    """The same counts per local calendar month (``month``: its first day), unit and lead
    department: a period of whole months reads these, not every day's rows."""

    __tablename__ = "view_kpi_month"

    month: date = Field(primary_key=True)
    unit: str = Field(max_length=32, primary_key=True)
    department: str = Field(max_length=32, primary_key=True)


class ViewIntakeDay(SQLModel, table=True):
    """Hotline cases filed on one local day in one unit, per filing operator (their
    username, as the audit trail names them) and category, and how many of those were
    answered at intake (直接答复): the 直办率 (engine.kpis.definitions.INTAKE_METRIC)."""

    __tablename__ = "view_intake_day"

    day: date = Field(primary_key=True)
    unit: str = Field(max_length=32, primary_key=True)
    operator: str = Field(max_length=50, primary_key=True)
    category: str = Field(max_length=5, primary_key=True)
    hotline_cases: int = 0
    answered_at_intake: int = 0


assert set(DAY_KEYS) == set(KpiCounts.model_fields), "the counts are the daily fact keys"
INTAKE_KEYS = INTAKE_COUNT_KEYS
assert set(INTAKE_KEYS) < set(ViewIntakeDay.model_fields), "the intake counts are columns"
VIEW_TABLES = (
    ViewOpenCount, ViewStageLight, ViewLateRun, ViewEscalation, ViewKpiDay, ViewKpiDayUnit,
    ViewKpiMonth, ViewIntakeDay,
)  # fmt: skip
