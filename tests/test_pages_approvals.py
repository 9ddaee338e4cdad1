"""The approvals queue: extension (延期) and suspension (挂起) requests pending in the
dispatcher's area, decided inline; a decided request leaves the queue and its buttons leave
the case page; a pending suspension shows on the case."""

from __future__ import annotations

import pytest
from dispatch_support import activate, case_row, trail
from page_support import ensure_user, file_hotline, login, post

from engine.users.models import Principal, Role

HANDLER = Principal("handler-hw-01", Role.handler, "HW-01")


@pytest.fixture
async def pages(make_ctx, make_api):
    ctx = make_ctx()
    activate(ctx)
    ensure_user(ctx, "handler", "HW-01", "handler-hw-01")
    async with make_api(ctx) as api:
        yield api


def in_progress(ctx, description: str) -> int:
    case_id = file_hotline(ctx, description)
    ctx.cases.act(HANDLER, case_id, "accept", {})
    return case_id


def item(html: str, case_id: int) -> str:
    marker = f'data-case="{case_id}"'
    return html.split(marker)[1].split("</article>")[0] if marker in html else ""


async def test_extension_requests_are_decided_from_the_queue(pages):
    case_id = in_progress(pages.ctx, "需要更换配件的路灯")
    pages.ctx.cases.act(HANDLER, case_id, "request_extension",
                        {"duration": "3wd", "reason": "需采购配件"})  # fmt: skip
    csrf = await login(pages, "dispatcher", "00")
    html = (await pages.client.get("/approvals")).text
    found = item(html, case_id)
    assert "延期申请 · 3个工作日" in found and "需采购配件" in found and "测试handler" in found
    case_page = (await pages.client.get(f"/cases/{case_id}")).text
    assert "/act/approve_extension" in case_page and "/act/reject_extension" in case_page
    answer = await post(pages, f"/cases/{case_id}/act/approve_extension", csrf,
                        next="/approvals?unit=00")  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"].startswith("/approvals")
    assert case_row(pages.ctx, case_id).pending_extension is None
    assert not item((await pages.client.get("/approvals")).text, case_id)
    case_page = (await pages.client.get(f"/cases/{case_id}")).text
    assert "/act/approve_extension" not in case_page and "/act/reject_extension" not in case_page
    assert "+ 3个工作日" in case_page  # the handle limit, extended


async def test_suspension_requests_show_on_the_case_and_are_decided(pages):
    case_id = in_progress(pages.ctx, "等待产权单位答复的井盖")
    pages.ctx.cases.act(HANDLER, case_id, "request_suspension", {"reason": "等待产权单位答复"})
    csrf = await login(pages, "dispatcher", "00")
    case_page = (await pages.client.get(f"/cases/{case_id}")).text
    assert 'id="pending-suspension">等待产权单位答复' in case_page
    assert "/act/reject_suspension" in case_page
    found = item((await pages.client.get("/approvals")).text, case_id)
    assert "挂起申请" in found and "/act/suspend" in found and "/act/reject_suspension" in found
    silent = await post(pages, f"/cases/{case_id}/act/reject_suspension", csrf, reason=" ")
    assert silent.status_code == 422 and "原因：必填" in silent.text  # a rejection says why
    refused = await post(pages, f"/cases/{case_id}/act/reject_suspension", csrf,
                         reason="请先现场处置", next="/approvals")  # fmt: skip
    assert refused.status_code == 303
    assert case_row(pages.ctx, case_id).state == "in_progress"
    assert not item((await pages.client.get("/approvals")).text, case_id)
    case_page = (await pages.client.get(f"/cases/{case_id}")).text
    assert "pending-suspension" not in case_page and "/act/reject_suspension" not in case_page
    pages.ctx.cases.act(HANDLER, case_id, "request_suspension", {"reason": "施工许可未批"})
    found = item((await pages.client.get("/approvals")).text, case_id)
    assert "施工许可未批" in found
    await post(pages, f"/cases/{case_id}/act/suspend", csrf, reason="施工许可未批")
    assert case_row(pages.ctx, case_id).state == "suspended"
    assert ("reject_suspension", "in_progress") in trail(pages.ctx, case_id)
    assert not item((await pages.client.get("/approvals")).text, case_id)


