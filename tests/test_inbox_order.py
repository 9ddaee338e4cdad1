"""The department's inbox, 待签收 and 办理中 due-soonest first: ordered by the due time of
each case's open SLA stage run (the read model view_stage_light), keyset-paged on
(group, due time, case id), and every statement of the page reads through an index."""

from __future__ import annotations

import re

import pytest
from dispatch_support import activate, case_row
from page_support import file_hotline, login

from engine.users.models import Principal, Role
from tests.test_search_explain import captured, full_scans, plan


@pytest.fixture
async def pages(make_ctx, make_api):
    ctx = make_ctx()
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


def listed(html: str, ident: str) -> list[int]:
    part = html.split(f'id="{ident}"')[1].split("</section>")[0]
    return [int(found) for found in re.findall(r'<tr data-case="(\d+)"', part)]


def next_link(html: str, name: str) -> str:
    return html.split(f'data-next="{name}"')[0].split('href="')[-1].replace("&amp;", "&")


async def test_due_soonest_first_with_keyset_pages(pages, clock):
    # Monday 09:00: a normal case's accept limit is 2 working hours (due 11:00)
    early = file_hotline(pages.ctx, "雨水篦子破损一", category="01002")
    clock.advance(minutes=100)  # 10:40: an urgent one (30 minutes, due 11:10), a normal one
    urgent = file_hotline(pages.ctx, "雨水篦子破损二", category="01002", urgency="urgent")
    late = file_hotline(pages.ctx, "雨水篦子破损三", category="01002")  # due 14:40
    department = case_row(pages.ctx, early).lead_department
    assert department and case_row(pages.ctx, urgent).lead_department == department
    await login(pages, "handler", department)
    html = (await pages.client.get("/inbox")).text
    assert listed(html, "h-accept") == [early, urgent, late]  # not urgent first: due first
    assert "最先到期的在前" in html
    row = html.split(f'<tr data-case="{early}"')[1].split("</tr>")[0]
    assert "剩余20分钟" in row  # the time left in words
    two = (await pages.client.get("/inbox", params={"size": "2"})).text
    assert listed(two, "h-accept") == [early, urgent]
    rest = (await pages.client.get(next_link(two, "to_accept"))).text
    assert listed(rest, "h-accept") == [late] and "回到第一页" in rest

    handler = Principal("h", Role.handler, department)
    pages.ctx.cases.act(handler, late, "accept", {})  # handle: 5 working days
    pages.ctx.cases.act(handler, urgent, "accept", {})  # handle: 8 hours, accepted later
    html = (await pages.client.get("/inbox")).text
    assert listed(html, "h-progress") == [urgent, late]
    assert listed(html, "h-accept") == [early]
    supervisor = Principal("sup", Role.supervisor, "00")
    pages.ctx.cases.act(supervisor, urgent, "suspend", {"reason": "等待材料"})
    html = (await pages.client.get("/inbox")).text
    assert listed(html, "h-progress") == [late, urgent]  # 挂起: its time stands still, last
    one = (await pages.client.get("/inbox", params={"size": "1"})).text
    assert listed(one, "h-progress") == [late]  # the cursor crosses into the paused group
    assert listed((await pages.client.get(next_link(one, "in_progress"))).text, "h-progress") == [
        urgent
    ]
    filtered = (await pages.client.get("/inbox", params={"urgency": "urgent"})).text
    assert listed(filtered, "h-progress") == [urgent]  # the filters still answer
    assert "最先到期的在前" in filtered  # … in the same order


async def test_inbox_reads_through_indexes(pages, clock):
    for i in range(3):
        file_hotline(pages.ctx, f"雨水篦子破损{i}", category="01002")
        clock.advance(minutes=5)
    department = case_row(pages.ctx, 1).lead_department
    await login(pages, "handler", department)
    first = (await pages.client.get("/inbox", params={"size": "2"})).text
    with captured(pages.ctx.db) as statements:
        answer = await pages.client.get(next_link(first, "to_accept"))
        assert answer.status_code == 200
    due = [(s, p) for s, p in statements if "view_stage_light" in s and "ORDER BY" in s]
    assert due, "the due-ordered page read"
    for statement, parameters in due:
        lines = plan(pages.ctx.db, statement, parameters)
        text = "\n".join(lines)
        assert not full_scans(lines), text
        assert not re.search(r"SCAN view_stage_light\b|Seq Scan on view_stage_light", text)
        if pages.ctx.db.dialect.name == "sqlite":  # the department's section, by its index
            assert "ix_case_inbox" in text, text
        # PostgreSQL on a handful of rows may read the section's state through another index
        # (ix_case_queue starts with the state too); never the whole table, as checked above.
        assert re.search(r"view_stage_light.*(autoindex|pkey|PRIMARY)", text), text
