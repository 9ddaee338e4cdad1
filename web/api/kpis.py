"""Read-side routes over the read models (engine.views): the KPI report (考核) of a period as
JSON or as an Excel workbook, and the supervisor's board."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from engine.errors import Forbidden, InvalidInput
from engine.isotime import IsoDate
from engine.kpis import METRICS, KpiReport, Period
from engine.kpis.definitions import INTAKE_METRIC
from engine.kpis.excel import kpi_workbook
from engine.kpis.intake import IntakeReport
from engine.users.models import Principal, Role
from engine.views.board_reads import BoardAnswer, board_answer
from engine.views.intake_reads import intake_report
from engine.views.kpi_reads import kpi_report
from web.context import AppContext
from web.deps import Ctx, CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["kpis"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNIT_ROLES = {Role.supervisor, Role.dispatcher, Role.operator}

PeriodStart = Annotated[
    IsoDate | None, Query(description="first day (city time); default: the 1st of this month")
]
PeriodEnd = Annotated[IsoDate | None, Query(description="last day, inclusive; default: today")]
UnitCode = Annotated[
    str | None, Query(max_length=32, description="a unit: its subtree; default: your scope")
]
DepartmentCode = Annotated[str | None, Query(max_length=32, description="one department only")]


def scoped_unit(ctx: AppContext, principal: Principal, unit: str | None) -> str | None:
    """The unit asked for, checked against a unit-scoped caller's scope (default: it)."""
    if principal.role in UNIT_ROLES:
        scope = principal.scope or ""
        unit = unit or scope
        if unit not in ctx.city.units or not ctx.city.is_within(unit, scope):
            raise Forbidden(f"unit {unit!r} is outside your scope {scope!r}")
    elif principal.role not in (Role.admin, Role.system):
        raise Forbidden(f"role '{principal.role}' has no KPI reports")
    return unit


def period_of(ctx: AppContext, period_start: date | None, period_end: date | None) -> Period:
    """The period asked for; by default this month to date (city time)."""
    today = ctx.calendars.get().local_date(ctx.clock.now())
    first = period_start or today.replace(day=1)
    return Period.of(first, period_end or max(today, first), ctx.city.timezone)


def report(
    ctx: AppContext,
    principal: Principal,
    period_start: date | None,
    period_end: date | None,
    unit: str | None,
    department: str | None,
) -> KpiReport:
    city, now = ctx.city, ctx.clock.now()
    if principal.role is Role.handler:  # a department sees its own figures
        if principal.scope is None or department not in (None, principal.scope):
            raise Forbidden("a department sees its own KPIs only")
        department = principal.scope
    else:
        unit = scoped_unit(ctx, principal, unit)
    period = period_of(ctx, period_start, period_end)
    with ctx.db.connect() as conn:  # the daily facts (engine.views), never the audit trail
        return kpi_report(conn, city, period, now, unit=unit, department=department)


def intake(
    ctx: AppContext,
    principal: Principal,
    period_start: date | None,
    period_end: date | None,
    unit: str | None,
) -> IntakeReport | None:
    """直办率 of the period for the unit's subtree; None for a department's handlers (a case
    answered at intake never reaches a department)."""
    if principal.role is Role.handler:
        return None
    unit = scoped_unit(ctx, principal, unit)
    period = period_of(ctx, period_start, period_end)
    with ctx.db.connect() as conn:  # the daily intake facts (engine.views)
        return intake_report(conn, ctx.city, period, ctx.clock.now(), unit=unit)


@router.get("/kpis", response_model=KpiReport)
def get_kpis(
    ctx: Ctx,
    principal: CurrentPrincipal,
    period_start: PeriodStart = None,
    period_end: PeriodEnd = None,
    unit: UnitCode = None,
    department: DepartmentCode = None,
) -> KpiReport:
    """考核指标 of a period: ``total`` for the unit's subtree, ``units`` (the unit, then each
    unit directly below it), ``departments`` (each department that had a case there).
    Supervisors, dispatchers and operators see their scope's subtree, a department's
    handlers its own row, admins everything. Definitions: ``GET /api/v1/kpis/definitions``
    and the README."""
    return report(ctx, principal, period_start, period_end, unit, department)


@router.get(
    "/kpis.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the KPI workbook"}},
)
def get_kpis_xlsx(
    ctx: Ctx,
    principal: CurrentPrincipal,
    period_start: PeriodStart = None,
    period_end: PeriodEnd = None,
    unit: UnitCode = None,
    department: DepartmentCode = None,
) -> Response:
    """The same report as an Excel workbook: 部门考核, 区域考核, 直办率 (per operator and per
    category; not for a department's handlers) and 说明 (period, weights, definitions)."""
    found = report(ctx, principal, period_start, period_end, unit, department)
    answered = intake(ctx, principal, period_start, period_end, unit)
    name = f"kpis-{found.unit}-{found.period_start}-{found.period_end}.xlsx"
    return Response(
        kpi_workbook(found, answered),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/kpis/intake", response_model=IntakeReport)
def get_kpis_intake(
    ctx: Ctx,
    principal: CurrentPrincipal,
    period_start: PeriodStart = None,
    period_end: PeriodEnd = None,
    unit: UnitCode = None,
) -> IntakeReport:
    """直办率 (answered at intake) of a period for the unit's subtree (default: your scope):
    ``total``, ``operators`` (per filing operator: user id and display name, never the
    username; filers not on file as one row with an empty code) and ``categories``. Read
    from the daily intake facts. Definition: ``GET /api/v1/kpis/definitions``."""
    if principal.role is Role.handler:
        raise Forbidden("a department has no 直办率: answered calls never reach it")
    found = intake(ctx, principal, period_start, period_end, unit)
    assert found is not None
    return found


@router.get("/kpis/definitions")
def get_kpi_definitions(_: CurrentPrincipal) -> list[dict[str, str]]:
    """Each KPI: key, Chinese and English name, and how it is computed."""
    metrics = (*METRICS, INTAKE_METRIC)
    return [{"key": m.key, "zh": m.zh, "en": m.en, "definition": m.definition} for m in metrics]


BOARD_ROLES = {Role.supervisor, Role.dispatcher}
Limit = Annotated[int, Query(ge=1, le=500, description="escalations listed, latest first")]


@router.get("/board", response_model=BoardAnswer)
def get_board(
    ctx: Ctx, principal: CurrentPrincipal, unit: UnitCode = None, limit: Limit = 100
) -> BoardAnswer:
    """The supervisor's board for a unit (default: your scope): open stage runs per light,
    per lead department and per unit directly below, the latest escalations (督办), and
    open cases per grid and per state. Read from the read models only."""
    city = ctx.city
    if principal.role in BOARD_ROLES:
        scope = principal.scope or ""
        unit = unit or scope
        if unit not in city.units or not city.is_within(unit, scope):
            raise Forbidden(f"unit {unit!r} is outside your scope {scope!r}")
    elif principal.role is not Role.admin:
        raise Forbidden(f"role '{principal.role}' has no board")
    unit = unit or city.root
    if unit not in city.units:
        raise InvalidInput("unit", f"unknown unit {unit!r}")
    with ctx.db.connect() as conn:
        return board_answer(conn, city, unit, ctx.clock.now(), limit)
