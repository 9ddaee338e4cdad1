"""The intake form in a real browser: category suggestions appear as the caller's words are
typed (one debounced request, not one per key), and a click fills the category field."""

from __future__ import annotations

from datetime import UTC, datetime

from browser_support import Person, running, shot, skip_unless_browser
from playwright.sync_api import expect, sync_playwright

from tests.router_support import save_demo_models

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
SERVER_KEY = "browser-test-secret"  # browser_support.Server's GRIDFLOW_SECRET_KEY


def test_suggestions_appear_while_typing_and_fill_the_category(tmp_path, db_url):
    skip_unless_browser()
    save_demo_models(tmp_path / "models", key=SERVER_KEY)
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        desk = Person(pw, server, tmp_path, "desk", viewport={"width": 360, "height": 800})
        try:
            desk.login("operator")
            desk.goto("/intake")
            page = desk.page
            box = page.locator("#live-suggestions")
            expect(box).to_be_hidden()
            expect(page.locator("#description")).to_be_focused()
            page.keyboard.type("东坡社区门口垃圾堆积三天无人清理，气味很大")
            expect(box).to_be_visible()
            buttons = box.locator("button")
            expect(buttons).to_have_count(3)
            expect(buttons.first).to_contain_text("06002 暴露垃圾")
            asked = [url for url in desk.requests if url.endswith("/intake/suggest")]
            assert len(asked) == 1, asked  # typed in one go: one request after the pause
            shot(page, "20-intake-live-suggestions")
            buttons.first.click()
            expect(page.locator("#category")).to_have_value("06002 暴露垃圾")
            expect(page.locator("#category")).to_be_focused()
            assert desk.foreign_requests() == []
        finally:
            desk.close()
