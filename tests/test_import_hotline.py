"""`gridflow import hotline FILE`: CSV and XLSX with Chinese headers, a per-row error report
naming row and field, and re-runs that file nothing twice."""

from __future__ import annotations

import csv

import pytest
from openpyxl import Workbook
from sqlmodel import col, select

from engine.cases.models import Case
from engine.db import new_session
from engine.settings import get_settings
from web.cli import main

HEADER = [
    "工单编号",
    "来电人",
    "来电号码",
    "诉求内容",
    "地址",
    "诉求类型",
    "紧急程度",
    "事项分类",
    "网格",
]
ROWS = [
    ["GD2026030200011", "王芳", "13512340001", "小区北门路灯连续一周不亮，晚上出行不便",
     "东坡社区北门", "求助", "一般", "01003", "01010101"],
    ["GD2026030200012", "刘强", "13512340002", "楼下烧烤店油烟直排，窗户都不敢开", "柳岸街12号",
     "投诉", "一般", "10001", "01010201"],
    ["GD2026030200013", "", "", "菜场门口占道经营严重，早高峰堵车", "", "举报", "", "09002", ""],
    ["GD2026030200014", "赵六", "13512340004", "", "", "咨询", "", "12005", ""],
    ["GD2026030200015", "孙七", "13512340005", "路面塌陷约一米见方", "清波路", "抱怨", "紧急",
     "11001", ""],
    ["GD2026030200016", "周八", "13512340006", "井盖缺失", "清波路3号", "举报", "紧急", "88888",
     ""],
]  # fmt: skip


@pytest.fixture
def cli_db(ctx, monkeypatch):
    monkeypatch.setenv("GRIDFLOW_DATABASE_URL", ctx.settings.database_url)
    get_settings.cache_clear()
    yield ctx
    get_settings.cache_clear()


def write_csv(path, rows) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)


def tickets(ctx) -> list[str]:
    with new_session(ctx.db) as session:
        query = select(Case.external_id).where(Case.channel == "hotline").order_by(col(Case.id))
        return list(session.exec(query))


def test_csv_import_reports_bad_rows_and_reruns_cleanly(cli_db, tmp_path, capsys):
    source, report = tmp_path / "12345_0302.csv", tmp_path / "errors.csv"
    write_csv(source, ROWS)
    code = main(["import", "hotline", str(source), "--errors", str(report), "--quiet"])
    assert code == 1  # some rows were refused
    out = capsys.readouterr().out
    assert "6 rows: 3 new cases, 0 already imported, 3 errors" in out
    assert "row 5 (GD2026030200014): content" in out
    with report.open(encoding="utf-8-sig") as fh:
        errors = [(r["row"], r["ticket_no"], r["field"]) for r in csv.DictReader(fh)]
    assert errors == [
        ("5", "GD2026030200014", "content"),
        ("6", "GD2026030200015", "request_type"),
        ("7", "GD2026030200016", "category"),
    ]
    assert tickets(cli_db) == ["GD2026030200011", "GD2026030200012", "GD2026030200013"]

    # The operator fixes the file and runs it again: only the fixed rows are new.
    fixed = [row[:] for row in ROWS]
    fixed[3][3], fixed[4][5], fixed[5][7] = "咨询老年人优待证办理流程", "举报", "11005"
    write_csv(source, fixed)
    assert main(["import", "hotline", str(source), "--quiet"]) == 0
    assert "6 rows: 3 new cases, 3 already imported, 0 errors" in capsys.readouterr().out
    assert len(tickets(cli_db)) == 6
    assert main(["import", "hotline", str(source), "--quiet"]) == 0
    assert len(tickets(cli_db)) == 6

    with new_session(cli_db.db) as session:
        case = session.exec(select(Case).where(Case.external_id == "GD2026030200015")).one()
    assert case.request_type == "report" and case.urgency == "urgent"
    assert case.state == "registered" and case.category == "11001"


def test_xlsx_import(cli_db, tmp_path, capsys):
    book = Workbook()
    sheet = book.active
    sheet.append(["ticket_no", "content", "request_type", "category", "lat", "lng"])
    sheet.append(["X-1", "东坡路积水严重，车辆无法通行", "求助", "11004", 30.30333, 120.1096])
    sheet.append([None, None, None, None, None, None])  # blank rows are skipped
    sheet.append(["X-2", "噪声扰民，深夜施工", "投诉", "12001", 30.3, None])
    path = tmp_path / "tickets.xlsx"
    book.save(path)
    assert main(["import", "hotline", str(path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "2 rows: 1 new cases, 0 already imported, 1 errors" in out
    assert "row 4 (X-2): lng" in out  # spreadsheet row numbers, header is row 1
    assert (tmp_path / "tickets.errors.csv").exists()
    assert tickets(cli_db) == ["X-1"]


def test_gb18030_csv_from_excel(cli_db, tmp_path, capsys):
    path = tmp_path / "excel.csv"
    lines = [",".join(HEADER), ",".join(ROWS[0])]
    path.write_bytes("\r\n".join(lines).encode("gb18030"))
    assert main(["import", "hotline", str(path), "--quiet"]) == 0
    assert tickets(cli_db) == ["GD2026030200011"]


def test_missing_file_or_header(cli_db, tmp_path, capsys):
    assert main(["import", "hotline", str(tmp_path / "nope.csv")]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["import", "hotline", str(bad), "--quiet"]) == 2
    assert "工单编号" in capsys.readouterr().err
