"""The case page: facts, state, actions from the workflow, SLA clocks in local time, the
dispatch explanation, the timeline, photos; actions by form; the case search."""

from __future__ import annotations

import re

import pytest
from dispatch_support import activate, case_row
from page_support import PNG, file_hotline, login, post
from sqlmodel import select

from engine.cases.models import Case, CaseCreate
from engine.db import new_session
from engine.sla.models import SlaClock
from engine.users.models import Principal, Role


@pytest.fixture
async def pages(make_ctx, make_api, tmp_path):
    ctx = make_ctx(attachments_dir=tmp_path / "att")
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


async def test_case_page_shows_everything_a_handler_needs(pages):
    case_id = file_hotline(pages.ctx, reporter_name="王小明", reporter_phone="13800001111")
    await login(pages, "handler", "HW-01")
    html = (await pages.client.get(f"/cases/{case_id}")).text
    assert 'data-state="assigned"' in html and "待签收" in html
    assert "东湖区 › 湖滨街道 › 东坡社区 › 东坡社区第一网格" in html
    assert "规则“东湖区环卫”（第 23 行）" in html and "→ 东湖区环境卫生管理处" in html
    assert "2026-03-02 09:00" in html and "2026-03-02 10:00" in html  # local, not UTC
    assert "13800001111" not in html and "138****1111" in html  # masked for a department
    assert '/act/accept"' in html and '/act/return"' in html and '/act/resolve"' not in html
    assert 'data-action="dispatch"' in html  # the timeline from the audit trail


async def test_actions_by_form_with_photos_and_errors(pages):
    case_id = file_hotline(pages.ctx)
    csrf = await login(pages, "handler", "HW-01")
    answer = await post(pages, f"/cases/{case_id}/act/accept", csrf)
    assert answer.status_code == 303 and answer.headers["location"].endswith("done=accept")
    missing = await post(pages, f"/cases/{case_id}/act/return", csrf)
    assert (
        missing.status_code == 422
        and "原因：必填" in missing.text
        and "required for" not in missing.text
    )
    photo = {"photos": ("现场.png", PNG, "image/png")}
    done = await post(pages, f"/cases/{case_id}/act/resolve", csrf, photo, result="已清理")
    assert done.status_code == 303
    case = case_row(pages.ctx, case_id)
    assert case.state == "resolved" and case.resolution == "已清理"
    html = (await pages.client.get(f"/cases/{case_id}")).text
    ref = html.split('<img src="/files/')[1].split('"')[0]
    image = await pages.client.get(f"/files/{ref}")
    assert image.status_code == 200 and image.content == PNG
    stale = await post(pages, f"/cases/{case_id}/act/note", csrf, note="备注", version="1")
    assert stale.status_code == 409 and "changed by someone else" not in stale.text
    assert "案件刚被他人更新，请刷新页面后重试" in stale.text


async def test_forms_need_csrf_and_scope_hides_cases(pages):
    case_id = file_hotline(pages.ctx)
    await login(pages, "handler", "HW-01")
    assert (await post(pages, f"/cases/{case_id}/act/accept", "forged")).status_code == 403
    csrf = await login(pages, "handler", "HW-02")
    assert (await pages.client.get(f"/cases/{case_id}")).status_code == 404
    assert (await post(pages, f"/cases/{case_id}/act/accept", csrf)).status_code == 404
    await pages.client.get("/logout")
    pages.client.cookies.clear()
    assert (await pages.client.get(f"/cases/{case_id}")).status_code == 303


async def test_case_search_with_filters(pages):
    file_hotline(pages.ctx, "垃圾桶满溢")
    file_hotline(pages.ctx, "路灯不亮", category="01002")
    await login(pages, "operator")
    page = (await pages.client.get("/cases", params={"q": "垃圾"})).text
    assert "垃圾桶满溢" in page and "路灯不亮" not in page and "共 1 条" in page
    page = (await pages.client.get("/cases", params={"category": "01"})).text
    assert "路灯不亮" in page and "垃圾桶满溢" not in page
    pickers = page.split('role="search"')[1].split("</form>")[0]
    assert '<option value="01" selected>' in pickers  # classes by name, not typed codes
    assert '<option value="0101">\u3000\u3000湖滨街道</option>' in pickers
    assert '<option value="HW-01">东湖区环境卫生管理处</option>' in pickers
    page = (await pages.client.get("/cases", params={"unit": "0102"})).text
    assert "共 0 条" in page
    page = (await pages.client.get("/cases", params={"created_from": "2026-03-03"})).text
    assert "共 0 条" in page
    english = (await pages.client.get("/cases", params={"lang": "en"})).text
    assert "Cases" in english and "2 in all" in english


async def test_one_search_box_for_phone_ticket_case_number_and_words(pages):
    """The operator's keyword box is the API's search box: a case number opens the case, a
    caller's phone (any spelling) or a ticket number lists its cases, words search the texts."""
    called = file_hotline(
        pages.ctx, "楼道灯坏了很久", reporter_phone="13800001111", external_id="T-2026-0042"
    )
    file_hotline(pages.ctx, "垃圾桶满溢", reporter_phone="13900002222")
    await login(pages, "operator")
    jump = await pages.client.get("/cases", params={"q": f"#{called}"})
    assert jump.status_code == 303 and jump.headers["location"] == f"/cases/{called}"
    for phone in ("138-0000-1111", "+86 138 0000 1111"):
        page = (await pages.client.get("/cases", params={"q": phone})).text
        assert "楼道灯坏了很久" in page and "垃圾桶满溢" not in page and "共 1 条" in page
    page = (await pages.client.get("/cases", params={"q": "T-2026-0042"})).text
    assert "楼道灯坏了很久" in page and "共 1 条" in page
    page = (await pages.client.get("/cases", params={"q": "楼道灯"})).text
    assert "楼道灯坏了很久" in page and "垃圾桶满溢" not in page


