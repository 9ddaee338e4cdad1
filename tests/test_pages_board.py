"""The supervisor's board: light counts, the supervision queue, the live stream, the SVG
chart and map, the Excel export, and the supervisor's scope."""

from __future__ import annotations

import io
import re

import pytest
from dispatch_support import activate
from openpyxl import load_workbook
from page_support import file_hotline, login

from engine.users.models import Principal, Role


@pytest.fixture
async def pages(make_ctx, make_api):
    ctx = make_ctx()
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


async def test_counts_turn_red_and_the_queue_shows_overdue_time(pages, clock):
    case_id = file_hotline(pages.ctx)
    file_hotline(pages.ctx, "西岭区的垃圾", grid_code="02010101")
    await login(pages, "supervisor")
    board = (await pages.client.get("/board")).text
    assert 'data-light="green">2<' in board and "东湖区" in board and "西岭区" in board
    clock.advance(minutes=90)
    pages.ctx.sweeper.sweep(clock.now())  # the server's sweep escalates the late case
    board = (await pages.client.get("/board")).text
    assert 'data-light="red">2<' in board
    row = board.split(f'<tr data-case="{case_id}"')[1].split("</tr>")[0]
    assert "黄牌督办" in row and "0 小时 30 分" in row


async def test_stream_sends_the_live_part(pages):
    file_hotline(pages.ctx)
    await login(pages, "supervisor")
    stream = await pages.client.get("/board/stream", params={"once": "1"})
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.text.startswith("event: board\ndata: ") and stream.text.endswith("\n\n")
    assert 'data-light="green">1<' in stream.text


async def test_chart_map_and_excel(pages):
    case_id = file_hotline(pages.ctx)
    pages.ctx.cases.act(Principal("d", Role.dispatcher, "00"), case_id, "note", {"note": "x"})
    await login(pages, "supervisor")
    chart = await pages.client.get("/board/chart.svg")
    assert chart.headers["content-type"] == "image/svg+xml"
    assert 'data-series="opened" data-day="2026-03-02" data-value="1"' in chart.text
    grid_map = (await pages.client.get("/board/map.svg")).text
    assert 'data-grid="01010101" data-open="1"' in grid_map and "<script" not in grid_map
    xlsx = await pages.client.get("/board/export.xlsx")
    assert "attachment" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames[:2] == ["按部门", "按下级区域"]
    rows = list(book["按部门"].values)
    assert rows[1][:2] == ("HW-01", "东湖区环境卫生管理处") and rows[1][2] == 1


async def test_a_street_supervisor_sees_their_street(pages):
    file_hotline(pages.ctx)
    file_hotline(pages.ctx, "清波街道的垃圾", grid_code="01020101")
    await login(pages, "supervisor", "0101")
    board = (await pages.client.get("/board", params={"unit": "00"})).text
    assert "督办大屏 · 湖滨街道" in board and 'data-light="green">1<' in board
    grid_map = (await pages.client.get("/board/map.svg")).text
    assert 'data-grid="01010101"' in grid_map and 'data-grid="01020101"' not in grid_map
    await login(pages, "handler", "HW-01")
    assert (await pages.client.get("/board")).status_code == 403


async def test_big_screen_page_loads_the_vendored_echarts_and_no_cdn(pages):
    await login(pages, "supervisor")
    board = (await pages.client.get("/board")).text
    assert '<script src="/static/vendor/echarts/echarts.min.js" defer></script>' in board
    assert '<script src="/static/board.js" defer></script>' in board
    assert 'id="bs-map"' in board and "考核排名" in board and "kpi_missing" not in board
    assert "考核指标（KPI）模块尚未提供" not in board
    assert not re.search(r"(src|href)=\"(https?:)?//", board)  # nothing from outside the app
    script = await pages.client.get("/static/vendor/echarts/echarts.min.js")
    assert script.status_code == 200 and "echarts" in script.text[:2000]
    assert (await pages.client.get("/static/vendor/echarts/LICENSE")).status_code == 200
    english = (await pages.client.get("/board", params={"lang": "en"})).text
    assert (
        "KPI ranking · departments" in english and "&#34;bs_score&#34;: &#34;Score&#34;" in english
    )


