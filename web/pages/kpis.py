"""The KPI page (考核指标, `/kpis`) for supervisors and administrators: a period and a unit of
their scope, the KPI report by unit and by department, the 直办率 tables (per filing
operator, by display name, and per category), and the same figures as an Excel workbook.

Everything is read from the read models (engine.views.kpi_reads, intake_reads): the page
costs what the API's answers cost. Labels of the figures come from
engine.kpis.definitions, in the page's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from engine.kpis import KpiReport, Period
from engine.kpis.definitions import BY_KEY, INTAKE_COUNTS, INTAKE_METRIC, Metric
from engine.kpis.excel import kpi_workbook
from engine.kpis.intake import IntakeReport
from engine.users.models import Role
from engine.views.intake_reads import intake_report
from engine.views.kpi_reads import kpi_report
from web.context import AppContext
from web.deps import Ctx
from web.pages import sessions
from web.pages.i18n import MESSAGES, language
from web.pages.svg import score_bars
from web.pages.templating import PageUser
from web.pages.views import View, page, require_role, scope_unit

router = APIRouter(include_in_schema=False)

KPI_ROLES = {Role.supervisor, Role.admin}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The report's columns on the page, in order (definitions.METRICS keys).
SHOWN = (
    "score", "on_time_accept_rate", "on_time_resolve_rate", "resolution_rate",
    "satisfaction_rate", "rework_rate", "return_rate", "overdue_cases",
)  # fmt: skip

KPIS_MESSAGES: dict[str, dict[str, str]] = {
    "nav_kpis": {"zh": "考核指标", "en": "KPIs"},
    "kp_title": {"zh": "考核指标", "en": "Performance indicators"},
    "kp_period_start": {"zh": "开始日期", "en": "From"},
    "kp_period_end": {"zh": "结束日期", "en": "To (inclusive)"},
    "kp_unit": {"zh": "区域", "en": "Area"},
    "kp_show": {"zh": "查看", "en": "Show"},
    "kp_download": {"zh": "下载 Excel（同一数据）", "en": "Download as Excel (the same figures)"},
    "kp_by_unit": {"zh": "按区域", "en": "By area"},
    "kp_by_department": {"zh": "按部门", "en": "By department"},
    "kp_name": {"zh": "名称", "en": "Name"},
    "kp_none": {"zh": "本期没有数据", "en": "No figures for this period"},
    "kp_intake": {"zh": "直办率（热线直接答复）", "en": "Answered at intake (hotline)"},
    "kp_by_operator": {"zh": "按话务员", "en": "By operator"},
    "kp_by_category": {"zh": "按事项分类", "en": "By category"},
    "kp_operator": {"zh": "话务员", "en": "Operator"},
    "kp_category": {"zh": "事项分类", "en": "Category"},
    "kp_total": {"zh": "合计", "en": "Total"},
    "kp_unnamed": {"zh": "（未登记姓名）", "en": "(no name on file)"},
    "kp_not_on_file": {"zh": "（非本系统用户）", "en": "(not a user on file)"},
    "kp_period": {"zh": "{first} 至 {last}", "en": "{first} to {last}"},
    "kp_chart_caption": {
        "zh": "考核排名：按综合得分从高到低（下表为全部指标）",
        "en": "Ranking by composite score, highest first (every figure in the table below)",
    },
}
MESSAGES.update(KPIS_MESSAGES)  # the page's own text, next to the others


@dataclass(frozen=True)
class KpiQuery:
    """The query both routes take: a period (first and last day, inclusive) and an area."""

    period_start: Annotated[date | None, Query()] = None
    period_end: Annotated[date | None, Query()] = None
    unit: Annotated[str | None, Query(max_length=32)] = None


@dataclass(frozen=True)
class KpiView:
    """What the query asks for, settled: a unit the person may see, a whole period."""

    unit: str
    period: Period


def kpi_view(ctx: Ctx, user: PageUser, query: Annotated[KpiQuery, Depends()]) -> KpiView:
    """The unit asked for when the person may see it (else their scope); the period asked
    for, from the first of this month to today by default."""
    unit = _unit(ctx, user, query.unit)
    return KpiView(unit, _period(ctx, query.period_start, query.period_end))


Asked = Annotated[KpiView, Depends(kpi_view)]


def _unit(ctx: AppContext, user: sessions.PageSession, unit: str | None) -> str:
    """The unit asked for when the person may see it, else their scope."""
    principal = require_role(user, KPI_ROLES)
    scope = scope_unit(principal, ctx.city)
    return unit if unit in ctx.city.units and ctx.city.is_within(unit, scope) else scope


def _period(ctx: AppContext, first: date | None, last: date | None) -> Period:
    today = ctx.calendars.get().local_date(ctx.clock.now())
    first = first or today.replace(day=1)
    return Period.of(first, last or max(today, first), ctx.city.timezone)


def _reports(ctx: AppContext, period: Period, unit: str) -> tuple[KpiReport, IntakeReport]:
    now = ctx.clock.now()
    with ctx.db.connect() as conn:  # the read models only
        found = kpi_report(conn, ctx.city, period, now, unit=unit)
        answered = intake_report(conn, ctx.city, period, now, unit=unit)
    return found, answered


def _pickable(ctx: AppContext, scope: str) -> list[str]:
    """The units the picker offers: the scope and every unit under it above the grids."""
    city = ctx.city
    below = (c for c in city.subtree(scope) if c != scope and city.units[c].tier != "grid")
    return [scope, *sorted(below)]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def figure(row: Any, key: str) -> str:
    value = getattr(row, key)
    if value is None:
        return "—"
    metric = BY_KEY.get(key, INTAKE_METRIC if key == INTAKE_METRIC.key else None)
    if metric is not None and metric.ratio is not None:
        return percent(value)
    return str(value)


def label(metric: Metric, lang: str) -> str:
    return metric.en if lang == "en" else metric.zh


@router.get("/kpis", response_class=HTMLResponse)
def kpis_page(request: Request, ctx: Ctx, user: PageUser, asked: Asked) -> Response:
    unit, period = asked.unit, asked.period
    found, answered = _reports(ctx, period, unit)
    lang = language(request)
    scope = scope_unit(user.principal, ctx.city)
    columns = [(key, label(BY_KEY[key], lang)) for key in SHOWN]
    intake_columns = [(INTAKE_METRIC.key, label(INTAKE_METRIC, lang))]
    intake_columns += [(c.key, c.en if lang == "en" else c.zh) for c in INTAKE_COUNTS]
    query = f"unit={unit}&period_start={period.first}&period_end={period.last}"
    view, score = View(ctx, lang), label(BY_KEY["score"], lang)
    charts = {
        # The first row is the area itself: the chart ranks the areas under it.
        "units": score_bars(
            [(view.unit(r.code), r.score) for r in found.units[1:]], score, "kp-units-chart"
        ),
        "departments": score_bars(
            [(view.dept(r.code), r.score) for r in found.departments], score, "kp-deps-chart"
        ),
    }
    return page(
        request, ctx, "supervisor/kpis.html", user, unit=unit, units=_pickable(ctx, scope),
        period=period, report=found, intake=answered, columns=columns,
        intake_columns=intake_columns, figure=figure, export=f"/kpis/export.xlsx?{query}",
        charts=charts,
    )  # fmt: skip


@router.get("/kpis/export.xlsx")
def kpis_export(ctx: Ctx, asked: Asked) -> Response:
    """The page's figures as the KPI workbook (engine.kpis.excel, with its 直办率 sheet)."""
    unit, period = asked.unit, asked.period
    found, answered = _reports(ctx, period, unit)
    name = f"kpis-{unit}-{period.first}-{period.last}.xlsx"
    return Response(
        kpi_workbook(found, answered),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
