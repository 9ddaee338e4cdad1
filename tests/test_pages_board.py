"""The supervisor's board: light counts, the supervision queue, the live stream, the SVG
chart and map, the Excel export, and the supervisor's scope."""

from __future__ import annotations

import io

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
