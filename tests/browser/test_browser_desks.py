"""The desks in a real browser: a grid worker's report at 360 px (login lands on the phone
page, the GPS pin names the grid, the category found by typing its name, photos labelled
处置前), then a handler asks for an extension by choosing 2个工作日 and the dispatcher
approves it from the approvals queue, after which the decision buttons are gone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from browser_support import Person, photo, running, shot, skip_unless_browser
from playwright.sync_api import expect, sync_playwright

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
PHONE = {"width": 360, "height": 740}
WIDE = {"width": 1366, "height": 900}
IN_01010101 = {"latitude": 30.30333, "longitude": 120.1096}


def test_grid_report_extension_and_approval(tmp_path, db_url):
    skip_unless_browser()
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        worker = Person(pw, server, tmp_path, "grid", viewport=PHONE,
                        geolocation=IN_01010101, permissions=["geolocation"])  # fmt: skip
        try:
            worker.login("grid_01010101")
            assert worker.page.url.endswith("/grid")  # the work page, not a welcome
            expect(worker.page.locator("#my-grid")).to_contain_text("东坡社区第一网格")
            worker.page.get_by_role("button", name="获取当前位置").click()
            expect(worker.page.locator("#g-locstatus")).to_have_text("已定位：东坡社区第一网格")
            expect(worker.page.locator("#map-pin")).not_to_have_class(re.compile("off"))
            worker.page.fill("#g-category-search", "满溢")
            expect(worker.page.locator("#g-category option:not([hidden])")).to_have_count(1)
            worker.page.select_option("#g-category", label="垃圾满溢")
            worker.page.fill("#g-description", "垃圾桶满溢，周边有异味")
            worker.page.set_input_files("#g-photos", str(photo(tmp_path)))
            expect(worker.page.locator("#g-photos-status")).to_have_text("已选 1 张")
            shot(worker.page, "31-grid-phone")
            worker.page.get_by_role("button", name="提交").click()
            worker.page.wait_for_url(re.compile(r"/grid\?reported=\d+"))
            case_id = worker.page.url.rsplit("=", 1)[1]
        finally:
            worker.close()

        desk = Person(pw, server, tmp_path, "desk", viewport=WIDE)
        try:
            desk.login("handler_hw01")
            assert desk.page.url.endswith("/inbox")
            desk.goto(f"/cases/{case_id}")
            desk.page.get_by_role("button", name="签收").click()
            desk.page.wait_for_url(re.compile(r"done=accept"))
            box = desk.page.locator('form[action$="/act/request_extension"]')
            box.locator("summary").click()
            box.get_by_label("延长时长").select_option(label="2个工作日")
            box.get_by_label("原因").fill("需采购配件")
            box.get_by_role("button", name="申请延期").click()
            expect(desk.page.locator("#pending-extension")).to_have_text("2个工作日")
            desk.logout()

            desk.login("dispatcher")
            desk.goto("/approvals")
            item = desk.page.locator(f'article[data-case="{case_id}"]')
            expect(item).to_contain_text("延期申请 · 2个工作日")
            expect(item).to_contain_text("谢环卫")
            shot(desk.page, "32-approvals")
            item.get_by_role("button", name="批准延期").click()
            desk.page.wait_for_url(re.compile(r"/approvals\?unit=00&done=approve_extension"))
            expect(desk.page.locator(f'article[data-case="{case_id}"]')).to_have_count(0)
            desk.goto(f"/cases/{case_id}")
            expect(desk.page.locator('form[action$="/act/approve_extension"]')).to_have_count(0)
            expect(desk.page.locator('tr[data-stage="handle"]')).to_contain_text("+ 2个工作日")
        finally:
            desk.close()
