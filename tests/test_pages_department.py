"""The department's inbox: to accept, in progress, due soon, overdue, co-handler tasks."""

from __future__ import annotations

import pytest
from dispatch_support import activate, case_row
from page_support import file_hotline, login, post

from engine.users.models import Principal, Role


@pytest.fixture
async def pages(make_ctx, make_api):
    ctx = make_ctx()
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


def section(html: str, ident: str) -> str:
    return html.split(f'id="{ident}"')[1].split("</section>")[0]


async def test_inbox_sections_and_one_click_accept(pages, clock):
    waiting = file_hotline(pages.ctx, "待签收的垃圾")
    working = file_hotline(pages.ctx, "办理中的垃圾", grid_code="01010102")
    pages.ctx.cases.act(Principal("h", Role.handler, "HW-01"), working, "accept", {})
    csrf = await login(pages, "handler", "HW-01")
    html = (await pages.client.get("/inbox")).text
    assert f'data-case="{waiting}"' in section(html, "h-accept")
    assert f'data-case="{working}"' in section(html, "h-progress")
    assert "#" not in section(html, "h-overdue").split("</h2>")[1]
    row = section(html, "h-accept").split(f'data-case="{waiting}"')[1].split("</tr>")[0]
    assert "剩余1小时" in row  # the accept limit (1wh), in words
    clock.advance(minutes=50)  # the accept clock (1wh) is at 83 %
    html = (await pages.client.get("/inbox")).text
    assert f'data-case="{waiting}"' in section(html, "h-soon")
    assert "剩余10分钟" in section(html, "h-soon")
    clock.advance(minutes=20)
    html = (await pages.client.get("/inbox")).text
    assert f'data-case="{waiting}"' in section(html, "h-overdue") and "红灯" in html
    assert "已超时10分钟" in section(html, "h-overdue")
    answer = await post(pages, f"/cases/{waiting}/act/accept", csrf, next=f"/cases/{waiting}")
    assert answer.headers["location"] == f"/cases/{waiting}?done=accept"
    assert case_row(pages.ctx, waiting).state == "in_progress"


async def test_co_handler_tasks_and_role_guard(pages):
    case_id = file_hotline(pages.ctx)
    dispatcher = Principal("d", Role.dispatcher, "00")
    pages.ctx.cases.act(dispatcher, case_id, "summon", {"departments": ["CG-0101"]})
    await login(pages, "handler", "CG-0101")
    html = (await pages.client.get("/inbox")).text
    assert f'data-case="{case_id}"' in section(html, "h-co")
    assert f'data-case="{case_id}"' not in section(html, "h-accept")
    await login(pages, "supervisor")
    assert (await pages.client.get("/inbox")).status_code == 403


async def test_inbox_filters_and_pages(pages):
    lamps = [file_hotline(pages.ctx, f"路灯不亮{i}", category="01002") for i in range(3)]
    rubbish = file_hotline(pages.ctx, "垃圾满溢")
    lamp_dept = case_row(pages.ctx, lamps[0]).lead_department
    await login(pages, "handler", lamp_dept)
    html = (await pages.client.get("/inbox", params={"size": "2"})).text
    first = section(html, "h-accept")
    assert f'data-case="{lamps[0]}"' in first and f'data-case="{lamps[1]}"' in first
    assert f'data-case="{lamps[2]}"' not in first  # the longest waiting first, two a page
    more = first.split('data-next="to_accept"')[0].split('href="')[-1]
    nxt = (await pages.client.get(more.replace("&amp;", "&"))).text
    assert f'data-case="{lamps[2]}"' in section(nxt, "h-accept") and "回到第一页" in nxt
    assert f'data-case="{lamps[0]}"' not in section(nxt, "h-accept")
    lamp = (await pages.client.get("/inbox", params={"category": "01", "size": "2"})).text
    assert "最先到期的在前" in lamp  # filtered: still due-soonest first
    assert f'data-case="{lamps[0]}"' in section(lamp, "h-accept")
    assert f'data-case="{lamps[2]}"' not in section(lamp, "h-accept")  # on the next page
    urgent = (await pages.client.get("/inbox", params={"urgency": "urgent"})).text
    assert "#" not in section(urgent, "h-accept").split("</h2>")[1]
    other = (await pages.client.get("/inbox", params={"category": "06"})).text
    assert f'data-case="{lamps[0]}"' not in section(other, "h-accept")
    assert rubbish  # in another department's inbox
    bad = (await pages.client.get("/inbox", params={"channel": "fax"})).text
    assert "channel" in bad and f'data-case="{lamps[0]}"' in section(bad, "h-accept")
    stale = (await pages.client.get("/inbox", params={"accept_after": "nonsense"})).text
    assert f'data-case="{lamps[0]}"' in section(stale, "h-accept")  # back to the first page


async def test_the_late_lists_show_a_page_of_the_most_pressing(pages, clock):
    """A department with more late cases than a page lists the soonest due of each list and
    says how many there are."""
    late = []
    for i in range(3):
        late.append(file_hotline(pages.ctx, f"待签收的垃圾{i}"))
        clock.advance(minutes=5)
    clock.advance(hours=2)  # every accept clock (1wh) is past due
    await login(pages, "handler", "HW-01")
    html = (await pages.client.get("/inbox", params={"size": "2"})).text
    overdue = section(html, "h-overdue")
    assert overdue.split("</h2>")[0].endswith("已超时 (3)")  # all of them counted
    listed = [n for n in late if f'data-case="{n}"' in overdue]
    assert listed == late[:2]  # the two due first
    assert "仅列出最紧急的 2 件" in overdue
    whole = section((await pages.client.get("/inbox")).text, "h-overdue")
    assert all(f'data-case="{n}"' in whole for n in late) and "仅列出" not in whole
