"""作废申请 in a real browser: the handling department asks to void a case with one of the
usual reasons, the case shows the request, the dispatcher approves it inline on /approvals
(the item and its buttons are gone, the case is voided); the admin's rule file input says
its words in Chinese. Each page passes the desk checks (labels, no raw words, axe-core)."""

from __future__ import annotations

import re

from browser_support import (
    START,
    Person,
    check_axe,
    check_desk,
    check_page,
    city_context,
    running,
    skip_unless_browser,
)
from playwright.sync_api import expect, sync_playwright

from engine.cases.models import CaseCreate
from engine.users.models import Principal, Role

WIDE = {"width": 1366, "height": 900}


def test_a_void_request_asked_and_approved_in_the_browser(tmp_path, db_url):
    skip_unless_browser()
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        with city_context(server) as ctx:
            operator = Principal("operator", Role.operator, "00")
            report = CaseCreate(channel="hotline", category="06002", grid_code="01010101",
                                description="同一处垃圾堆积的重复来电")  # fmt: skip
            case_id = ctx.cases.intake(operator, report).case.id
            department = ctx.cases.act(operator, case_id, "note", {"note": "x"}).lead_department
        assert department == "HW-01"
        desk = Person(pw, server, tmp_path, "desk", viewport=WIDE)
        try:
            desk.login("handler_hw01")
            desk.goto(f"/cases/{case_id}")
            desk.page.get_by_role("button", name="签收").click()
            desk.page.wait_for_url(re.compile(r"done=accept"))
            box = desk.page.locator('form[action$="/act/request_void"]')
            box.locator("summary").click()
            box.get_by_label("原因").fill("重复工单")
            box.get_by_role("button", name="申请作废").click()
            expect(desk.page.locator("#pending-void")).to_contain_text("重复工单")
            check_desk(desk.page)
            desk.logout()

            desk.login("dispatcher")
            expect(desk.page.locator('nav [data-count="approvals"]')).to_contain_text("1")
            desk.goto("/approvals")
            item = desk.page.locator(f'article[data-case="{case_id}"]')
            expect(item).to_contain_text("作废申请")
            expect(item).to_contain_text("重复工单")
            check_desk(desk.page)
            item.get_by_role("button", name="批准作废").click()
            desk.page.wait_for_url(re.compile(r"/approvals\?unit=00&done=void"))
            expect(desk.page.locator(f'article[data-case="{case_id}"]')).to_have_count(0)
            desk.goto(f"/cases/{case_id}")
            expect(desk.page.locator("[data-state]").first).to_have_text("作废")
            expect(desk.page.locator('form[action$="/act/void"]')).to_have_count(0)
            desk.logout()

            desk.login("admin")
            desk.goto("/admin/rules")
            expect(desk.page.locator("#r-file-label")).to_have_text("或上传文件")
            expect(desk.page.locator("label.file-pick .button")).to_have_text("选择规则文件")
            expect(desk.page.locator("#r-file-status")).to_have_text("未选择文件")
            rules = tmp_path / "rules.toml"
            rules.write_text("# 候选规则\n", encoding="utf-8")
            desk.page.set_input_files("#r-file", str(rules))
            expect(desk.page.locator("#r-file-status")).to_have_text("已选择 1 个文件")
            check_page(desk.page)  # (the rule table's own text is TOML: no word check)
            check_axe(desk.page)
        finally:
            desk.close()
