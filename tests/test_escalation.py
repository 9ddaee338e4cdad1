"""The escalation ladder: a breach is supervised one tier above the department
(yellow card), then after the grace one tier higher (red card), up to the city; supervisors
escalate by hand and a street summons departments (吹哨报到).
See docs/ARCHITECTURE.md#timers-and-escalation."""

from __future__ import annotations

from sla_support import act, auth, events, pending, sh

STREET_DEPT = "CG-0101"  # 湖滨街道城管中队, street 0101 in district 01


async def in_progress(api, department: str = STREET_DEPT) -> int:
    case = await api.file()
    await act(api, case["id"], "dispatch", "dispatcher", department=department)
    await act(api, case["id"], "accept", "handler", department)
    return case["id"]  # handle: 1wd from Monday 2026-03-02 09:00, due Tuesday 18:00


async def queue(api, role: str = "supervisor", scope: str = "00", **params) -> dict:
    response = await api.client.get(
        "/api/v1/supervision", params=params, headers=auth(api.ctx, role, scope)
    )
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict) -> list[int]:
    return [item["case_id"] for item in page["items"]]


async def test_street_breach_goes_to_the_district_then_the_city(api, clock):
    case_id = await in_progress(api)
    other = await in_progress(api)
    await act(api, other, "resolve", "handler", STREET_DEPT, result="已处理")  # in time
    await act(api, other, "verify", "grid_worker", "01010101", passed=True, photos=["p/a.jpg"])
    await act(api, other, "callback", "operator", satisfaction="satisfied")  # hotline: 回访
    sweeper = api.ctx.sweeper

    clock.set(sh(2026, 3, 3, 18))  # the handle deadline
    assert sweeper.sweep(clock.now()).fired == 2  # reminder (yellow) and supervision (red)
    district = await queue(api, "supervisor", "01", tier="district")
    assert ids(district) == [case_id]
    item = district["items"][0]
    assert item["supervision_unit"] == "01" and item["supervision_tier"] == "district"
    assert item["card"] == "yellow" and item["light"] == "red" and item["stage"] == "handle"
    assert ids(await queue(api, unit="00")) == []
    assert pending(api.ctx, case_id) == [("escalate", "handle", sh(2026, 3, 4, 18))]

    clock.set(sh(2026, 3, 4, 12))  # 3.5 working hours late, within the grace
    assert sweeper.sweep(clock.now()).claimed == 0
    item = (await queue(api, unit="01"))["items"][0]
    assert item["overdue_stage_seconds"] == 3.5 * 3600
    assert item["overdue_seconds"] == 18 * 3600

    clock.set(sh(2026, 3, 4, 18))  # one working day (the grace) at the district
    assert sweeper.sweep(clock.now()).fired == 1
    city = await queue(api, tier="city")
    assert ids(city) == [case_id] and city["items"][0]["card"] == "red"
    assert ids(await queue(api, unit="01")) == []
    assert pending(api.ctx, case_id) == []  # the top of the ladder

    clock.set(sh(2026, 3, 20, 18))
    assert sweeper.sweep(clock.now()).claimed == 0
    trail = [
        (e.action, e.actor, e.data.get("unit"), e.data.get("card"), e.data.get("from_unit"))
        for e in events(api.ctx, case_id)
        if e.action in ("remind", "escalate")
    ]
    assert trail == [
        ("remind", "system", None, None, None),
        ("escalate", "system", "01", "yellow", None),
        ("escalate", "system", "00", "red", "01"),
    ]
    case = await api.client.get(f"/api/v1/cases/{case_id}", headers=auth(api.ctx, "admin"))
    assert case.json()["supervision_unit"] == "00" and case.json()["card"] == "red"


async def test_a_district_department_is_supervised_by_the_city_at_once(api, clock):
    case_id = await in_progress(api, "HW-01")
    clock.set(sh(2026, 3, 3, 18))
    api.ctx.sweeper.sweep(clock.now())
    item = (await queue(api, tier="city"))["items"][0]
    assert item["case_id"] == case_id and item["card"] == "yellow"
    assert pending(api.ctx, case_id) == []  # nowhere higher to go


