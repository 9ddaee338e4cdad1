"""Issue 21's dispatcher (调度员) walk at 360, 1366 and 1920 px: the login lands on the manual
queue, urgent first; it pages; it narrows by category (by name) and time waited, by the
suggested department, by channel and by command center (unit); a case is dispatched from
it. On the approvals page, reached from the navigation whose count matches the requests
waiting, an extension (延期) is refused, a suspension (挂起) and a void (作废) approved and a
return (退单) refused, each inline with a reason; each decided request leaves with its
buttons. Every page visited passes check_desk (labels, zh-CN words, axe-core)."""

from __future__ import annotations

import re
from datetime import timedelta

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

OPERATOR = Principal("operator", Role.operator, "00")
HANDLER = Principal("handler_hw01", Role.handler, "HW-01")  # 06002 in grid 01010101 goes there
NOISE, TILES, GARBAGE = "12001", "11009", "06002"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return walk_server(tmp_path_factory)


def queued_and_asked(server, width: int) -> dict[str, int]:
    """The walk's cases: a noise case queued 3 hours ago, then ten more noise cases, loose
    tiles (ZJ-00 suggested), an upper-level one, one with no category (the city's queue), an
    urgent one; and an extension, a suspension and a void request, and a return."""
    ids: dict[str, int] = {}

    def filed(ctx, key: str, description: str, **fields) -> int:
        data = {"channel": "hotline", "category": NOISE, "grid_code": "01010101"} | fields
        case = ctx.cases.intake(OPERATOR, CaseCreate(description=description, **data)).case
        ids[key] = case.id
        return case.id

    with city_context(server, f"dispatcher-{width}-old") as ctx:
        filed(ctx, "old", f"{width}号楼楼上广场舞噪声扰民", grid_code="01010102")  # no dup
    server.set_time(server.now + timedelta(hours=3))  # "old" waited 3 hours
    with city_context(server, f"dispatcher-{width}") as ctx:
        for n in range(10):
            filed(ctx, f"noise{n}", f"{width}号楼第{n}户装修噪声")
        filed(ctx, "tiles", f"{width}号楼外墙瓷砖松动有掉落危险", category=TILES)
        filed(ctx, "upper", f"{width}号楼上级交办的噪声投诉", channel="upper")
        filed(ctx, "city", f"{width}号楼有人反映情况，说不清楚", category=None)
        filed(ctx, "urgent", f"{width}号楼深夜施工噪声", urgency="urgent")
        asked = (
            ("extension", "延期"),
            ("suspension", "挂起"),
            ("void", "作废"),
            ("returned", "退单"),
        )
        for key, words in asked:
            filed(ctx, key, f"{width}号楼垃圾堆积（{words}）", category=GARBAGE)
        ctx.cases.act(HANDLER, ids["extension"], "accept", {})
        ctx.cases.act(HANDLER, ids["extension"], "request_extension",
                      {"duration": "2wd", "reason": "需采购配件"})  # fmt: skip
        ctx.cases.act(HANDLER, ids["suspension"], "accept", {})
        ctx.cases.act(HANDLER, ids["suspension"], "request_suspension",
                      {"reason": "等待业主配合入户"})  # fmt: skip
        ctx.cases.act(HANDLER, ids["void"], "request_void", {"reason": "与前一工单重复"})
        ctx.cases.act(HANDLER, ids["returned"], "return", {"reason": "不属于本单位职责"})
    return ids


def item(page, case_id: int):
    return page.locator(f'article[data-case="{case_id}"]')


def filter_queue(page, **chosen: str) -> None:
    """The queue's filter form: each select by its label, a choice by its words."""
    labels = {"unit": "指挥中心", "category": "事项分类", "channel": "渠道",
              "suggested": "建议派往部门", "waited": "等待时长", "sort": "排序",
              "size": "每页条数"}  # fmt: skip
    defaults = {"sort": "等待最久在前"}
    form = page.get_by_role("search")
    for name, label in labels.items():
        if name == "unit":  # the org tree's names are indented: picked by the unit's code
            form.get_by_label(label, exact=True).select_option(value=chosen.get(name, "00"))
        else:
            default = defaults.get(name, "全部")
            form.get_by_label(label, exact=True).select_option(label=chosen.get(name, default))
    form.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("screen", WALK_SCREENS, ids=screen_name)
