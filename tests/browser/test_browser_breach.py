"""Scenario 2 in a real browser: a case misses its accept deadline while the supervisor's
board is open; the server's clock (a FileClock) is moved forward, the light goes yellow then
red without a reload, and the SLA sweep puts the case in the supervision queue. Then the
dispatcher's manual queue and the admin pages, each with a screenshot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from browser_support import Person, running, shot, skip_unless_browser
from playwright.sync_api import expect, sync_playwright

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
WIDE = {"width": 1280, "height": 900}


def file_case(desk: Person, description: str, category: str = "") -> str:
    desk.goto("/intake")
    desk.page.fill("#description", description)
    if category:
        desk.page.fill("#category", category)
    desk.page.fill("#grid_code", "01010101")
    desk.page.click("#save")
    if desk.page.locator("#duplicates").count():
        desk.page.click("#save")  # "not a duplicate: save as a new case"
    desk.page.wait_for_url(re.compile(r"/cases/\d+"))
    return desk.page.url.split("?")[0].rsplit("/", 1)[1]


def test_breach_turns_the_board_red_live(tmp_path, db_url):
    skip_unless_browser()
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        board = Person(pw, server, tmp_path, "supervisor", viewport=WIDE)
        desk = Person(pw, server, tmp_path, "desk", viewport=WIDE)
        try:
            board.login("supervisor")
            board.goto("/board")
            board.page.evaluate("window.notReloaded = true")
            lights = {
                name: board.page.locator(f'#live .count[data-light="{name}"]')
                for name in ("green", "yellow", "red")
            }
            desk.login("operator")
            case_id = file_case(desk, "湖滨路口垃圾桶满溢，垃圾散落一地", "06002")
            expect(lights["green"]).to_have_text("1", timeout=15_000)

            server.set_time(START + timedelta(minutes=50))  # 83 % of the 1wh accept limit
            expect(lights["yellow"]).to_have_text("1", timeout=15_000)
            expect(lights["green"]).to_have_text("0")
            shot(board.page, "20-board-yellow")

            server.set_time(START + timedelta(minutes=90))  # 30 minutes past the deadline
            expect(lights["red"]).to_have_text("1", timeout=15_000)
            row = board.page.locator(f'#supervision tr[data-case="{case_id}"]')
            expect(row).to_be_visible(timeout=30_000)  # the sweep escalated it
            expect(row).to_contain_text("黄牌督办")
            expect(row).to_contain_text("0 小时 30 分")
            red_row = board.page.locator('#by-department tr[data-key="HW-01"] [data-light="red"]')
            expect(red_row).to_have_text("1")
            assert board.page.evaluate("window.notReloaded") is True
            shot(board.page, "21-board-red")

            desk.goto(f"/cases/{case_id}")
            expect(desk.page.locator('tr[data-stage="accept"] .light-red')).to_be_visible()
            expect(desk.page.locator(".timeline")).to_contain_text("提级督办")
            shot(desk.page, "22-case-red")

            # No category: the default row sends it to the city's manual queue.
            queued = file_case(desk, "小区里有人反映噪音很大，不清楚是什么原因")
            desk.logout()
            desk.login("dispatcher")
            desk.goto("/dispatch")
            item = desk.page.locator(f'article.queue-item[data-case="{queued}"]')
            expect(item).to_contain_text("要求人工派遣")  # the default row, in words
            shot(desk.page, "23-dispatch-queue")
            item.get_by_label("派往").select_option("CG-0101")
            item.get_by_role("button", name="派遣").click()
            # back to the queue as it was (its unit, page size and filters), with the notice
            desk.page.wait_for_url(re.compile(r"/dispatch\?unit=00&(.+&)?done=dispatch"))
            expect(desk.page.locator(f'article[data-case="{queued}"]')).to_have_count(0)
            desk.goto(f"/cases/{queued}")
            expect(desk.page.locator(".explain")).to_contain_text("由调度员 李调度 人工派遣")
            desk.logout()

            desk.login("admin")
            for path, name in [
                ("/admin", "24-admin"),
                ("/admin/departments", "25-admin-departments"),
                ("/admin/users", "26-admin-users"),
                ("/admin/calendar", "27-admin-calendar"),
                ("/admin/outbox", "28-admin-outbox"),
                ("/admin/incidents", "29-admin-incidents"),
                ("/admin/rules", "30-admin-rules"),
            ]:
                desk.goto(path)
                shot(desk.page, name)
            desk.page.get_by_role("button", name="检查").last.click()
            expect(desk.page.locator("#check-result")).to_contain_text("检查通过")
            desk.goto("/cases?lang=en")
            shot(desk.page, "31-cases-english")
            for person in (board, desk):
                assert person.foreign_requests() == [], person.foreign_requests()
        finally:
            board.close()
            desk.close()
