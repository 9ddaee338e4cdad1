"""The KPI report as an Excel workbook (openpyxl): departments, units, definitions."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter  # save() without its wall-clock stamp

from engine.kpis.aggregate import KpiRow
from engine.kpis.compute import KpiReport
from engine.kpis.definitions import COUNTS, INTAKE_COUNTS, INTAKE_METRIC, METRICS, RATE_KEYS
from engine.kpis.intake import IntakeReport, IntakeRow

# (field, header) in sheet order: who, the headline figures (definitions.METRICS, the
# score first), then the counts behind them (definitions.COUNTS).
COLUMNS = (
    ("code", "代码"),
    ("name", "名称"),
    *((m.key, m.zh) for m in sorted(METRICS, key=lambda m: m.key != "score")),
    *((c.key, c.zh) for c in COUNTS),
)


# The 直办率 sheet's columns: who, the rate, the counts behind it.
INTAKE_COLUMNS = (
    ("code", "代码"),
    ("name", "名称"),
    (INTAKE_METRIC.key, INTAKE_METRIC.zh),
    *((c.key, c.zh) for c in INTAKE_COUNTS),
)


def kpi_workbook(report: KpiReport, intake: IntakeReport | None = None) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "部门考核"
    _rows(first, report.departments)
    _rows(book.create_sheet("区域考核"), [*report.units])
    if intake is not None:
        _intake_sheet(book.create_sheet(INTAKE_METRIC.zh), intake)
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
    for metric in (*METRICS, INTAKE_METRIC):
        about.append([metric.zh, metric.en, metric.definition])
    about.column_dimensions["A"].width = 26
    about.column_dimensions["C"].width = 120
    return workbook_bytes(book, report.computed_at)


def workbook_bytes(book: Workbook, at: datetime) -> bytes:
    """The .xlsx file, its document properties stamped ``at`` (the injected clock's time)
    instead of the wall clock that ``Workbook.save`` writes, so the same figures at the same
    moment make the same file (a HEAD answers with the GET's length)."""
    stamp = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
    book.properties.created = book.properties.modified = stamp
    out = BytesIO()
    ExcelWriter(book, ZipFile(out, "w", ZIP_DEFLATED, allowZip64=True)).save()  # closes it
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


def _intake_sheet(sheet: Worksheet, intake: IntakeReport) -> None:
    """直办率: the total, then a table per operator (代码: their user id, 名称: their display
    name) and a table per category, one blank row apart."""
    parts: tuple[tuple[str, list[IntakeRow]], ...] = (
        ("合计", [intake.total]),
        ("按话务员", intake.operators),
        ("按事项分类", intake.categories),
    )
    for title, rows in parts:
        sheet.append([title])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        sheet.append([header for _, header in INTAKE_COLUMNS])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([getattr(row, key) for key, _ in INTAKE_COLUMNS])
            sheet.cell(sheet.max_row, 3).number_format = "0.0%"
        sheet.append([])
    sheet.column_dimensions["B"].width = 28