def test_dispatcher_filters_pages_dispatches_and_decides_requests(server, screen):
    width = screen["width"]
    ids = queued_and_asked(server, width)
    with at_desk(server, "dispatcher", screen, "dispatcher", "/dispatch") as desk:
        page = desk.page
        check_desk(page)
        queue = page.locator("article.queue-item")
        expect(item(page, ids["urgent"])).to_have_class(re.compile("urgent"))
        urgent_first = queue.evaluate_all("els => els.map(e => e.classList.contains('urgent'))")
        assert urgent_first == sorted(urgent_first, reverse=True)  # urgent first

        # Paging: ten a page, the next page goes on where the first ended.
        filter_queue(page, size="10")
        expect(queue).to_have_count(10)
        first_page = set(queue.evaluate_all("els => els.map(e => e.dataset.case)"))
        page.get_by_role("link", name="下一页").click()
        page.wait_for_url(re.compile(r"cursor="))
        later = set(queue.evaluate_all("els => els.map(e => e.dataset.case)"))
        assert later and not later & first_page

        # Filters, each picked by its words.
        filter_queue(page, category="噪声扰民", waited="超过1小时", size="100")
        # 等待时长 counts from when the case entered the queue: the sweep's 黄灯 reminder
        # and 提级督办 on "old" (queued 3 hours ago) do not reset it.
        expect(item(page, ids["old"])).to_be_visible()
        for key in ("noise0", "tiles", "urgent"):
            expect(item(page, ids[key])).to_have_count(0)
        check_desk(page)
        # Sorted: the longest waiting first by default, the latest first on request.
        filter_queue(page, category="噪声扰民", size="100")
        order = queue.evaluate_all("els => els.map(e => e.dataset.case)")
        assert order.index(str(ids["old"])) < order.index(str(ids["noise0"]))
        filter_queue(page, category="噪声扰民", sort="最新进入在前", size="100")
        order = queue.evaluate_all("els => els.map(e => e.dataset.case)")
        assert order.index(str(ids["old"])) > order.index(str(ids["noise0"]))
        filter_queue(page, suggested="市住房和城乡建设局", size="100")
        expect(item(page, ids["tiles"])).to_be_visible()
        expect(item(page, ids["noise0"])).to_have_count(0)
        filter_queue(page, channel="上级交办", size="100")
        expect(item(page, ids["upper"])).to_be_visible()
        expect(item(page, ids["noise0"])).to_have_count(0)
        filter_queue(page, unit="01", size="100")
        expect(item(page, ids["noise0"])).to_be_visible()
        expect(item(page, ids["city"])).to_have_count(0)  # queued at the city's center
        filter_queue(page, size="100")
        expect(item(page, ids["city"])).to_be_visible()

        # Dispatch the urgent case.
        urgent = item(page, ids["urgent"])
        urgent.get_by_label("派往").select_option(label="东湖区城市管理综合行政执法局")
        urgent.get_by_role("button", name="派遣").click()
        page.wait_for_url(re.compile(r"done=dispatch"))
        expect(item(page, ids["urgent"])).to_have_count(0)
        check_desk(page)

        # Approvals, from the navigation and its count.
        page.get_by_role("link", name=re.compile("^审批")).click()
        page.wait_for_url(re.compile(r"/approvals"))
        check_desk(page)
        requests = page.locator('section[aria-labelledby="h-approvals"] article')
        count = page.locator('nav [data-count="approvals"] [aria-hidden="true"]')
        waiting = requests.count()
        expect(count).to_have_text(str(waiting))
        expect(page.locator('nav [data-count="approvals"]')).to_contain_text("延期申请")

        def decide(key: str, kind: str, button: str, reason: str | None) -> None:
            request = page.locator(f'article[data-case="{ids[key]}"][data-kind="{kind}"]')
            expect(request).to_be_visible()
            form = request.locator("form", has=page.get_by_role("button", name=button))
            if reason is not None:
                form.get_by_label("原因").fill(reason)
            form.get_by_role("button", name=button).click()
            page.wait_for_url(re.compile(r"/approvals\?.*done="))
            expect(request).to_have_count(0)  # decided: gone, with its buttons

        decide("extension", "extension", "驳回延期", "配件库存充足，请按期办结")
        decide("suspension", "suspension", "批准挂起", None)  # the asker's reason kept
        decide("void", "void", "批准作废", None)  # the asker's reason kept
        decide("returned", "return", "驳回退单", "属于贵单位职责，请继续办理")
        expect(requests).to_have_count(waiting - 3)
        if waiting > 3:
            expect(count).to_have_text(str(waiting - 3))
        else:
            expect(count).to_have_count(0)
        check_desk(page)
        desk.visit(f"/cases/{ids['extension']}")
        expect(page.locator('form[action$="/act/approve_extension"]')).to_have_count(0)
        expect(page.locator('form[action$="/act/reject_extension"]')).to_have_count(0)
        expect(page.locator(".timeline")).to_contain_text("配件库存充足")
        assert desk.foreign_requests() == []
