"""Issue 21's department handler (承办人员) walk at 360, 1366 and 1920 px: the login lands on
the inbox; 待签收 comes due-soonest first with the time left in words; the filters narrow it
(class, channel, urgency); a case is accepted in one click and resolved with a photo;
another is accepted and an extension (延期) asked for, chosen from a list of durations in
words. Every page visited passes check_desk (labels, zh-CN words, axe-core)."""

from __future__ import annotations

import re

import pytest
from browser_support import (
    WALK_SCREENS,
    at_desk,
    check_desk,
    city_context,
    photo,
    screen_name,
    walk_server,
)
from playwright.sync_api import expect

from engine.cases.models import CaseCreate
from engine.users.models import Principal, Role

OPERATOR = Principal("operator", Role.operator, "00")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return walk_server(tmp_path_factory)


def assigned(server, width: int) -> dict[str, int]:
    """Two garbage cases sent to HW-01 by the rules: a normal one, then an urgent one (a
    30-minute accept limit: due before the normal one's working hour)."""
    ids = {}
    with city_context(server, f"handler-{width}") as ctx:
        for key, words in (("normal", "一般"), ("urgent", "紧急")):
            data = CaseCreate(description=f"{width}号楼下垃圾桶满溢（{words}）",
                              channel="hotline", category="06002", grid_code="01010101",
                              urgency=key)  # fmt: skip
            case = ctx.cases.intake(OPERATOR, data).case
            assert case.lead_department == "HW-01" and case.state == "assigned"
            ids[key] = case.id
    return ids


@pytest.mark.parametrize("screen", WALK_SCREENS, ids=screen_name)
def test_handler_inbox_accept_resolve_and_extension(server, screen):
    width = screen["width"]
    ids = assigned(server, width)
    with at_desk(server, "handler", screen, "handler_hw01", "/inbox") as desk:
        page = desk.page
        check_desk(page)
        to_accept = page.locator('section[aria-labelledby="h-accept"] tbody tr')

        def row(section, key: str):
            return page.locator(f'section[aria-labelledby="{section}"] tr[data-case="{ids[key]}"]')

        order = to_accept.evaluate_all("rows => rows.map(r => r.dataset.case)")
        assert order.index(str(ids["urgent"])) < order.index(str(ids["normal"]))  # due first
        for key in ids:
            left = row("h-accept", key).locator(".remaining")
            expect(left).to_have_text(re.compile(r"^剩余\d+(小时)?(\d+分钟)?$"))

        # The filters: the class by name, the channel, the urgency.
        search = page.get_by_role("search")
        search.get_by_label("事项分类").select_option(label="市容环境")
        search.get_by_label("渠道").select_option(label="12345热线")
        search.get_by_label("紧急程度").select_option(label="紧急")
        search.get_by_role("button", name="筛选").click()
        page.wait_for_url(re.compile(r"urgency=urgent"))
        expect(row("h-accept", "urgent")).to_be_visible()
        expect(row("h-accept", "normal")).to_have_count(0)
        check_desk(page)

        # Accept the normal one from the inbox, resolve it with a photo.
        desk.visit("/inbox")
        page.get_by_role("button", name=f"签收 #{ids['normal']}").click()
        page.wait_for_url(re.compile(rf"/cases/{ids['normal']}"))
        expect(page.locator("h1 .state")).to_have_attribute("data-state", "in_progress")
        check_desk(page)
        resolve = page.locator('form[action$="/act/resolve"]')
        resolve.locator("summary").click()
        resolve.get_by_label("处理结果").fill("已安排保洁员清运，现场已清理干净")
        resolve.get_by_label(re.compile("照片")).set_input_files(
            str(photo(server.workdir, f"resolved-{width}.png"))
        )
        expect(resolve.locator(".file-pick .muted")).to_have_text("已选 1 张")
        resolve.get_by_role("button", name="办结反馈").click()
        expect(page.locator("h1 .state")).to_have_attribute("data-state", "resolved")
        expect(page.locator(".photos img")).to_have_count(1)
        check_desk(page)

        # Accept the urgent one and ask for two more working days.
        desk.visit("/inbox")
        page.get_by_role("button", name=f"签收 #{ids['urgent']}").click()
        page.wait_for_url(re.compile(rf"/cases/{ids['urgent']}"))
        ask = page.locator('form[action$="/act/request_extension"]')
        ask.locator("summary").click()
        ask.get_by_label("延长时长").select_option(label="2个工作日")
        ask.get_by_label("原因").fill("需采购配件")
        ask.get_by_role("button", name="申请延期").click()
        expect(page.locator("#pending-extension")).to_have_text("2个工作日")
        check_desk(page)
        desk.visit("/inbox")
        expect(row("h-progress", "urgent")).to_be_visible()
        assert desk.foreign_requests() == []
