"""Scopes: a unit role sees its subtree, a handler its department, contact data is masked."""

from __future__ import annotations

import pytest

from engine.cases.models import CaseCreate
from engine.errors import Forbidden, NotFound
from engine.users.models import Principal, Role


async def test_dispatcher_sees_only_its_subtree(api):
    in_0101 = await api.file(grid_code="01010101")
    in_0201 = await api.file(grid_code="02010101")
    headers = api.auth("dispatcher", "0101")
    listed = (await api.client.get("/api/v1/cases", headers=headers)).json()
    assert [c["id"] for c in listed["items"]] == [in_0101["id"]]
    response = await api.client.get(f"/api/v1/cases/{in_0201['id']}", headers=headers)
    assert response.status_code == 404
    city = (await api.client.get("/api/v1/cases", headers=api.auth("supervisor", "00"))).json()
    assert city["total"] == 2


async def test_contact_is_masked_for_roles_that_do_not_call_back(api):
    case = await api.file(reporter_name="张三丰", reporter_phone="13812345678")
    await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    as_operator = await api.client.get(f"/api/v1/cases/{case['id']}", headers=api.auth("operator"))
    assert as_operator.json()["reporter_phone"] == "13812345678"
    as_handler = await api.client.get(
        f"/api/v1/cases/{case['id']}", headers=api.auth("handler", "HW-01")
    )
    assert as_handler.json()["reporter_phone"] == "138****5678"
    assert as_handler.json()["reporter_name"] == "张**"


async def test_handler_cannot_file_cases(api):
    response = await api.client.post(
        "/api/v1/cases",
        json={"channel": "web", "description": "x"},
        headers=api.auth("handler", "HW-01"),
    )
    assert response.status_code == 403


async def test_co_handler_sees_case_but_cannot_take_lead_actions(api):
    case = await api.file()
    response = await api.act(
        case["id"], "dispatch", "dispatcher", department="HW-01", co_handlers=["CG-0101"]
    )
    assert response.json()["co_handlers"] == ["CG-0101"]
    co = api.auth("handler", "CG-0101")
    assert (await api.client.get(f"/api/v1/cases/{case['id']}", headers=co)).status_code == 200
    assert (await api.act(case["id"], "accept", "handler", "CG-0101")).status_code == 403


def test_a_handler_acts_on_the_cases_its_department_holds_a_task_on(ctx):
    """The lead department (always a task holder) and co-handlers find the case; another
    department, or a former lead after a redispatch, does not."""
    operator = Principal(name="op", role=Role.operator, scope="00")
    dispatcher = Principal(name="d", role=Role.dispatcher, scope="00")

    def handler(department: str) -> Principal:
        return Principal(name=f"h-{department}", role=Role.handler, scope=department)

    report = CaseCreate(channel="hotline", description="井盖缺失", grid_code="01010101")
    case = ctx.cases.intake(operator, report).case
    data = {"department": "HW-01", "co_handlers": ["CG-0101"]}
    ctx.cases.act(dispatcher, case.id, "dispatch", data)
    assert ctx.cases.act(handler("HW-01"), case.id, "accept", {}).state == "in_progress"
    with pytest.raises(Forbidden):  # found through its task, but resolving is the lead's
        ctx.cases.act(handler("CG-0101"), case.id, "resolve", {"result": "已处理"})
    with pytest.raises(NotFound):
        ctx.cases.act(handler("SJ-01"), case.id, "note", {"note": "看看"})
    ctx.cases.act(handler("HW-01"), case.id, "return", {"reason": "非本单位职责"})
    ctx.cases.act(dispatcher, case.id, "redispatch", {"department": "CG-01"})
    with pytest.raises(NotFound):
        ctx.cases.act(handler("HW-01"), case.id, "note", {"note": "还在吗"})
    assert ctx.cases.act(handler("CG-01"), case.id, "accept", {}).state == "in_progress"
