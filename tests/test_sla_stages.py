"""SLA stage clocks driven through the API on the working calendar (docs/ARCHITECTURE.md#time)."""

from __future__ import annotations

import pytest
from sla_support import act, auth, local_iso, pending, sh, sla, stage, timers

from engine.clock import VirtualClock

START = sh(2026, 3, 2, 9)  # as in conftest: Monday, inside working hours

DEPT = "HW-01"  # district 01 sanitation


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> VirtualClock:
    """The conftest clock, or one starting where a test's parameter says."""
    return VirtualClock(getattr(request, "param", START))


async def file_and_dispatch(api, department: str = DEPT, **dispatch) -> int:
    case = await api.client.post(
        "/api/v1/cases",
        json={
            "channel": "hotline",
            "category": "06002",
            "description": "小区门口垃圾堆积三天无人清理",
            "grid_code": "01010101",
        }
        | dispatch.pop("case", {}),
        headers=auth(api.ctx, "operator"),
    )
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    await act(api, case_id, "dispatch", "dispatcher", department=department, **dispatch)
    return case_id


@pytest.mark.parametrize("clock", [sh(2025, 9, 30, 16)], indirect=True)
async def test_3wd_over_national_day_counts_the_make_up_saturday(api, clock):
    """Dispatched 2025-09-30 16:00 with 3wd to handle: 1–8 Oct are off, Sat 11 Oct is a
    make-up workday, so the third working day after 30 Sep is 11 Oct, due at 18:00."""
    case_id = await file_and_dispatch(api, limits={"handle": "3wd"})
    await act(api, case_id, "accept", "handler", DEPT)

    handle = stage(await sla(api, case_id), "handle")
    assert handle["status"] == "running" and handle["limit"] == "3wd"
    assert handle["kind"] == "working" and handle["generation"] == 1
    assert handle["started_local"] == local_iso(2025, 9, 30, 16)
    assert handle["due_local"] == local_iso(2025, 10, 11, 18)
    assert handle["due_at"] == "2025-10-11T10:00:00Z"
    # 2 h on 30 Sep + 3 × 7.5 h = 24.5 working hours; yellow at 80 % = 19.6 h: 11 Oct 11:06.
    assert pending(api.ctx, case_id) == [
        ("yellow", "handle", sh(2025, 10, 11, 11, 6)),
        ("red", "handle", sh(2025, 10, 11, 18)),
    ]

    clock.set(sh(2025, 10, 5, 12))  # the holiday uses none of the limit
    handle = stage(await sla(api, case_id), "handle")
    assert handle["elapsed_fraction"] == pytest.approx(2 / 24.5, abs=1e-4)
    assert handle["light"] == "green"
    assert api.ctx.sweeper.sweep(clock.now()).claimed == 0

    clock.set(sh(2025, 10, 11, 12))
    handle = stage(await sla(api, case_id), "handle")
    assert handle["elapsed_fraction"] == pytest.approx(20.5 / 24.5, abs=1e-4)
    assert handle["light"] == "yellow"

    clock.set(sh(2025, 10, 11, 18))
    handle = stage(await sla(api, case_id), "handle")
    assert handle["elapsed_fraction"] == 1.0 and handle["light"] == "red"


async def test_4wh_started_friday_at_five_lands_on_monday(api, clock):
    clock.set(sh(2026, 3, 6, 17))  # Friday
    case_id = await file_and_dispatch(api, limits={"accept": "4wh"})
    accept = stage(await sla(api, case_id), "accept")
    # One hour on Friday, then 08:30–11:30 on Monday.
    assert accept["due_local"] == local_iso(2026, 3, 9, 11, 30)
    assert accept["light"] == "green"
    clock.set(sh(2026, 3, 8, 23))  # Sunday night: still only a quarter used
    accept = stage(await sla(api, case_id), "accept")
    assert accept["elapsed_fraction"] == pytest.approx(0.25)


