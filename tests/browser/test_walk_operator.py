"""Issue 21's operator (12345 话务员) walk at 360, 1366 and 1920 px: the login lands on the
intake page; the one search box finds a case by the caller's phone, the ticket number, the
case number and words; the caller's phone on the intake form shows their earlier cases, the
open ones first; a repeat call about an open case is recorded on it as a 催办 with one
click; a new case is filed. Every page visited passes check_desk (labels, zh-CN words,
axe-core)."""

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

GRIDS = {360: "01010101", 1366: "01010102", 1920: "01020101"}  # one per walk: no clutter


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return walk_server(tmp_path_factory)


def caller_cases(server, width: int) -> dict[str, object]:
    """One caller's two cases in the walk's grid: an older open one (with a 12345 ticket)
    and a newer closed one."""
    phone, ticket, grid = f"1390000{width:04d}", f"GD{width}X7", GRIDS[width]
    with city_context(server, f"operator-{width}") as ctx:
        operator = Principal("operator", Role.operator, "00")

        def filed(description: str, **fields):
            data = CaseCreate(description=description, channel="hotline", category="06002",
                              grid_code=grid, reporter_phone=phone, **fields)  # fmt: skip
            return ctx.cases.intake(operator, data).case

        opened = filed(f"东坡路{width}号井盖缺失，夜里很危险", external_id=ticket).id
        case = filed(f"东坡路{width}号垃圾堆积三天")
        closed = case.id
        handler = Principal("handler", Role.handler, case.lead_department)
        ctx.cases.act(handler, closed, "accept", {})
        ctx.cases.act(handler, closed, "resolve", {"result": "已清理"})
        ctx.cases.act(Principal("dispatcher", Role.dispatcher, "00"), closed, "close",
                      {"reason": "已核实"})  # fmt: skip
    return {"phone": phone, "ticket": ticket, "grid": grid, "open": opened, "closed": closed}


def search(page, words: str) -> None:
    page.get_by_label("关键词").fill(words)
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("screen", WALK_SCREENS, ids=screen_name)
def test_operator_finds_a_caller_records_an_urge_and_files_a_case(server, screen):
    width = screen["width"]
    known = caller_cases(server, width)
    opened, closed = known["open"], known["closed"]
    with at_desk(server, "operator", screen, "operator", "/intake") as desk:
        page = desk.page
        check_desk(page)

        # One search box: a phone, a ticket number, words, a case number.
        page.get_by_role("link", name="案件查询").click()
        search(page, known["phone"])
        found = page.locator("table.cases")
        expect(found.locator(f'a[href="/cases/{opened}"]')).to_be_visible()
        expect(found.locator(f'a[href="/cases/{closed}"]')).to_be_visible()
        check_desk(page)
        search(page, known["ticket"])
        expect(found.locator(f'a[href="/cases/{opened}"]')).to_be_visible()
        expect(found.locator(f'a[href="/cases/{closed}"]')).to_have_count(0)
        search(page, f"东坡路{width}号井盖")
        expect(found.locator(f'a[href="/cases/{opened}"]')).to_be_visible()
        search(page, f"#{opened}")
        page.wait_for_url(re.compile(rf"/cases/{opened}$"))

        # The caller calls again: their earlier cases, open first, and a 催办 in one click.
        page.get_by_role("link", name="受理登记").click()
        page.get_by_label("联系电话").press_sequentially(known["phone"])
        history = page.locator("#caller-history li")
        expect(history).to_have_count(2)  # shown as the number is typed, nothing sent
        page.get_by_role("button", name="查来电历史").click()  # the same, without script
        expect(history).to_have_count(2)
        expect(page.get_by_label("联系电话")).to_have_value(known["phone"])
        page.get_by_label("诉求内容").fill("井盖还没有修好，来电催促")
        page.get_by_label("所在网格").fill(known["grid"])
        page.get_by_role("button", name="查重并保存").click()
        expect(history).to_have_count(2)
        expect(history.first).to_have_attribute("data-case", str(opened))  # open first
        expect(history.last).to_have_attribute("data-case", str(closed))
        expect(history.last.get_by_role("button")).to_have_count(0)  # closed: no 催办
        check_desk(page)
        # The caller adds a word: the 催办 carries what is in the box when it is pressed.
        page.get_by_label("诉求内容").fill("井盖还没有修好，晚上有人绊倒")
        history.first.get_by_role("button", name=f"记为催办 #{opened}").click()
        page.wait_for_url(re.compile(rf"/cases/{opened}"))
        expect(page.locator(".timeline")).to_contain_text("催办")
        expect(page.locator(".timeline")).to_contain_text("井盖还没有修好，晚上有人绊倒")
        check_desk(page)

        # A new call about something else is filed as a new case.
        page.get_by_role("link", name="受理登记").click()
        page.get_by_label("诉求内容").fill(f"东坡路{width}号路灯不亮，晚上出行不便")
        page.get_by_label("事项分类").fill("06002")
        page.get_by_label("所在网格").fill(known["grid"])
        page.get_by_label("联系电话").fill(f"1370000{width:04d}")
        page.get_by_role("button", name="查重并保存").click()
        if "/intake" in page.url:  # likely duplicates shown first: not one, save anyway
            page.get_by_role("button", name="不是重复，保存为新案件").click()
        page.wait_for_url(re.compile(r"/cases/\d+\?done=register"))
        new_case = int(re.search(r"/cases/(\d+)", page.url)[1])
        assert new_case not in (opened, closed)
        check_desk(page)
        assert desk.foreign_requests() == []
