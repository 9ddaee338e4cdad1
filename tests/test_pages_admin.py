"""Administration pages: departments, users and tokens, the rule table, the calendar,
dead letters and timer incidents."""

from __future__ import annotations

import re
from datetime import date

import pytest
from dispatch_support import DEMO_RULES, activate
from page_support import login, post
from sqlmodel import select

from engine.db import new_session
from engine.dispatch.rule_versions import active_record
from engine.sla.models import CalendarOverride
from engine.users.models import ApiToken, User


@pytest.fixture
async def admin(make_ctx, make_api):
    ctx = make_ctx()
    activate(ctx)
    async with make_api(ctx) as api:
        api.csrf = await login(api, "admin")
        yield api


async def test_pages_render_and_need_an_admin(admin):
    for path in ("/admin", "/admin/departments", "/admin/users", "/admin/rules",
                 "/admin/calendar", "/admin/outbox", "/admin/incidents"):  # fmt: skip
        page = await admin.client.get(path)
        assert page.status_code == 200 and "系统管理" in page.text, path
    assert "湖滨街道城管中队" in (await admin.client.get("/admin/departments")).text
    await login(admin, "supervisor")
    assert (await admin.client.get("/admin/users")).status_code == 403


async def test_users_and_tokens(admin):
    made = await post(admin, "/admin/users", admin.csrf, username="zhang", display_name="张三",
                      role="handler", scope="HW-01", password="long-password-1")  # fmt: skip
    assert made.status_code == 303
    bad = await post(admin, "/admin/users", admin.csrf, username="li", role="handler",
                     scope="01", password="long-password-1")  # fmt: skip
    assert bad.status_code == 422 and "承办人员选部门" in bad.text
    with new_session(admin.ctx.db) as session:
        user = session.exec(select(User).where(User.username == "zhang")).one()
    await post(admin, f"/admin/users/{user.id}/active", admin.csrf, active="0")
    with new_session(admin.ctx.db) as session:
        assert session.get(User, user.id).active is False
    issued = await post(admin, "/admin/tokens", admin.csrf, role="operator", scope="00",
                        label="热线系统", days="30")  # fmt: skip
    token = re.search(r'id="issued-token">(gf_[^<]+)<', issued.text)[1]
    listed = await admin.client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    with new_session(admin.ctx.db) as session:
        row = session.exec(select(ApiToken).where(ApiToken.label == "热线系统")).one()
    await post(admin, f"/admin/tokens/{row.id}/revoke", admin.csrf)
    listed = await admin.client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 401


async def test_rules_check_diff_and_activate(admin):
    broken = await post(admin, "/admin/rules/check", admin.csrf, text="[[rule]]\nid = 1\n")
    assert broken.status_code == 422 and "检查未通过" in broken.text
    changed = DEMO_RULES.replace('department = "HW-01"', 'department = "CG-01"', 1)
    check = await post(admin, "/admin/rules/check", admin.csrf, text=changed)
    assert check.status_code == 200 and "检查通过" in check.text
    assert '<span class="add">+department = &#34;CG-01&#34;</span>' in check.text
    done = await post(admin, "/admin/rules/activate", admin.csrf, text=changed)
    assert 'id="activated"' in done.text
    with new_session(admin.ctx.db) as session:
        assert 'department = "CG-01"' in active_record(session).text


async def test_calendar_overrides_and_faults(admin):
    await post(admin, "/admin/calendar", admin.csrf, day="2027-10-01", kind="holiday",
               note="国庆")  # fmt: skip
    with new_session(admin.ctx.db) as session:
        assert session.get(CalendarOverride, date(2027, 10, 1)).kind == "holiday"
    page = (await admin.client.get("/admin/calendar")).text
    assert 'data-day="2027-10-01"' in page and "国庆" in page
    bad = await post(admin, "/admin/calendar", admin.csrf, day="tomorrow", kind="holiday")
    assert bad.status_code == 422
    await post(admin, "/admin/calendar/2027-10-01/delete", admin.csrf)
    with new_session(admin.ctx.db) as session:
        assert session.get(CalendarOverride, date(2027, 10, 1)) is None
    assert (await post(admin, "/admin/outbox/99/redeliver", admin.csrf)).status_code == 409
    assert (await post(admin, "/admin/incidents/99/retry", admin.csrf)).status_code == 409


async def test_rule_checker_speaks_chinese(admin):
    unknown = DEMO_RULES.replace('department = "HW-01"', 'department = "ZZ-99"', 1)
    check = await post(admin, "/admin/rules/check", admin.csrf, text=unknown)
    assert check.status_code == 422
    problems = check.text.split('class="problems"')[1].split("</ul>")[0]
    assert "部门编码 ZZ-99 本市没有" in problems and "行规则" in problems
    assert "unknown department" not in check.text
    no_default = await post(admin, "/admin/rules/check", admin.csrf,
                            text='[[rule]]\nid = "a"\ndepartment = "HW-01"\n')  # fmt: skip
    assert "缺少默认规则" in no_default.text and "no default row" not in no_default.text


