"""The board as an Excel workbook (openpyxl): lights by department and by area, the
supervision queue and the daily numbers, one sheet each."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font

from engine.kpis.excel import workbook_bytes
from web.pages.board_data import Board, DaySeries
from web.pages.views import View


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list[object]]) -> None:
    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column, name in zip(sheet.columns, header, strict=False):
        width = max([len(str(name)) * 2, *(len(str(c.value or "")) for c in column)])
        sheet.column_dimensions[column[0].column_letter].width = min(width + 2, 60)


def board_workbook(board: Board, series: DaySeries, v: View) -> bytes:
    t = v.t
    lights = [t("light_green"), t("light_yellow"), t("light_red"), t("sum")]
    book = Workbook()
    book.remove(book.active)
    _sheet(
        book,
        t("by_department"),
        [t("code"), t("lead_department"), *lights],
        [
            [code or "—", v.dept(code) if code else t("no_department")]
            + [n[k] for k in ("green", "yellow", "red", "total")]
            for code, n in board.by_department
        ],
    )
    _sheet(
        book,
        t("by_unit"),
        [t("code"), t("area"), *lights],
        [
            [code, v.unit(code)] + [n[k] for k in ("green", "yellow", "red", "total")]
            for code, n in board.by_unit
        ],
    )
    _sheet(
        book,
        t("supervision_queue"),
        ["#", t("state"), t("category"), t("description"), t("area"), t("lead_department"),
         t("supervision"), t("f_card"), t("due"), t("overdue_for")],
        [
            [i.case_id, v.state(i.state), v.category(i.category), i.description,
             v.unit(i.owning_unit), v.dept(i.lead_department), v.unit(i.supervision_unit),
             t("c_" + i.card) if i.card else "", v.local(i.due_at), v.overdue(i.overdue_seconds)]
            for i in board.queue.items
        ],
    )  # fmt: skip
    _sheet(
        book,
        t("chart_title"),
        [t("day"), t("opened"), t("closed"), t("overdue")],
        [
            [d.isoformat(), o, c, x]
            for d, o, c, x in zip(
                series.days, series.opened, series.closed, series.overdue, strict=True
            )
        ],
    )
    return workbook_bytes(book, board.now)
