"""The dispatcher's desk: the manual queue with the rule's suggestion and reason, returns
with the department's reason, one-click dispatch, and merging likely duplicates."""

from __future__ import annotations

import pytest
from dispatch_support import IN_01010101, activate, case_row
from page_support import file_hotline, login, post

from engine.users.models import Principal, Role


@pytest.fixture
async def pages(make_ctx, make_api):
    ctx = make_ctx()
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


async def test_queue_shows_reason_and_dispatch_is_one_click(pages):
    case_id = file_hotline(pages.ctx, "原因不明的噪音", category=None)
    csrf = await login(pages, "dispatcher", "00")
    desk = (await pages.client.get("/dispatch")).text
    assert f'data-case="{case_id}"' in desk and "要求人工派遣" in desk and "asks for" not in desk
    answer = await post(pages, f"/cases/{case_id}/act/dispatch", csrf, department="CG-0101",
                        next="/dispatch?unit=00")  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"].startswith("/dispatch")
    case = case_row(pages.ctx, case_id)
    assert (case.state, case.lead_department, case.dispatch_source) == (
        "assigned", "CG-0101", "person",
    )  # fmt: skip
    assert f'data-case="{case_id}"' not in (await pages.client.get("/dispatch")).text


async def test_returned_case_shows_the_reason_and_can_be_redispatched(pages):
    case_id = file_hotline(pages.ctx)
    pages.ctx.cases.act(Principal("h", Role.handler, "HW-01"), case_id, "return",
                        {"reason": "不属于本单位职责，应由城管处理"})  # fmt: skip
    case = case_row(pages.ctx, case_id)
    csrf = await login(pages, "dispatcher", case.dispatch_queue)
    desk = (await pages.client.get("/dispatch")).text
    assert "不属于本单位职责" in desk and "东湖区环境卫生管理处" in desk
    assert f'/cases/{case_id}/act/redispatch"' in desk and "/act/reject_return" in desk
    await post(pages, f"/cases/{case_id}/act/redispatch", csrf, department="CG-01")
    assert case_row(pages.ctx, case_id).lead_department == "CG-01"


async def test_flagged_duplicates_can_be_merged(pages):
    from engine.cases.models import CaseCreate

    operator = Principal("op", Role.operator, "00")
    data = {"channel": "open311", "category": "06002", "description": "垃圾"} | IN_01010101
    first = pages.ctx.cases.intake(operator, CaseCreate(**data)).case.id
    second = pages.ctx.cases.intake(operator, CaseCreate(**data)).case.id
    assert case_row(pages.ctx, second).duplicate_of == first
    csrf = await login(pages, "dispatcher", "00")
    desk = (await pages.client.get("/dispatch")).text
    assert f"并入 #{first}" in desk
    await post(pages, f"/cases/{second}/act/merge", csrf, master_id=str(first))
    assert case_row(pages.ctx, second).state == "merged"


async def test_a_street_dispatcher_sees_only_their_queue(pages):
    file_hotline(pages.ctx, "原因不明", category=None)
    await login(pages, "dispatcher", "0102")
    desk = (await pages.client.get("/dispatch", params={"unit": "00"})).text
    assert "清波街道" in desk and "共 0 条" in desk
    await login(pages, "operator")
    assert (await pages.client.get("/dispatch")).status_code == 403


async def test_queue_pages_by_cursor_and_picks_a_command_center(pages):
    queued = [file_hotline(pages.ctx, f"原因不明{i}", category=None) for i in range(3)]
    await login(pages, "dispatcher", "00")
    desk = (await pages.client.get("/dispatch", params={"size": "2"})).text
    assert '<option value="0101">' in desk.split('id="q-unit"')[1].split("</select>")[0]
    shown = [c for c in queued if f'data-case="{c}"' in desk]
    assert len(shown) == 2 and 'data-next="queue"' in desk
    link = desk.split('data-next="queue"')[0].split('href="')[-1].replace("&amp;", "&")
    rest = (await pages.client.get(link)).text
    assert [c for c in queued if f'data-case="{c}"' in rest] == [
        c for c in queued if c not in shown
    ] and 'data-next="queue"' not in rest
    huge = await pages.client.get("/dispatch", params={"size": "100000"})
    assert huge.status_code == 200  # capped at settings.max_page_size
    stale = await pages.client.get("/dispatch", params={"cursor": "nonsense"})
    assert stale.status_code == 200 and "cursor" in stale.text


async def test_queue_filters_by_category_and_suggested_department_by_name(pages):
    noise = file_hotline(pages.ctx, "楼上广场舞噪声扰民", category="12001")  # street 0101
    tiles = file_hotline(pages.ctx, "外墙瓷砖松动有掉落危险", category="11009")  # 01, ZJ-00
    pages.ctx.clock.advance(hours=5)  # both have waited 5 hours
    await login(pages, "dispatcher", "01")
    desk = (await pages.client.get("/dispatch")).text
    assert f'data-case="{noise}"' in desk and f'data-case="{tiles}"' in desk
    # the pickers name categories and departments; their codes stay in the values
    picker = desk.split('id="q-category"')[1].split("</select>")[0]
    assert 'value="12001">噪声扰民</option>' in picker and 'value="12">' in picker
    assert 'value="ZJ-00">市住房和城乡建设局</option>' in desk
    by_class = (await pages.client.get("/dispatch", params={"category": "11"})).text
    assert f'data-case="{tiles}"' in by_class and f'data-case="{noise}"' not in by_class
    assert "清除筛选" in by_class
    by_dept = (await pages.client.get("/dispatch", params={"suggested": "ZJ-00"})).text
    assert f'data-case="{tiles}"' in by_dept and f'data-case="{noise}"' not in by_dept
    # the suggesting rule by its name, never its id
    assert "按规则“高空坠物隐患：产权不明，区指挥中心派遣”" in by_dept
    assert "emergency-falling-objects" not in by_dept
    # the action forms come back to the same filtered queue
    assert 'name="next" value="/dispatch?unit=01&amp;suggested=ZJ-00&amp;size=30"' in by_dept
    waited = (await pages.client.get("/dispatch", params={"waited": "4"})).text
    assert f'data-case="{tiles}"' in waited and "超过4小时" in waited
    newest = (await pages.client.get("/dispatch", params={"sort": "newest"})).text
    assert "最新进入的在前" in newest and '<option value="newest" selected>' in newest
    bad_but_sorted = (
        await pages.client.get("/dispatch", params={"sort": "newest", "suggested": "NOPE"})
    ).text
    assert 'role="alert"' in bad_but_sorted and "最新进入的在前" in bad_but_sorted
    assert '<option value="newest" selected>' in bad_but_sorted  # the order the list is in
    oldest = (await pages.client.get("/dispatch")).text
    assert "等待最久的在前" in oldest and '<option value="waiting" selected>' in oldest
    not_yet = (await pages.client.get("/dispatch", params={"waited": "24"})).text
    assert f'data-case="{tiles}"' not in not_yet and "超过1天" in not_yet
    bad = (await pages.client.get("/dispatch", params={"suggested": "NOPE"})).text
    assert 'role="alert"' in bad and f'data-case="{noise}"' in bad  # said, and not filtered
