"""GET /api/v1/inbox: urgent cases first, then due soonest (by the open SLA stage run), keyset
paged through every page once, read by the department's index (ix_case_inbox); the inbox
page keeps the due-soonest order when filtered."""

from __future__ import annotations

import re

from dispatch_support import activate, case_row
from page_support import file_hotline, login
from sqlalchemy import event

from engine.users.models import Principal, Role
from tests.test_search_explain import captured, full_scans, plan

INBOX = "/api/v1/inbox"


async def _section(api, department: str, **params) -> dict:
    response = await api.client.get(INBOX, params=params, headers=api.auth("handler", department))
    assert response.status_code == 200, response.text
    return response.json()


async def _walk(api, department: str, **params) -> list[int]:
    seen: list[int] = []
    page = await _section(api, department, **params)
    while True:
        seen += [c["id"] for c in page["items"]]
        if not page["next_cursor"]:
            return seen
        page = await _section(api, department, **params, cursor=page["next_cursor"])


async def test_urgent_first_then_due_soonest_with_keyset_pages(api, ctx, clock):
    activate(ctx)
    # Monday 09:00: a normal case's accept limit is 2 working hours; an urgent one's 30 min
    early = file_hotline(ctx, "雨水篦子破损一", category="01002")  # due 11:00
    clock.advance(minutes=100)  # 10:40
    urgent_late = file_hotline(ctx, "雨水篦子破损二", category="01002", urgency="urgent")
    normal = file_hotline(ctx, "雨水篦子破损三", category="01002")  # due 14:40
    clock.advance(minutes=5)
    urgent_later = file_hotline(ctx, "雨水篦子破损四", category="01002", urgency="urgent")
    department = case_row(ctx, early).lead_department
    assert department
    expected = [urgent_late, urgent_later, early, normal]
    assert await _walk(api, department, section="to_accept", limit=50) == expected
    assert await _walk(api, department, section="to_accept", limit=1) == expected
    first = await _section(api, department, section="to_accept", limit=3)
    assert first["total"] == 4 and [c["id"] for c in first["items"]] == expected[:3]
    handler = Principal("h", Role.handler, department)
    ctx.cases.act(handler, normal, "accept", {})
    ctx.cases.act(handler, urgent_later, "accept", {})
    assert await _walk(api, department, section="in_progress", limit=1) == [urgent_later, normal]
    bad = await api.client.get(
        INBOX, params={"cursor": "zz"}, headers=api.auth("handler", department)
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "cursor"


async def test_the_api_inbox_reads_the_departments_index(api, ctx, clock):
    activate(ctx)
    for i in range(3):
        file_hotline(ctx, f"雨水篦子破损{i}", category="01002", urgency="urgent" if i else None)
        clock.advance(minutes=5)
    department = case_row(ctx, 1).lead_department
    first = await _section(api, department, section="to_accept", limit=1)
    with captured(ctx.db) as statements:
        params = {"section": "to_accept", "limit": 1, "cursor": first["next_cursor"]}
        await _section(api, department, **params)
    ordered = [(s, p) for s, p in statements if "view_stage_light" in s and "ORDER BY" in s]
    assert ordered, "the ordered page read"
    for statement, parameters in statements:
        lines = plan(ctx.db, statement, parameters)
        assert not full_scans(lines), "\n".join(lines)
    text = "\n".join(plan(ctx.db, *ordered[0]))
    assert "ix_case_inbox" in text, text  # the department's cases by its index
    assert not re.search(r"SCAN view_stage_light\b|Seq Scan on view_stage_light", text), text


async def test_a_filtered_inbox_page_stays_due_soonest_first(api, ctx, clock):
    activate(ctx)
    early = file_hotline(ctx, "路灯不亮一", category="01002")  # due 11:00
    clock.advance(minutes=100)
    urgent = file_hotline(ctx, "路灯不亮二", category="01002", urgency="urgent")  # due 11:10
    late = file_hotline(ctx, "路灯不亮三", category="01002")  # due 12:40… the latest
    department = case_row(ctx, early).lead_department
    await login(api, "handler", department)
    html = (await api.client.get("/inbox", params={"category": "01", "size": "2"})).text
    part = html.split('id="h-accept"')[1].split("</section>")[0]
    assert re.findall(r'<tr data-case="(\d+)"', part) == [str(early), str(urgent)]
    more = part.split('data-next="to_accept"')[0].split('href="')[-1].replace("&amp;", "&")
    assert "category=01" in more
    rest = (await api.client.get(more)).text.split('id="h-accept"')[1].split("</section>")[0]
    assert re.findall(r'<tr data-case="(\d+)"', rest) == [str(late)]


async def test_the_inbox_pages_lights_read_only_the_departments_open_runs(api, ctx, clock):
    """The 即将超时 / 已超时 lists come from the department's open stage runs in the read
    model (ix_view_stage_light_department), counted and a page of them, and only the cases
    shown are read with their clocks: nothing walks every task the department ever had."""
    activate(ctx)
    old = file_hotline(ctx, "路灯不亮（已办结）", category="01002")
    department = case_row(ctx, old).lead_department
    for action, role, scope, data in [
        ("accept", "handler", department, {}),
        ("resolve", "handler", department, {"result": "已修复"}),
        ("callback", "operator", "00", {"satisfaction": "satisfied"}),
    ]:
        assert (await api.act(old, action, role, scope, **data)).status_code == 200
    late = file_hotline(ctx, "路灯不亮（超时）", category="01002")
    clock.advance(hours=30)  # its accept run is past due
    await login(api, "handler", department)
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(ctx.db, "before_cursor_execute", keep)
    try:
        html = (await api.client.get("/inbox")).text
    finally:
        event.remove(ctx.db, "before_cursor_execute", keep)
    overdue = html.split('id="h-overdue"')[1].split("</section>")[0]
    assert f'data-case="{late}"' in overdue and f'data-case="{old}"' not in overdue
    runs = [(st, p) for st, p in seen if "view_stage_light.department = " in st]
    assert runs, "the lights' read"
    for statement, parameters in seen:
        text = "\n".join(plan(ctx.db, statement, parameters))
        assert "ix_case_task_department_case" not in text, text  # not every task it ever had
        assert not full_scans(text.splitlines()), text
    if ctx.db.dialect.name == "sqlite":  # the plans' words are SQLite's
        for statement, parameters in runs:
            text = "\n".join(plan(ctx.db, statement, parameters))
            assert "ix_view_stage_light_department" in text, f"{statement}\n{text}"