async def test_scope_from_the_tree_disable_and_revoke(admin):
    page = (await admin.client.get("/admin/users")).text
    picker = page.split('id="u-scope"')[1].split("</select>")[0]
    assert '<option value="0101">\u3000\u3000湖滨街道</option>' in picker
    assert '<option value="HW-01">东湖区环境卫生管理处</option>' in picker
    made = await post(admin, "/admin/users", admin.csrf, username="zhao", display_name="赵六",
                      role="dispatcher", scope="0101", password="long-password-1")  # fmt: skip
    assert made.status_code == 303
    with new_session(admin.ctx.db) as session:
        zhao = session.exec(select(User).where(User.username == "zhao")).one()
    row = (await admin.client.get("/admin/users")).text.split('data-user="zhao"')[1]
    assert "东湖区 › 湖滨街道" in row.split("</tr>")[0]
    moved = await post(admin, f"/admin/users/{zhao.id}/scope", admin.csrf, scope="0102")
    assert moved.status_code == 303
    refused = await post(admin, f"/admin/users/{zhao.id}/scope", admin.csrf, scope="HW-01")
    assert refused.status_code == 422 and "承办人员选部门" in refused.text
    with new_session(admin.ctx.db) as session:
        assert session.get(User, zhao.id).scope == "0102"
    await post(admin, f"/admin/users/{zhao.id}/active", admin.csrf, active="0")
    row = (await admin.client.get("/admin/users")).text.split('data-user="zhao"')[1]
    assert "已停用" in row.split("</tr>")[0] and "启用 zhao" in row.split("</tr>")[0]
    await post(admin, f"/admin/users/{zhao.id}/active", admin.csrf, active="1")
    with new_session(admin.ctx.db) as session:
        assert session.get(User, zhao.id).active is True


async def test_rule_backtest_in_the_page_says_what_moves_where_within_a_stated_window(admin):
    from tests.test_rules_cli import SHADOWED, closed_case

    long_ago = closed_case(admin.ctx, grid_code="02010101")  # HWGS-02, before the window
    admin.ctx.clock.advance(days=40)
    east = closed_case(admin.ctx)  # HW-01
    west = closed_case(admin.ctx, grid_code="02010101")  # HWGS-02
    admin.csrf = await login(admin, "admin")  # the clock moved on: a fresh session
    form = (await admin.client.get("/admin/rules")).text
    assert 'formaction="/admin/rules/backtest"' in form and "回测" in form
    candidate = DEMO_RULES.replace('department = "HWGS-02"', 'department = "HW-02"')
    answer = await post(admin, "/admin/rules/backtest", admin.csrf, text=candidate)
    assert answer.status_code == 200, answer.text
    result = answer.text.split('id="backtest-result"')[1].split("</section>")[0]
    assert "最近 30 天" in result and "共 2 件" in result  # the window, stated
    assert "1 件去向不变，1 件会派往别处" in result
    assert 'data-move="HWGS-02 HW-02"' in result and "<td>1</td>" in result
    assert f'href="/cases/{west}"' in result and f'href="/cases/{east}"' not in result
    assert f'href="/cases/{long_ago}"' not in result  # older than the window
    shown = re.sub(r"<[^>]*>", " ", result)  # the words a person reads: names, no codes
    assert "西岭区环境卫生管理所" in shown and "HW-02" not in shown
    assert "西岭区环卫（作业外包）" in shown  # the deciding rule by its name
    queued = DEMO_RULES.replace(
        'area = ["01"]\ndepartment = "HW-01"', 'area = ["01"]\nauto = false\nqueue = "district"'
    )
    to_queue = await post(admin, "/admin/rules/backtest", admin.csrf, text=queued)
    assert to_queue.status_code == 200, to_queue.text
    assert 'data-move="HW-01 queue:district"' in to_queue.text
    assert "区级指挥中心人工派遣队列" in to_queue.text
    broken = await post(admin, "/admin/rules/backtest", admin.csrf, text=SHADOWED)
    assert broken.status_code == 422 and 'id="backtest-result"' not in broken.text
    words = re.sub(r"<[^>]*>", " ", broken.text.split("<main")[1].split("<textarea")[0])
    assert "检查未通过" in words and "永远不会生效" in words and "shadowed" not in words
    forged = await post(admin, "/admin/rules/backtest", "not-the-token", text=candidate)
    assert forged.status_code == 403