async def test_approvals_are_for_dispatchers_of_the_area(pages):
    case_id = in_progress(pages.ctx, "东湖区的请求")  # grid 01010101: street 0101
    pages.ctx.cases.act(HANDLER, case_id, "request_suspension", {"reason": "等待"})
    await login(pages, "dispatcher", "0102")
    assert not item((await pages.client.get("/approvals")).text, case_id)
    await login(pages, "dispatcher", "0101")
    assert item((await pages.client.get("/approvals")).text, case_id)
    await login(pages, "handler", "HW-01")
    assert (await pages.client.get("/approvals")).status_code == 403


def nav_count(html: str, kind: str) -> str | None:
    """The number the navigation shows for ``kind`` (None: no count shown)."""
    nav = html.split("<nav>")[1].split("</nav>")[0]
    marker = f'data-count="{kind}"'
    if marker not in nav:
        return None
    return nav.split(marker)[1].split('aria-hidden="true">')[1].split("<")[0]


async def test_the_navigation_counts_the_requests_waiting_in_the_scope(pages):
    asks_time = in_progress(pages.ctx, "需要更换配件的路灯")
    pages.ctx.cases.act(HANDLER, asks_time, "request_extension",
                        {"duration": "3wd", "reason": "需采购配件"})  # fmt: skip
    asks_pause = in_progress(pages.ctx, "等待产权单位答复的井盖")
    pages.ctx.cases.act(HANDLER, asks_pause, "request_suspension", {"reason": "等待答复"})
    back = file_hotline(pages.ctx, "不归我们管的事")
    pages.ctx.cases.act(HANDLER, back, "return", {"reason": "不属于本单位职责"})
    queue = case_row(pages.ctx, back).dispatch_queue  # the command center it went back to
    assert queue in ("00", "01")
    csrf = await login(pages, "dispatcher", queue)
    html = (await pages.client.get("/cases")).text  # any page: the count is in the nav
    assert nav_count(html, "approvals") == "2" and nav_count(html, "returned") == "1"
    assert "待审批：延期申请 1 件，挂起申请 1 件，作废申请 0 件" in html
    assert "待处理退单 1 件" in html
    await post(pages, f"/cases/{asks_pause}/act/reject_suspension", csrf, reason="请先处置")
    html = (await pages.client.get("/cases")).text  # kept counts: every page reads them fresh
    assert nav_count(html, "approvals") == "1"
    again = in_progress(pages.ctx, "又一个需要延期的案件")
    pages.ctx.cases.act(HANDLER, again, "request_extension",
                        {"duration": "1wd", "reason": "等配件"})  # fmt: skip
    html = (await pages.client.get("/cases")).text
    assert nav_count(html, "approvals") == "2"
    await login(pages, "dispatcher", "02")  # another district: nothing of theirs waits
    html = (await pages.client.get("/approvals")).text
    assert nav_count(html, "approvals") is None and nav_count(html, "returned") is None
    await login(pages, "supervisor", "01")  # supervisors decide requests, not returns
    html = (await pages.client.get("/approvals")).text
    assert nav_count(html, "approvals") == "2" and nav_count(html, "returned") is None
    english = (await pages.client.get("/approvals", params={"lang": "en"})).text
    assert "waiting: 2 extension, 0 suspension and 0 void requests" in english


async def test_returns_wait_on_the_approvals_page_and_are_decided_there(pages):
    back = file_hotline(pages.ctx, "不归我们管的事")
    pages.ctx.cases.act(HANDLER, back, "return", {"reason": "不属于本单位职责"})
    queue = case_row(pages.ctx, back).dispatch_queue
    csrf = await login(pages, "dispatcher", queue)
    html = (await pages.client.get("/approvals")).text
    found = item(html, back)
    assert 'data-kind="return"' in html and "不属于本单位职责" in found
    assert "/act/redispatch" in found and "/act/reject_return" in found
    refused = await post(pages, f"/cases/{back}/act/reject_return", csrf,
                         reason="属于贵单位职责，请继续办理", next="/approvals")  # fmt: skip
    assert refused.status_code == 303 and refused.headers["location"].startswith("/approvals")
    assert case_row(pages.ctx, back).state == "assigned"
    assert not item((await pages.client.get("/approvals")).text, back)
    await login(pages, "supervisor", "00")  # supervisors decide requests, not returns
    assert 'id="h-returns"' not in (await pages.client.get("/approvals")).text