async def test_big_screen_json_counts_points_and_kpi_ranking(pages, clock):
    late = file_hotline(pages.ctx, lat=30.305, lng=120.101)
    file_hotline(pages.ctx, "西岭区的垃圾", grid_code="02010101")
    await login(pages, "supervisor")
    grids = (await pages.client.get("/board/grids.json")).json()
    codes = {f["properties"]["code"] for f in grids["features"]}
    assert {"01010101", "02010101"} <= codes
    first = next(f for f in grids["features"] if f["properties"]["code"] == "01010101")
    assert first["properties"]["name"] == "东坡社区第一网格" and first["geometry"]["coordinates"]
    data = (await pages.client.get("/board/data.json")).json()
    assert data["open_per_grid"] == {"01010101": 1, "02010101": 1}
    assert data["totals"]["green"] == 2 and data["points"] == []  # nothing yellow or red yet
    assert len(data["days"]) == len(data["opened"]) == 30 and data["opened"][-1] == 2
    clock.advance(minutes=90)
    pages.ctx.sweeper.sweep(clock.now())
    data = (await pages.client.get("/board/data.json")).json()
    assert data["totals"]["red"] == 2
    both = {"yellow": 0, "red": 1}
    assert data["lights_per_grid"] == {"01010101": both, "02010101": both}
    assert [(p["id"], p["light"]) for p in data["points"]] == [(late, "red")]  # the located one
    assert data["escalations"][0]["card"] in ("yellow", "red")
    kpis = (await pages.client.get("/board/kpis.json", params={"period": "7"})).json()
    assert kpis["period"] == "7" and kpis["first"] == "2026-02-24"
    assert set(kpis["total"]) >= {"score", "on_time_resolve_rate", "overdue_cases"}
    for ranking in (kpis["departments"], kpis["units"]):
        scores = [r["score"] for r in ranking]
        assert scores == sorted(scores, reverse=True) and all(r["name"] for r in ranking)
    bad = await pages.client.get("/board/kpis.json", params={"period": "year"})
    assert bad.status_code == 422


async def test_a_district_supervisor_gets_their_districts_grids_only(pages):
    file_hotline(pages.ctx)
    file_hotline(pages.ctx, "西岭区的垃圾", grid_code="02010101")
    await login(pages, "supervisor", "01")
    grids = (await pages.client.get("/board/grids.json", params={"unit": "00"})).json()
    codes = {f["properties"]["code"] for f in grids["features"]}
    assert codes and all(code.startswith("01") for code in codes)
    data = (await pages.client.get("/board/data.json", params={"unit": "02"})).json()
    assert data["unit"] == "01" and data["open_per_grid"] == {"01010101": 1}
    kpis = (await pages.client.get("/board/kpis.json")).json()
    assert all(r["code"].startswith("01") for r in kpis["units"])
    await login(pages, "handler", "HW-01")
    for path in ("/board/grids.json", "/board/data.json", "/board/kpis.json"):
        assert (await pages.client.get(path)).status_code == 403


def test_the_same_board_at_the_same_moment_makes_the_same_workbook():
    """The workbook's document properties carry the injected clock's time, not the wall
    clock's, so two exports of the same figures are the same file (a HEAD's length is the
    GET's)."""
    from datetime import UTC, datetime

    from openpyxl import Workbook, load_workbook

    from engine.kpis.excel import workbook_bytes

    at = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)

    def made() -> bytes:
        book = Workbook()
        book.active.append(["示范市", 1])
        return workbook_bytes(book, at)

    first, second = made(), made()
    assert len(first) == len(second)
    props = load_workbook(io.BytesIO(first)).properties
    assert props.created == props.modified == datetime(2026, 3, 2, 2, 30)
