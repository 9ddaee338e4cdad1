"""A grid worker's report written with no signal, in a real browser at 360 px: the phone
goes offline, the report is submitted and listed under 待发送 with its state, the network
returns and the report is sent by itself, filed once (its report_id is the external id).
A report whose resend finds the login gone says so in words, stays kept, and is sent on
the next page load after logging in again. The page itself opens with no signal (its service
worker, web/static/grid_sw.js), and a logout forgets the phone's copy of it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from browser_support import Person, check_axe, photo, running, shot, skip_unless_browser
from playwright.sync_api import Error, expect, sync_playwright
from sqlalchemy import text

from engine.db import make_engine

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
PHONE = {"width": 360, "height": 740}
IN_01010101 = {"lat": "30.30333", "lng": "120.1096"}


def cases_with(db_url: str, external_id: str) -> int:
    db = make_engine(db_url)
    try:
        with db.connect() as conn:
            query = text('SELECT count(*) FROM "case" WHERE external_id = :id')
            return conn.execute(query, {"id": external_id}).scalar_one()
    finally:
        db.dispose()


def fill_report(page, tmp_path, words: str) -> None:
    page.fill("#g-category-search", "满溢")
    page.select_option("#g-category", label="垃圾满溢")
    page.fill("#g-description", words)
    page.set_input_files("#g-photos", str(photo(tmp_path)))
    page.fill("#g-lat", IN_01010101["lat"])
    page.fill("#g-lng", IN_01010101["lng"])


def test_report_kept_offline_then_sent_once(tmp_path, db_url):
    skip_unless_browser()
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        worker = Person(pw, server, tmp_path, "grid-offline", viewport=PHONE)
        page = worker.page
        try:
            worker.login("grid_01010101")
            assert page.url.endswith("/grid")
            expect(page.locator("#outbox")).to_be_hidden()  # nothing kept yet
            worker.context.set_offline(True)
            fill_report(page, tmp_path, "地下室没有信号，垃圾桶满溢")
            page.get_by_role("button", name="提交").click()
            expect(page.locator("#outbox h2")).to_have_text("待发送 (1)")
            kept = page.locator("#outbox-list li")
            expect(kept).to_have_count(1)
            expect(kept.locator(".outbox-state")).to_have_text(re.compile("^待发送"))
            expect(page.locator("#outbox-status")).to_contain_text("已保存在本机")
            expect(page.locator("#g-description")).to_have_value("")  # ready for the next one
            report_id = kept.get_attribute("data-report-id")
            assert report_id and cases_with(db_url, report_id) == 0
            check_axe(page)
            shot(page, "61-grid-offline-kept")

            worker.context.set_offline(False)  # the `online` event sends it
            expect(kept.locator(".outbox-state")).to_have_text(re.compile(r"^已发送，案件 #\d+"))
            expect(page.locator("#outbox h2")).to_have_text("待发送 (0)")
            expect(page.locator("#outbox-status")).to_have_text("")
            check_axe(page)
            shot(page, "62-grid-offline-sent")
            assert cases_with(db_url, report_id) == 1

            page.reload()  # sent reports are not kept: nothing is sent twice
            expect(page.locator("#outbox")).to_be_hidden()
            assert cases_with(db_url, report_id) == 1

            # a second one kept offline, and the login gone before the network returns
            worker.context.set_offline(True)
            fill_report(page, tmp_path, "楼道没有信号，井盖破损")
            page.get_by_role("button", name="提交").click()
            expect(page.locator("#outbox h2")).to_have_text("待发送 (1)")
            second = page.locator("#outbox-list li").get_attribute("data-report-id")
            worker.context.clear_cookies()
            worker.context.set_offline(False)
            state = page.locator("#outbox-list .outbox-state")
            expect(state).to_have_text(re.compile("^发送失败：登录已过期"))
            assert second and cases_with(db_url, second) == 0  # kept, not lost
            worker.login("grid_01010101")  # the next page load sends it
            expect(state).to_have_text(re.compile(r"^已发送，案件 #\d+"))
            assert cases_with(db_url, second) == 1
            assert worker.foreign_requests() == []
        finally:
            worker.close()


SW_READY = """async () => {
  const mine = await navigator.serviceWorker.ready;  // /grid's worker, its files kept
  const login = await navigator.serviceWorker.getRegistration("/login");
  return mine.scope.endsWith("/grid") && !!(login && login.active);
}"""
NOTHING_KEPT = "async () => (await caches.keys()).length === 0"


def test_the_page_opens_offline_and_a_logout_forgets_it(tmp_path, db_url):
    skip_unless_browser()
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        worker = Person(pw, server, tmp_path, "grid-offline-page", viewport=PHONE)
        page = worker.page
        try:
            worker.login("grid_01010101")
            assert page.url.endswith("/grid")
            page.wait_for_function(SW_READY)
            served = page.locator("input[name=report_id]").input_value()

            worker.context.set_offline(True)
            opened = page.reload()  # no signal: the phone's copy of the page opens
            assert opened is not None and opened.from_service_worker
            assert page.evaluate("navigator.onLine") is False
            expect(page.locator("#h-report")).to_have_text("现场上报")
            expect(page.locator("#my-grid")).to_contain_text("我的网格")
            expect(page.locator("link[href='/static/gridflow.css']")).to_have_count(1)
            assert page.evaluate("getComputedStyle(document.body).margin") != "8px"  # styled
            assert page.locator("#g-category option").count() > 50  # the categories are here
            expect(page.locator("figure.map-box svg")).to_be_visible()  # and the map
            fresh = page.locator("input[name=report_id]").input_value()
            assert fresh and fresh != served  # the copy's old id is never reused
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

            fill_report(page, tmp_path, "断网后打开页面，路灯不亮")
            page.get_by_role("button", name="提交").click()
            kept = page.locator("#outbox-list li")
            expect(kept).to_have_count(1)
            expect(kept.locator(".outbox-state")).to_have_text(re.compile("^待发送"))
            expect(page.locator("#outbox-status")).to_contain_text("已保存在本机")
            report_id = kept.get_attribute("data-report-id")
            assert report_id == fresh and cases_with(db_url, report_id) == 0
            check_axe(page)
            shot(page, "63-grid-opened-offline")

            worker.context.set_offline(False)  # the network returns: sent, once
            expect(kept.locator(".outbox-state")).to_have_text(re.compile(r"^已发送，案件 #\d+"))
            assert cases_with(db_url, report_id) == 1

            page.reload()  # online: the server's page again, fresh
            expect(page.locator("#outbox")).to_be_hidden()
            worker.logout()  # the login ends on /login: the phone's copy is forgotten
            page.wait_for_function(NOTHING_KEPT)
            worker.context.set_offline(True)
            try:
                page.goto(server.url + "/grid")
                raise AssertionError("the last worker's page opened after the logout")
            except Error as gone:  # the worker's fetch failed and it had nothing kept
                assert "net::ERR_" in str(gone)
            worker.context.set_offline(False)
            assert worker.foreign_requests() == []
        finally:
            worker.close()
