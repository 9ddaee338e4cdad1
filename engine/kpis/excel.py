"""The KPI report as an Excel workbook (openpyxl): departments, units, definitions."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from engine.kpis.aggregate import KpiRow
from engine.kpis.compute import KpiReport
from engine.kpis.definitions import METRICS, RATE_KEYS

# (field, header) in sheet order: who, the headline figures, then the counts behind them.
COLUMNS = (
    ("code", "代码"),
    ("name", "名称"),
    ("score", "综合得分"),
    ("on_time_accept_rate", "及时签收率"),
    ("on_time_resolve_rate", "按期办结率"),
    ("resolution_rate", "解决率"),
    ("satisfaction_rate", "满意率"),
    ("rework_rate", "返工率"),
    ("return_rate", "退单率"),
    ("redispatch_rate", "改派率"),
    ("overdue_cases", "超期件数"),
    ("avg_handle_hours", "平均处置时长(工作小时)"),
    ("assigned", "派单数"),
    ("returns", "退单数"),
    ("redispatched", "改派数"),
    ("resolves", "办结反馈数"),
    ("reworks", "返工数"),
    ("accept_due", "应签收"),
    ("accepted_on_time", "及时签收"),
    ("handle_due", "应办结"),
    ("resolved_on_time", "按期办结"),
    ("verifies", "核查数"),
    ("verifies_passed", "核查通过"),
    ("callbacks", "回访数"),
    ("satisfied", "满意"),
    ("basic", "基本满意"),
    ("unsatisfied", "不满意"),
    ("unsatisfied_other", "不满意(非承办原因)"),
    ("answered", "回访答复解决情况"),
    ("solved", "已解决"),
)


def kpi_workbook(report: KpiReport) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "部门考核"
    _rows(first, report.departments)
    _rows(book.create_sheet("区域考核"), [*report.units])
    about = book.create_sheet("说明")
    about.append(["考核期", f"{report.period_start} 至 {report.period_end}（{report.timezone}）"])
    about.append(["区域", report.unit])
    about.append(["部门", report.department or "全部"])
    about.append(["计算时间(UTC)", report.computed_at.isoformat()])
    weights = report.weights
    about.append(
        ["权重 响应/解决/满意", *(weights[k] for k in ("response", "resolution", "satisfaction"))]
    )
    about.append([])
    about.append(["指标", "Metric", "定义 Definition"])
    for metric in METRICS:
        about.append([metric.zh, metric.en, metric.definition])
    about.column_dimensions["A"].width = 26
    about.column_dimensions["C"].width = 120
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _rows(sheet: Worksheet, rows: list[KpiRow]) -> None:
    sheet.append([header for _, header in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([getattr(row, key) for key, _ in COLUMNS])
    for index, (key, _) in enumerate(COLUMNS, 1):
        if key in RATE_KEYS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0.0%"
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["B"].width = 28