async def test_case_page_without_noise(pages):
    lead = Principal("h", Role.handler, "HW-01")
    case_id = file_hotline(pages.ctx)
    pages.ctx.cases.act(lead, case_id, "accept", {})
    await login(pages, "handler", "HW-01")
    html = (await pages.client.get(f"/cases/{case_id}")).text
    assert "/act/co_report" not in html  # no co-handlers: nothing to report as one
    assert "暂按周一至周五计算" not in html
    with new_session(pages.ctx.db) as session, session.begin():
        for clock in session.exec(select(SlaClock).where(SlaClock.case_id == case_id)):
            clock.provisional = True  # as for a deadline in a year without holiday data
    html = (await pages.client.get(f"/cases/{case_id}")).text
    row = html.split('data-stage="handle"')[1].split("</tr>")[0]
    assert "暂按周一至周五计算（节假日未公布）" in row
    dispatcher = Principal("d", Role.dispatcher, "00")
    pages.ctx.cases.act(dispatcher, case_id, "summon", {"departments": ["CG-0101"]})
    assert "/act/co_report" not in (await pages.client.get(f"/cases/{case_id}")).text
    await login(pages, "handler", "CG-0101")
    assert "/act/co_report" in (await pages.client.get(f"/cases/{case_id}")).text
    report = {"channel": "open311", "category": "06002", "description": "无效信息"}
    operator = Principal("op", Role.operator, "00")
    voided = pages.ctx.cases.intake(operator, CaseCreate(grid_code="01010101", **report)).case
    pages.ctx.cases.act(operator, voided.id, "void", {"reason": "无效信息"})
    await login(pages, "operator")
    html = (await pages.client.get(f"/cases/{voided.id}")).text
    assert 'data-state="voided"' in html
    assert "未开始" not in html and 'data-stage="dispatch"' not in html and 'id="h-sla"' not in html


async def test_favicon_and_print_layout(pages):
    icon = await pages.client.get("/favicon.ico")  # no login needed
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    svg = await pages.client.get("/static/favicon.svg")
    assert svg.status_code == 200 and b"<svg" in svg.content
    case_id = file_hotline(pages.ctx)
    await login(pages, "operator")
    html = (await pages.client.get(f"/cases/{case_id}")).text
    assert '<link rel="stylesheet" href="/static/print.css" media="print">' in html
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    assert '<button type="button" data-print>打印工单</button>' in html
    assert 'class="card no-print" aria-labelledby="h-actions"' in html  # no forms on paper
    sheet = (await pages.client.get("/static/print.css")).text
    assert "@page" in sheet and ".no-print" in sheet
    script = (await pages.client.get("/static/gridflow.js")).text
    assert "[data-print]" in script and "window.print()" in script


async def test_the_case_page_reads_no_whole_table(pages):
    """Every statement the case page runs over the case table uses an index (the cases
    flagged as its duplicates or merged into it included): the page costs the same at a
    million cases as at a hundred."""
    from test_search_explain import captured, full_scans, plan

    case_id = file_hotline(pages.ctx)
    await login(pages, "operator")
    with captured(pages.ctx.db) as statements:
        assert (await pages.client.get(f"/cases/{case_id}")).status_code == 200
    assert statements
    for statement, parameters in statements:
        lines = plan(pages.ctx.db, statement, parameters)
        assert not full_scans(lines), f"the case page reads all of case:\n{statement}\n{lines}"


async def test_a_handlers_case_page_does_not_list_the_departments_history(pages):
    """For a handler, the cases tied to this one (duplicates, merged tickets) are checked
    against their scope row by row: no statement lists every task the department ever had
    (a seek of case_task by department alone), which grows with the city's history."""
    from test_search_explain import captured, plan

    master = file_hotline(pages.ctx)
    flagged = file_hotline(pages.ctx)
    other = file_hotline(pages.ctx, grid_code="02020101")  # another street, another department
    with new_session(pages.ctx.db) as session:
        for case_id in (flagged, other):
            session.get(Case, case_id).duplicate_of = master
        session.commit()
    department = case_row(pages.ctx, master).lead_department
    assert case_row(pages.ctx, other).lead_department != department
    pages.ctx.cases.act(Principal("h", Role.handler, department), master, "accept", {})
    await login(pages, "handler", department)
    with captured(pages.ctx.db) as statements:
        html = (await pages.client.get(f"/cases/{master}")).text
    assert f'href="/cases/{flagged}"' in html and f'href="/cases/{other}"' not in html
    if pages.ctx.db.dialect.name != "sqlite":
        return  # the plans' words below are SQLite's
    for statement, parameters in statements:
        lines = "\n".join(plan(pages.ctx.db, statement, parameters))
        whole = re.search(r"case_task USING (COVERING )?INDEX \w+ \(department=\?\)$", lines, re.M)
        assert not whole, f"{statement}\n{lines}"
