"""Returns (退单) feed back: a returned case goes to the queue of the command center that
dispatched it, with the department's reason; a redispatch records both departments."""

from __future__ import annotations

from tests.dispatch_support import activate, events

QUEUE = "/api/v1/dispatch/queue"


async def queue(api, scope: str) -> list[dict]:
    response = await api.client.get(QUEUE, headers=api.auth("dispatcher", scope))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def returned(api, case_id: int, department: str, reason: str) -> dict:
    response = await api.act(case_id, "return", "handler", department, reason=reason)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_district_departments_return_goes_to_the_district(api, ctx):
    activate(ctx)
    case = await api.file()  # 暴露垃圾, grid 01010101: the rule sends it to HW-01 (district 01)
    assert (case["lead_department"], case["dispatch_queue"]) == ("HW-01", "01")
    back = await returned(api, case["id"], "HW-01", "系小区物业管理范围，非市政道路")
    assert back["state"] == "returned"

    [item] = await queue(api, "01")
    assert item["case"]["id"] == case["id"]
    assert item["return_reason"] == "系小区物业管理范围，非市政道路"
    assert item["returned_by"] == "HW-01" and item["returned_at"] is not None
    assert item["rule"] == "sanitation-01"
    assert await queue(api, "0101") == []  # not the street's: the district dispatched it
    assert [i["case"]["id"] for i in await queue(api, "00")] == [case["id"]]


async def test_a_street_squads_return_goes_to_the_street(api, ctx):
    activate(ctx)
    case = await api.file(category="09002", description="店外经营占道")
    assert (case["lead_department"], case["dispatch_queue"]) == ("CG-0101", "0101")
    await api.act(case["id"], "accept", "handler", "CG-0101")
    await returned(api, case["id"], "CG-0101", "系市场监管职责")
    assert [i["return_reason"] for i in await queue(api, "0101")] == ["系市场监管职责"]


async def test_a_city_utilitys_return_goes_to_the_city(api, ctx):
    activate(ctx)
    case = await api.file(category="01005", description="变电箱门损坏")
    assert (case["lead_department"], case["dispatch_queue"]) == ("GD-00", "00")
    await returned(api, case["id"], "GD-00", "属于小区自有设施")
    assert await queue(api, "01") == []
    assert [i["returned_by"] for i in await queue(api, "00")] == ["GD-00"]


async def test_redispatch_records_both_departments_and_returns_come_back_to_the_redispatcher(
    api, ctx
):
    activate(ctx)
    case = await api.file()
    await returned(api, case["id"], "HW-01", "非本单位职责")
    moved = await api.act(case["id"], "redispatch", "dispatcher", "01", department="CG-01")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["lead_department"], moved.json()["dispatch_source"]) == ("CG-01", "person")
    event = events(ctx, case["id"])[-1]
    assert (event.action, event.from_state) == ("redispatch", "returned")
    assert (event.data["from_department"], event.data["department"]) == ("HW-01", "CG-01")
    assert event.data["dispatch_source"] == "person" and event.data["dispatch_queue"] == "01"
    assert await queue(api, "01") == []

    await returned(api, case["id"], "CG-01", "仍非本单位职责")
    [item] = await queue(api, "01")
    assert (item["returned_by"], item["return_reason"]) == ("CG-01", "仍非本单位职责")


async def test_rejecting_a_return_sends_it_back_to_the_same_department(api, ctx):
    activate(ctx)
    case = await api.file()
    await returned(api, case["id"], "HW-01", "非本单位职责")
    back = await api.act(case["id"], "reject_return", "dispatcher", "01", reason="属环卫职责")
    assert back.json()["state"] == "assigned" and back.json()["lead_department"] == "HW-01"
    assert await queue(api, "01") == []
