"""Scenario 1 in a real browser: an operator files a case by the form (keyboard only), the
rules dispatch it, the department accepts and resolves it with a photo, a grid worker
verifies it on a 360 px phone, and the supervisor's board follows live (server-sent events,
no reload)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from browser_support import Person, photo, running, shot, skip_unless_browser
from playwright.sync_api import expect, sync_playwright

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai


def count(board: Person, light: str):
    return board.page.locator(f'#live .count[data-light="{light}"]')


def test_case_loop_through_the_pages(tmp_path, db_url):
    skip_unless_browser()
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        board = Person(pw, server, tmp_path, "supervisor", viewport={"width": 1280, "height": 900})
        desk = Person(pw, server, tmp_path, "desk", viewport={"width": 1280, "height": 900})
        try:
            board.login("supervisor")
            shot(board.page, "01-home-supervisor")
            board.goto("/board")
            board.page.evaluate("window.notReloaded = true")
            expect(board.page.locator("#live-status.on")).to_be_visible()
            expect(count(board, "green")).to_have_text("0")

            # The operator types the call in, keyboard only.
            desk.page.goto(server.url + "/login")
            shot(desk.page, "02-login")
            desk.login("operator")
            desk.goto("/intake")
            page = desk.page
            expect(page.locator("#description")).to_be_focused()
            page.keyboard.type("东坡社区3号楼门口垃圾堆积三天无人清理，气味很大")
            page.keyboard.press("Tab")
            expect(page.locator("#category")).to_be_focused()
            page.keyboard.type("06002 暴露垃圾")
            for _ in range(2):  # past the category hint's datalist to the grid picker
                if page.evaluate("document.activeElement.id") == "grid_code":
                    break
                page.keyboard.press("Tab")
            expect(page.locator("#grid_code")).to_be_focused()
            page.keyboard.type("01010101 东坡社区第一网格")
            page.keyboard.press("Tab")
            page.keyboard.type("东坡路3号")
            page.keyboard.press("Tab")
            page.keyboard.press("ArrowDown")  # request type: the first choice
            page.keyboard.press("Tab")
            page.keyboard.press("Tab")
            page.keyboard.type("王先生")
            page.keyboard.press("Tab")
            page.keyboard.type("13800001111")
            shot(page, "03-intake-form")
            page.locator("#save").focus()
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(r"/cases/\d+\?done=register"))
            check_case = page.locator("h1 .state")
            expect(check_case).to_have_attribute("data-state", "assigned")
            expect(page.locator(".explain")).to_contain_text("东湖区环卫")
            expect(page.locator(".explain")).to_contain_text("东湖区环境卫生管理处")
            case_path = page.url.split("?")[0].replace(server.url, "")
            shot(page, "04-case-assigned")

            # The board follows without a reload.
            expect(count(board, "green")).to_have_text("1", timeout=15_000)
            assert board.page.evaluate("window.notReloaded") is True
            expect(board.page.locator('#by-department tr[data-key="HW-01"]')).to_contain_text(
                "东湖区环境卫生管理处"
            )
            shot(board.page, "05-board-one-green")

            desk.goto("/cases?q=垃圾")
            expect(desk.page.locator("table.cases")).to_contain_text("暴露垃圾")
            shot(desk.page, "06-case-list")

            # The department accepts and resolves with a photo.
            desk.logout()
            desk.login("handler_hw01")
            desk.goto("/inbox")
            shot(desk.page, "07-inbox")
            desk.page.get_by_role("button", name=re.compile("签收 #")).click()
            expect(desk.page.locator("h1 .state")).to_have_attribute("data-state", "in_progress")
            resolve = desk.page.locator('form[action$="/act/resolve"]')
            resolve.locator("summary").click()
            resolve.get_by_label("处理结果").fill("已安排保洁员清运，现场已清理干净")
            resolve.get_by_label(re.compile("照片")).set_input_files(str(photo(tmp_path)))
            shot(desk.page, "08-resolve-form")
            resolve.get_by_role("button", name="办结反馈").click()
            expect(desk.page.locator("h1 .state")).to_have_attribute("data-state", "resolved")
            expect(desk.page.locator(".photos img")).to_have_count(1)
            desk.logout()

            # The grid worker checks on site, on a phone.
            desk.page.set_viewport_size({"width": 360, "height": 780})
            desk.login("grid_01010101")
            desk.goto("/grid")
            task = desk.page.locator("article.task").first
            expect(task).to_contain_text("已安排保洁员清运")
            task.get_by_label("照片").set_input_files(str(photo(tmp_path, "after.png")))
            assert desk.page.evaluate("document.documentElement.scrollWidth") <= 360
            shot(desk.page, "09-grid-phone")
            task.get_by_role("button", name="通过", exact=True).click()
            desk.page.wait_for_url(re.compile(r"/grid\?done=verify"))
            expect(desk.page.locator("article.task")).to_have_count(0)
            desk.goto(case_path)
            expect(desk.page.locator("h1 .state")).to_have_attribute("data-state", "resolved")
            shot(desk.page, "10-case-verified-phone")
            desk.logout()

            # A 12345 case also gets its callback (回访) before it closes.
            desk.page.set_viewport_size({"width": 1280, "height": 900})
            desk.login("operator")
            desk.goto("/intake")
            desk.page.locator("#h-callbacks + ul a").first.click()
            callback = desk.page.locator('form[action$="/act/callback"]')
            callback.locator("summary").click()
            callback.get_by_label("满意度").select_option("satisfied")
            callback.get_by_role("button", name="回访").click()
            expect(desk.page.locator("h1 .state")).to_have_attribute("data-state", "closed")
            expect(desk.page.locator(".timeline")).to_contain_text("核查")
            shot(desk.page, "11-case-closed")

            # Closed: nothing left running on the board, still without a reload.
            expect(count(board, "green")).to_have_text("0", timeout=15_000)
            assert board.page.evaluate("window.notReloaded") is True
            board.page.reload()
            # The big screen's trend (drawn by ECharts) counts today's closed case.
            trend = board.page.evaluate(
                "fetch('/board/data.json').then(r => r.json()).then(d => d.closed)"
            )
            assert trend[-1] == 1, trend
            shot(board.page, "12-board-after-close")
            for person in (board, desk):
                assert person.foreign_requests() == [], person.foreign_requests()
                assert person.requests  # the recorder saw the traffic
        finally:
            board.close()
            desk.close()