async def test_every_stage_runs_in_its_state_and_stops_when_left(api, clock):
    case = await api.file()  # hotline: registered at once, the dispatch clock runs
    case_id = case["id"]
    view = await sla(api, case_id)
    assert view["current_stage"] == "dispatch"
    assert [s["status"] for s in view["stages"]] == [
        "running",
        "not_started",
        "not_started",
        "not_started",
    ]
    # Limits from the category (06002 exposed garbage, normal urgency).
    assert [s["limit"] for s in view["stages"]] == ["1wh", "1wh", "1wd", "1wd"]
    assert stage(view, "dispatch")["due_local"] == local_iso(2026, 3, 2, 10)

    clock.advance(minutes=50)  # 50 of 60 minutes: yellow
    assert stage(await sla(api, case_id), "dispatch")["light"] == "yellow"
    await act(api, case_id, "dispatch", "dispatcher", department=DEPT)
    await act(api, case_id, "accept", "handler", DEPT)
    await act(api, case_id, "resolve", "handler", DEPT, result="已清运")
    view = await sla(api, case_id)
    assert view["current_stage"] == "verify"
    assert [s["status"] for s in view["stages"]] == ["stopped", "stopped", "stopped", "running"]
    dispatch = stage(view, "dispatch")
    assert dispatch["elapsed_fraction"] == pytest.approx(50 / 60, abs=1e-4)
    assert dispatch["light"] == "yellow"  # frozen where it stopped
    assert stage(view, "handle")["due_local"] == local_iso(2026, 3, 3, 18)

    await act(api, case_id, "verify", "grid_worker", "01010101", passed=True, photos=["p/a.jpg"])
    await act(api, case_id, "callback", "operator", satisfaction="satisfied")  # hotline: 回访
    view = await sla(api, case_id)
    assert view["current_stage"] is None
    assert {s["status"] for s in view["stages"]} == {"stopped"}
    assert pending(api.ctx, case_id) == []
    assert {t.status for t in timers(api.ctx, case_id)} == {"dropped"}


async def test_rework_restarts_handle_as_a_new_generation(api, clock):
    case_id = await file_and_dispatch(api)
    await act(api, case_id, "accept", "handler", DEPT)
    await act(api, case_id, "resolve", "handler", DEPT, result="已清运")
    clock.advance(hours=2)
    await act(api, case_id, "verify", "grid_worker", "01010101", passed=False)
    handle = stage(await sla(api, case_id), "handle")
    assert handle["generation"] == 2 and handle["status"] == "running"
    assert handle["started_local"] == local_iso(2026, 3, 2, 11)
    assert handle["due_local"] == local_iso(2026, 3, 3, 18)
    live = [t for t in timers(api.ctx, case_id) if t.status == "pending"]
    assert {(t.kind, t.stage, t.generation) for t in live} == {
        ("yellow", "handle", 2),
        ("red", "handle", 2),
    }


async def test_a_new_lead_department_gets_its_own_accept_time(api, clock):
    case_id = await file_and_dispatch(api)
    clock.advance(minutes=40)
    await act(api, case_id, "redispatch", "dispatcher", department="HW-02")
    accept = stage(await sla(api, case_id), "accept")
    assert accept["generation"] == 2 and accept["elapsed_fraction"] == 0.0
    await act(api, case_id, "return", "handler", "HW-02", reason="不属于本区")
    view = await sla(api, case_id)
    assert stage(view, "dispatch")["generation"] == 2
    assert stage(view, "dispatch")["status"] == "running"
    assert stage(view, "accept")["status"] == "stopped"


async def test_limits_follow_urgency_and_the_dispatch_rule_override(api, clock):
    case_id = await file_and_dispatch(api, case={"urgency": "urgent"}, limits={"handle": "90m"})
    view = await sla(api, case_id)
    assert stage(view, "dispatch")["limit"] == "30m"  # the category's urgent limit
    assert stage(view, "accept")["limit"] == "30m"
    assert stage(view, "accept")["kind"] == "natural"
    assert stage(view, "handle")["limit"] == "90m"  # the rule's override
    assert stage(view, "verify")["limit"] == "2h"

    no_category = await api.file(category=None, description="其他问题")
    view = await sla(api, no_category["id"])
    assert [s["limit"] for s in view["stages"]] == ["2wh", "2wh", "5wd", "2wd"]


@pytest.mark.parametrize("clock", [sh(2030, 3, 4, 9)], indirect=True)
async def test_a_year_without_holiday_data_warns_but_counts_weekdays(api, clock):
    case_id = await file_and_dispatch(api, limits={"accept": "2wd"})
    view = await sla(api, case_id)
    assert any("2030" in w for w in view["warnings"])
    assert stage(view, "accept")["due_local"] == local_iso(2030, 3, 6, 18)


async def test_sla_is_scoped_like_the_case(api):
    case_id = await file_and_dispatch(api)
    response = await api.client.get(
        f"/api/v1/cases/{case_id}/sla", headers=auth(api.ctx, "handler", "HW-02")
    )
    assert response.status_code == 404
    response = await api.client.get(
        f"/api/v1/cases/{case_id}/sla", headers=auth(api.ctx, "handler", DEPT)
    )
    assert response.status_code == 200
