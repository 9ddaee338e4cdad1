"""The knowledge panel in a real browser (issue 24's walk): the operator types a
consultation, the matching article appears, one click puts its answer in the answer box,
and the call is answered and closed at intake; the case cites the article's version."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from browser_support import Person, running, shot, skip_unless_browser
from playwright.sync_api import expect, sync_playwright

from adapters.hotline_import import read_rows
from engine.city.directory import CityDirectory
from engine.db import make_engine, new_session
from engine.knowledge import importer
from engine.users.models import Principal, Role

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai


def load_demo_articles(db_url: str) -> None:
    db = make_engine(db_url)
    try:
        rows = read_rows(importer.DEMO_ARTICLES, importer.HEADERS, importer.REQUIRED)
        with new_session(db) as session, session.begin():
            city = CityDirectory.load(session)
            author, reviewer = (
                Principal("demo-author", Role.admin),
                Principal("demo-reviewer", Role.admin),
            )
            report = importer.import_rows(session, author, rows, city, START, reviewer)
            assert not report.errors, report.errors
    finally:
        db.dispose()


def test_an_operator_answers_a_consultation_from_the_knowledge_base(tmp_path, db_url):
    skip_unless_browser()
    load_demo_articles(db_url)
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        desk = Person(pw, server, tmp_path, "desk")
        try:
            desk.login("operator")
            desk.goto("/intake?phone=13900003333&call_id=PBX-42")
            page = desk.page
            expect(page.locator("#reporter_phone")).to_have_value("13900003333")
            page.locator("#description").click()
            page.keyboard.type("您好，我的社保卡丢了，要去哪里补办？")
            hits = page.locator("#kb-results li")
            expect(hits.first).to_contain_text("社保卡补办")
            hits.first.locator("summary").click()
            hits.first.locator(".kb-use").click()
            expect(page.locator("#kb-answer")).to_have_value(re.compile("挂失"))
            expect(page.locator("#kb-article-label")).to_be_visible()
            shot(page, "40-intake-knowledge-panel")
            page.locator("#kb-answer-form button[type=submit]").click()
            page.wait_for_url(re.compile(r"/cases/\d+"))
            expect(page.locator("body")).to_contain_text("已结案")
            shot(page, "41-answered-at-intake")
            assert desk.foreign_requests() == []
        finally:
            desk.close()