async def test_the_supervising_district_may_redispatch_and_the_ladder_stops(api, clock):
    case_id = await in_progress(api)
    clock.set(sh(2026, 3, 3, 18))
    api.ctx.sweeper.sweep(clock.now())
    moved = await act(api, case_id, "redispatch", "dispatcher", "01", department="HW-01")
    assert moved["state"] == "assigned" and moved["lead_department"] == "HW-01"
    assert [kind for kind, _, _ in pending(api.ctx, case_id)] == ["yellow", "red"]  # accept
    clock.set(sh(2026, 3, 4, 18))
    api.ctx.sweeper.sweep(clock.now())
    escalations = [e for e in events(api.ctx, case_id) if e.action == "escalate"]
    # The handle breach climbs no further; the new accept stage's own breach is supervised
    # where the case already is, never lower.
    assert [(e.data["stage"], e.data["unit"]) for e in escalations] == [
        ("handle", "01"),
        ("accept", "00"),
    ]


async def test_most_overdue_first_and_scoped_to_the_caller(api, clock):
    late = await in_progress(api)
    clock.set(sh(2026, 3, 2, 14))
    later = await in_progress(api)  # same deadline (1wd: Tuesday close of work)
    await act(api, later, "request_extension", "handler", STREET_DEPT, duration="1wh", reason="x")
    await act(api, later, "approve_extension", "dispatcher")
    clock.set(sh(2026, 3, 4, 10))  # later's deadline moved to Wednesday 09:30
    api.ctx.sweeper.sweep(clock.now())
    assert ids(await queue(api, unit="01")) == [late, later]
    assert ids(await queue(api, "dispatcher", "02")) == []  # district 02 sees none of 01's
    forbidden = await api.client.get(
        "/api/v1/supervision", headers=auth(api.ctx, "handler", "HW-01")
    )
    assert forbidden.status_code == 403
    unknown = await api.client.get(
        "/api/v1/supervision", params={"unit": "99"}, headers=auth(api.ctx, "admin")
    )
    assert unknown.status_code == 422


async def test_a_supervisor_escalates_by_hand(api, clock):
    case_id = await in_progress(api)
    first = await act(api, case_id, "escalate", "supervisor", reason="群众多次投诉")
    assert (first["supervision_unit"], first["card"]) == ("01", "yellow")
    second = await act(api, case_id, "escalate", "supervisor", reason="仍未处理")
    assert (second["supervision_unit"], second["card"]) == ("00", "red")
    lower = await api.client.post(
        f"/api/v1/cases/{case_id}/actions/escalate",
        json={"unit": "01"},
        headers=auth(api.ctx, "supervisor"),
    )
    assert lower.status_code == 422  # supervision never steps down
    grid = await api.client.post(
        f"/api/v1/cases/{case_id}/actions/escalate",
        json={"unit": "01010101"},
        headers=auth(api.ctx, "supervisor"),
    )
    assert grid.status_code == 422
    by_operator = await api.client.post(
        f"/api/v1/cases/{case_id}/actions/escalate", json={}, headers=auth(api.ctx, "operator")
    )
    assert by_operator.status_code == 403
    # Not overdue: a manual escalation sets no ladder timer of its own.
    assert [kind for kind, _, _ in pending(api.ctx, case_id)] == ["yellow", "red"]


async def test_a_street_summons_departments_onto_a_case(api, clock):
    case_id = await in_progress(api)
    summoned = await act(
        api, case_id, "summon", "dispatcher", "0101", departments=["ZF-0101", "SJ-01"], note="吹哨"
    )
    assert sorted(summoned["co_handlers"]) == ["SJ-01", "ZF-0101"]
    event = events(api.ctx, case_id)[-1]
    assert event.action == "summon" and event.data["added"] == ["ZF-0101", "SJ-01"]
    seen = await api.client.get(
        f"/api/v1/cases/{case_id}", headers=auth(api.ctx, "handler", "ZF-0101")
    )
    assert seen.status_code == 200
    again = await act(api, case_id, "summon", "dispatcher", "0101", departments=["ZF-0101"])
    assert sorted(again["co_handlers"]) == ["SJ-01", "ZF-0101"]
    assert events(api.ctx, case_id)[-1].data["added"] == []
