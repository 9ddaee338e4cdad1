"""The operator's intake form: pickers, the duplicate check before saving, suggestions only
with a model, validation, callbacks to make, and who may use it."""

from __future__ import annotations

import re

import pytest
from dispatch_support import activate, case_row, events
from page_support import file_hotline, login, post

from engine.users.models import Principal, Role


@pytest.fixture
async def pages(make_ctx, make_api, tmp_path):
    ctx = make_ctx(models_dir=tmp_path / "models")
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


CALL = {
    "description": "东坡社区门口垃圾堆积",
    "category": "06002 暴露垃圾",
    "grid_code": "01010101 东坡社区第一网格",
    "request_type": "complaint",
    "reporter_name": "李女士",
    "reporter_phone": "13900002222",
}


async def test_form_has_pickers_and_saves_a_case(pages):
    csrf = await login(pages, "operator")
    form = (await pages.client.get("/intake")).text
    assert '<datalist id="category-list">' in form and 'value="06002 暴露垃圾"' in form
    assert 'value="01010101 东坡社区第一网格"' in form and 'for="reporter_phone"' in form
    saved = await post(pages, "/intake", csrf, **CALL)
    assert saved.status_code == 303
    case_id = int(saved.headers["location"].split("/")[2].split("?")[0])
    case = case_row(pages.ctx, case_id)
    assert (case.category, case.owning_unit, case.state) == ("06002", "01010101", "assigned")
    assert case.reporter_phone == "13900002222" and case.request_type == "complaint"


async def test_likely_duplicates_are_shown_before_saving(pages):
    first = file_hotline(pages.ctx, "同一处垃圾")
    csrf = await login(pages, "operator")
    check = await post(pages, "/intake", csrf, **CALL)
    assert check.status_code == 200 and 'id="duplicates"' in check.text
    assert f'href="/cases/{first}"' in check.text and 'name="confirm" value="1"' in check.text
    note = await post(
        pages, f"/cases/{first}/act/note", csrf, note="重复来电：东坡社区门口垃圾堆积"
    )
    assert note.status_code == 303
    assert events(pages.ctx, first)[-1].data["note"].startswith("重复来电")
    saved = await post(pages, "/intake", csrf, confirm="1", **CALL)
    assert saved.status_code == 303


async def test_same_phone_is_a_likely_duplicate_and_suggestions_need_a_model(pages):
    file_hotline(pages.ctx, "别处的事", category="01002", grid_code="02010101",
                 reporter_phone="13900002222")  # fmt: skip
    csrf = await login(pages, "operator")
    check = await post(pages, "/intake", csrf, **CALL)
    assert 'id="duplicates"' in check.text
    asked = await post(pages, "/intake", csrf, suggest="1", **CALL)
    assert asked.status_code == 200 and "未加载分类模型" in asked.text


async def test_bad_input_comes_back_on_the_form(pages):
    csrf = await login(pages, "operator")
    bad = await post(pages, "/intake", csrf, **(CALL | {"reporter_phone": "call me"}))
    assert bad.status_code == 422 and "联系电话：只能包含数字" in bad.text and "call me" in bad.text
    unknown = await post(pages, "/intake", csrf, confirm="1", **(CALL | {"grid_code": "0199"}))
    assert unknown.status_code == 422 and "没有这个网格" in unknown.text


async def test_callbacks_to_make_and_role_guard(pages):
    case_id = file_hotline(pages.ctx)
    ctx = pages.ctx
    from engine.users.models import Principal, Role

    handler = Principal("h", Role.handler, "HW-01")
    ctx.cases.act(handler, case_id, "accept", {})
    ctx.cases.act(handler, case_id, "resolve", {"result": "已清理"})
    await login(pages, "operator")
    form = (await pages.client.get("/intake")).text
    assert 'id="h-callbacks"' in form and f'data-case="{case_id}"' in form
    await login(pages, "handler", "HW-01")
    assert (await pages.client.get("/intake")).status_code == 403


async def test_the_callers_earlier_cases_as_the_number_is_typed(pages):
    """GET /intake/caller-history: the intake page's 来电历史 alone (gridflow.js asks as the
    phone is typed), open cases first with their one-click 催办 carrying what the caller says
    now; spaces and +86 do not matter; only the intake desks may ask."""
    ctx = pages.ctx
    closed = file_hotline(ctx, "上个月的噪声投诉", reporter_phone="13900002222")
    dispatcher = Principal("d", Role.dispatcher, "00")
    operator = Principal("o", Role.operator, "00")
    ctx.cases.act(operator, closed, "request_void", {"reason": "重复"})
    ctx.cases.act(dispatcher, closed, "void", {"reason": "重复"})
    open_case = file_hotline(ctx, "路灯不亮", reporter_phone="13900002222")
    file_hotline(ctx, "别人的事", reporter_phone="13900003333")
    await login(pages, "operator")
    part = await pages.client.get(
        "/intake/caller-history", params={"phone": "+86 139-0000-2222", "text": "又坏了"}
    )
    assert part.status_code == 200 and "<html" not in part.text  # the section alone
    found = [int(n) for n in re.findall(r'<li data-case="(\d+)"', part.text)]
    assert found == [open_case, closed]  # the open one first
    assert f'action="/cases/{open_case}/act/urge"' in part.text
    assert f'action="/cases/{closed}/act/urge"' not in part.text  # nothing to urge
    assert "又坏了" in part.text
    none = await pages.client.get("/intake/caller-history", params={"phone": "13900009999"})
    assert "该号码暂无历史工单" in none.text
    await login(pages, "handler", "HW-01")
    refused = await pages.client.get("/intake/caller-history", params={"phone": "13900002222"})
    assert refused.status_code == 403
