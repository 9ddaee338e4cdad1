"""Read side of SLAs: a case's stages as the API shows them, and the supervision queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func
from sqlmodel import Session, SQLModel, col, select

from engine import access
from engine.calendar import WorkCalendar
from engine.cases.models import Case
from engine.cases.workflow import SLA_STAGES, Workflow
from engine.city.directory import CityDirectory
from engine.errors import InvalidInput
from engine.sla import clocks
from engine.sla.limits import SlaSettings, stage_limit
from engine.sla.models import SlaClock
from engine.users.models import Principal


class StageStatus(SQLModel):
    stage: str
    status: str  # not_started | running | paused | stopped
    generation: int | None = None  # the stage's run: 2 after a rework, a return …
    limit: str
    kind: str  # working | natural
    started_at: datetime | None = None
    started_local: datetime | None = None
    due_at: datetime | None = None
    due_local: datetime | None = None
    paused_at: datetime | None = None
    paused_seconds: float = 0.0  # completed suspensions, in the stage's measure
    extensions: list[str] = []
    stopped_at: datetime | None = None
    elapsed_fraction: float | None = None  # 1.0 at the deadline, not capped
    light: str | None = None  # green | yellow | red
    overdue_seconds: float = 0.0  # past the deadline, in the stage's measure
    provisional: bool = False  # due_at counted Monday-Friday: its year has no schedule yet


class CaseSla(SQLModel):
    case_id: int
    state: str
    current_stage: str | None
    timezone: str
    yellow_at: float
    now: datetime
    supervision_unit: str | None
    card: str | None
    stages: list[StageStatus]
    warnings: list[str]


def stage_status(
    clock: SlaClock, now: datetime, calendar: WorkCalendar, settings: SlaSettings
) -> StageStatus:
    share = clocks.fraction(clock, now, calendar)
    if clock.stopped_at is not None:
        status = "stopped"
    else:
        status = "paused" if clock.paused_at is not None else "running"
    return StageStatus(
        stage=clock.stage,
        status=status,
        generation=clock.generation,
        limit=clock.limit,
        kind=clock.kind,
        started_at=clock.started_at,
        started_local=clock.started_at.astimezone(calendar.zone),
        due_at=clock.due_at,
        due_local=clock.due_at.astimezone(calendar.zone),
        paused_at=clock.paused_at,
        paused_seconds=round(clock.paused_seconds, 3),
        extensions=list(clock.extensions),
        stopped_at=clock.stopped_at,
        elapsed_fraction=round(share, 4),
        light=clocks.light(share, settings.yellow_at),
        overdue_seconds=round(clocks.overdue_seconds(clock, now, calendar), 3),
        provisional=clock.provisional,
    )


def case_sla(
    session: Session,
    case: Case,
    city: CityDirectory,
    calendar: WorkCalendar,
    workflow: Workflow,
    now: datetime,
) -> CaseSla:
    """Every stage of ``case``: its latest run, or the limit it will get."""
    settings = SlaSettings.of(city)
    query = select(SlaClock).where(SlaClock.case_id == case.id).order_by(col(SlaClock.generation))
    latest = {clock.stage: clock for clock in session.exec(query)}
    stages = []
    for stage in SLA_STAGES:
        clock = latest.get(stage)
        if clock is not None:
            stages.append(stage_status(clock, now, calendar, settings))
        else:
            limit = stage_limit(case, stage, city, settings)
            stages.append(
                StageStatus(stage=stage, status="not_started", limit=str(limit), kind=limit.kind)
            )
    years = {calendar.local_date(now).year}
    years |= {calendar.local_date(c.due_at).year for c in latest.values()}
    return CaseSla(
        case_id=case.id or 0,
        state=case.state,
        current_stage=workflow.states[case.state].stage,
        timezone=city.timezone,
        yellow_at=settings.yellow_at,
        now=now,
        supervision_unit=case.supervision_unit,
        card=case.card,
        stages=stages,
        warnings=[w for y in sorted(years) if (w := calendar.coverage_warning(y))],
    )


class SupervisedCase(SQLModel):
    case_id: int
    state: str
    category: str | None
    description: str
    owning_unit: str
    lead_department: str | None
    supervision_unit: str
    supervision_tier: str
    card: str | None
    stage: str | None
    due_at: datetime | None
    due_local: datetime | None
    light: str | None
    overdue_seconds: float  # wall-clock time past the deadline
    overdue_stage_seconds: float  # … in the stage's measure (working time for wh/wd limits)


class SupervisionQueue(SQLModel):
    items: list[SupervisedCase]
    total: int
    limit: int
    offset: int


def supervision_queue(
    session: Session,
    principal: Principal,
    city: CityDirectory,
    calendar: WorkCalendar,
    now: datetime,
    *,
    tier: str | None = None,
    unit: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> SupervisionQueue:
    """Open cases under supervision that ``principal`` may see, most overdue first."""
    where = [
        access.case_scope(principal, city),
        col(Case.supervision_unit).is_not(None),
        col(Case.closed_at).is_(None),
    ]
    if unit is not None:
        if unit not in city.units:
            raise InvalidInput("unit", f"unknown unit {unit!r}")
        where.append(col(Case.supervision_unit) == unit)
    if tier is not None:
        codes = [code for code, u in city.units.items() if u.tier == tier]
        where.append(col(Case.supervision_unit).in_(codes))
    join = and_(col(SlaClock.case_id) == col(Case.id), col(SlaClock.stopped_at).is_(None))
    total = session.exec(select(func.count()).select_from(Case).where(*where)).one()
    query = (
        select(Case, SlaClock)
        .outerjoin(SlaClock, join)
        .where(*where)
        .order_by(col(SlaClock.due_at).asc().nulls_last(), col(Case.id))
        .limit(limit)
        .offset(offset)
    )
    settings = SlaSettings.of(city)
    items = []
    for case, clock in session.exec(query):
        supervisor = str(case.supervision_unit)
        status = stage_status(clock, now, calendar, settings) if clock is not None else None
        at = clocks.measured_at(clock, now) if clock is not None else now
        items.append(
            SupervisedCase(
                case_id=case.id or 0,
                state=case.state,
                category=case.category,
                description=case.description[:200],
                owning_unit=case.owning_unit,
                lead_department=case.lead_department,
                supervision_unit=supervisor,
                supervision_tier=str(city.units[supervisor].tier),
                card=case.card,
                stage=clock.stage if clock else None,
                due_at=clock.due_at if clock else None,
                due_local=status.due_local if status else None,
                light=status.light if status else None,
                overdue_seconds=max(0.0, (at - clock.due_at).total_seconds()) if clock else 0.0,
                overdue_stage_seconds=status.overdue_seconds if status else 0.0,
            )
        )
    return SupervisionQueue(items=items, total=total, limit=limit, offset=offset)
