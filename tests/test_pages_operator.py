"""The operator's intake form: pickers, the duplicate check before saving, suggestions only
with a model, validation, callbacks to make, and who may use it."""

from __future__ import annotations

import pytest
from dispatch_support import activate, case_row, events
from page_support import file_hotline, login, post


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
