"""Issue 21's supervisor (督办人员) walk at 360, 1366 and 1920 px: the login lands on the big
screen, whose counters and KPI figures fill in from the server and whose KPI ranking names
the areas; at 1920×1080 the counters, charts and rankings are all on the first screen; the
area picker drills down to a district's screen. Then the KPI page: a period and an area
picked, and its Excel link downloads a workbook. (The map's drawing is another module's:
not asserted here.) Every page visited passes check_desk (labels, zh-CN words, axe-core)."""

from __future__ import annotations

import re

import pytest
from browser_support import (
    WALK_SCREENS,
    at_desk,
    check_desk,
    city_context,
    screen_name,
    walk_server,
)
from playwright.sync_api import expect

from engine.cases.models import CaseCreate
from engine.users.models import Principal, Role

FIRST_SCREEN = (
    '[data-total="red"]',
    '[data-kpi="score"]',
    "#bs-trend",
    "#bs-rank-dep",
    "#bs-rank-unit",
    "#bs-latest-h",
)
UNIT_RANKING = """() => fetch('/board/kpis.json?unit=00&period=month').then(r => r.json())"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return walk_server(tmp_path_factory)


def open_and_closed(server, width: int) -> None:
    """One case open and one closed on time in district 01: lights, and a ranking."""
    with city_context(server, f"supervisor-{width}") as ctx:
        for words in ("路口垃圾堆积", "路边垃圾桶满溢"):
            data = CaseCreate(description=f"{width}号{words}", channel="hotline",
                              category="06002", grid_code="01010101")  # fmt: skip
            case = ctx.cases.intake(Principal("operator", Role.operator, "00"), data).case
        handler = Principal("handler_hw01", Role.handler, case.lead_department)
        ctx.cases.act(handler, case.id, "accept", {})
        ctx.cases.act(handler, case.id, "resolve", {"result": "已清理"})
        ctx.cases.act(Principal("dispatcher", Role.dispatcher, "00"), case.id, "close",
                      {"reason": "已核实"})  # fmt: skip


@pytest.mark.parametrize("screen", WALK_SCREENS, ids=screen_name)
def test_supervisor_big_screen_drill_down_and_kpis(server, screen):
    width, height = screen["width"], screen["height"]
    open_and_closed(server, width)
    with at_desk(server, "supervisor", screen, "supervisor", "/board") as board:
        page = board.page
        for light in ("green", "yellow", "red"):
            expect(page.locator(f'[data-total="{light}"]')).to_have_text(re.compile(r"^\d+$"))
        expect(page.locator('[data-kpi="overdue_cases"]')).to_have_text(re.compile(r"^\d+$"))
        lit = sum(int(page.locator(f'[data-total="{n}"]').inner_text()) for n in
                  ("green", "yellow", "red"))  # fmt: skip
        assert lit >= 1
        ranking = page.evaluate(UNIT_RANKING)
        assert "东湖区" in str(ranking), ranking  # the areas' ranking names them
        expect(page.locator("#bs-rank-unit canvas").first).to_be_visible()
        if width == 1920:  # one screen: every figure without scrolling (the live tables
            for panel in FIRST_SCREEN:  # are below it, docs/PAGES.md)
                box = page.locator(panel).first.bounding_box()
                assert box and box["y"] + box["height"] <= height, panel
        check_desk(page)

        # Drill down: the district's own screen.
        page.get_by_role("combobox", name="按下级区域").select_option(label="东湖区")
        page.get_by_role("button", name="打开").click()
        page.wait_for_url(re.compile(r"/board\?unit=01$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("东湖区")
        expect(page.locator('[data-total="green"]')).to_have_text(re.compile(r"^\d+$"))
        check_desk(page)

        # The KPI page: a period and an area, and the same figures as a workbook.
        page.get_by_role("link", name="考核指标").click()
        page.wait_for_url(re.compile(r"/kpis"))
        page.get_by_label("开始日期").fill("2026-03-01")
        page.get_by_label("结束日期").fill("2026-03-02")
        page.get_by_role("combobox", name="区域", exact=True).select_option(label="东湖区")
        page.get_by_role("button", name="查看").click()
        page.wait_for_url(re.compile(r"unit=01"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("东湖区")
        check_desk(page)
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("下载 Excel")).click()
        saved = download.value.path()
        assert saved and saved.read_bytes()[:2] == b"PK"  # an .xlsx is a zip
        assert download.value.suggested_filename.endswith(".xlsx")
        assert board.foreign_requests() == []
