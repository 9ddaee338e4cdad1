"""The pages added for the dispatcher and the admin, walked in a real browser with axe-core:
a district dispatcher (at 1366 and 360 px) narrows the manual queue by a category and by the
suggested department, both picked by name, sees the requests waiting for them counted in the
navigation, opens the approvals from there and refuses a return; an admin pastes a candidate
rule table, runs the backtest and follows a moved case to its page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from browser_support import DEMO_CITY, Person, check_axe, running, shot, skip_unless_browser
from playwright.sync_api import expect, sync_playwright

from engine.cases.models import Case, CaseCreate
from engine.clock import VirtualClock
from engine.db import new_session
from engine.settings import Settings
from engine.users.models import Principal, Role
from web.context import build_context

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
SCREENS = [{"width": 1366, "height": 900}, {"width": 360, "height": 740}]
OPERATOR = Principal("operator", Role.operator, "00")
DEMO_RULES = (DEMO_CITY / "rules.toml").read_text(encoding="utf-8")


def prepare(db_url: str, tmp_path) -> dict[str, int]:
    """Two queued cases (noise at street 0101, loose tiles at district 01 with ZJ-00
    suggested), an extension request in district 01 and two closed cases for the backtest."""
    settings = Settings(
        database_url=db_url, city_dir=DEMO_CITY, secret_key="browser-test-secret",
        models_dir=tmp_path / "models", instance_dir=tmp_path / "instance-prepare",
    )  # fmt: skip
    ctx = build_context(settings, VirtualClock(START))

    def filed(category: str, description: str, grid: str = "01010101") -> int:
        data = CaseCreate(description=description, channel="hotline", category=category,
                          grid_code=grid)  # fmt: skip
        case_id = ctx.cases.intake(OPERATOR, data).case.id
        assert case_id is not None
        return case_id

    try:
        ids = {"noise": filed("12001", "楼上广场舞噪声扰民"),
               "tiles": filed("11009", "外墙瓷砖松动有掉落危险")}  # fmt: skip
        asks = filed("06002", "路灯不亮需要更换配件")
        handler = Principal("handler", Role.handler, "HW-01")
        ctx.cases.act(handler, asks, "accept", {})
        ctx.cases.act(handler, asks, "request_extension", {"duration": "3wd", "reason": "采购"})
        ids["returned"] = filed("06002", "不属于环卫职责的事")  # back to district 01's queue
        ctx.cases.act(handler, ids["returned"], "return", {"reason": "不属于本单位职责"})
        dispatcher = Principal("dispatcher", Role.dispatcher, "00")
        for key, grid in (("east", "01010101"), ("west", "02010101")):  # HW-01, HWGS-02
            ids[key] = filed("06002", "垃圾堆积", grid)
            with new_session(ctx.db) as session:
                lead = session.get(Case, ids[key]).lead_department
            worker = Principal("handler", Role.handler, lead)
            ctx.cases.act(worker, ids[key], "accept", {})
            ctx.cases.act(worker, ids[key], "resolve", {"result": "已清理"})
            ctx.cases.act(dispatcher, ids[key], "close", {"reason": "已核实"})
    finally:
        ctx.db.dispose()
    return ids


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s['width']}")
def test_a_dispatcher_filters_the_queue_by_name_and_sees_what_waits(tmp_path, db_url, screen):
    skip_unless_browser()
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        ids = prepare(db_url, tmp_path)
        server.set_time(START + timedelta(minutes=20))
        desk = Person(pw, server, tmp_path, "dispatcher", viewport=screen)
        try:
            page = desk.page
            desk.login("dispatcher_01")
            assert page.url.endswith("/dispatch")  # the dispatcher's work page
            for key in ("noise", "tiles"):
                expect(page.locator(f'article[data-case="{ids[key]}"]')).to_be_visible()
            count = page.locator('nav [data-count="approvals"]')
            expect(count).to_contain_text("1")
            expect(count).to_contain_text("待审批：延期申请 1 件")  # read out, not just a 1
            check_axe(page)
            page.select_option("#q-category", label="噪声扰民")  # by name, not 12001
            page.get_by_role("button", name="筛选").click()
            page.wait_for_url(re.compile(r"category=12001"))
            expect(page.locator(f'article[data-case="{ids["noise"]}"]')).to_be_visible()
            expect(page.locator(f'article[data-case="{ids["tiles"]}"]')).to_have_count(0)
            page.select_option("#q-category", value="")
            page.select_option("#q-suggested", label="市住房和城乡建设局")
            page.get_by_role("button", name="筛选").click()
            page.wait_for_url(re.compile(r"suggested=ZJ-00"))
            expect(page.locator(f'article[data-case="{ids["tiles"]}"]')).to_be_visible()
            expect(page.locator(f'article[data-case="{ids["noise"]}"]')).to_have_count(0)
            check_axe(page)
            shot(page, f"60-queue-filtered-{screen['width']}")
            page.locator('nav a[href="/approvals"]').click()
            page.wait_for_url("**/approvals")
            expect(page.locator('article[data-kind="extension"]')).to_have_count(1)
            returned = page.locator(f'article[data-kind="return"][data-case="{ids["returned"]}"]')
            expect(returned).to_contain_text("不属于本单位职责")
            check_axe(page)
            returned.locator('input[name="reason"]').fill("属于贵单位职责，请继续办理")
            returned.get_by_role("button", name="驳回退单").click()
            page.wait_for_url(re.compile(r"/approvals"))
            expect(page.locator('article[data-kind="return"]')).to_have_count(0)
        finally:
            desk.close()


def test_an_admin_backtests_a_candidate_rule_table_in_the_page(tmp_path, db_url):
    skip_unless_browser()
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        ids = prepare(db_url, tmp_path)
        server.set_time(START + timedelta(minutes=20))
        admin = Person(pw, server, tmp_path, "admin", viewport={"width": 1366, "height": 900})
        try:
            page = admin.page
            admin.login("admin")
            admin.goto("/admin/rules")
            candidate = DEMO_RULES.replace('department = "HWGS-02"', 'department = "HW-02"')
            page.fill("#r-text", candidate)
            page.get_by_role("button", name="回测").click()
            result = page.locator("#backtest-result")
            expect(result).to_contain_text("1 件去向不变，1 件会派往别处")
            expect(result).to_contain_text("最近 30 天")
            expect(result.locator('tr[data-move="HWGS-02 HW-02"]')).to_have_count(1)
            check_axe(page)
            shot(page, "61-admin-backtest")
            result.locator(f'a[href="/cases/{ids["west"]}"]').click()
            page.wait_for_url(re.compile(rf"/cases/{ids['west']}$"))
            page.go_back()
            page.fill("#r-text", '[[rule]]\nid = "a"\ndepartment = "ZZ-99"\n')
            page.get_by_role("button", name="回测").click()
            expect(page.locator("ul.problems")).to_contain_text("部门编码 ZZ-99 本市没有")
            expect(page.locator("#backtest-result")).to_have_count(0)
            check_axe(page)
        finally:
            admin.close()
