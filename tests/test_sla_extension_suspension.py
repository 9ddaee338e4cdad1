"""Suspension stops a stage's clock and moves its deadline by the paused time; an approved
extension moves it by the approved amount; both are audited and reschedule the timers."""

from __future__ import annotations

import pytest
from sla_support import act, auth, events, local_iso, pending, sh, sla, stage

DEPT = "HW-01"  # at district 01: a breach is supervised by the city
STREET = "CG-0101"  # at street 0101: supervised by district 01, then the city
HOUR = 3600.0


async def in_progress(api, handle: str = "3wd", department: str = DEPT, **case) -> int:
    created = await api.client.post(
        "/api/v1/cases",
        json={
            "channel": "hotline",
            "category": "06002",
            "description": "垃圾桶满溢",
            "grid_code": "01010101",
        }
        | case,
        headers=auth(api.ctx, "operator"),
    )
    case_id = created.json()["id"]
    limits = {"handle": handle}
    await act(api, case_id, "dispatch", "dispatcher", department=department, limits=limits)
    await act(api, case_id, "accept", "handler", department)
    return case_id


async def test_two_working_days_suspended_move_the_deadline_two_working_days(api, clock):
    case_id = await in_progress(api)  # Monday 2026-03-02 09:00, 3wd: due Thursday 18:00
    assert stage(await sla(api, case_id), "handle")["due_local"] == local_iso(2026, 3, 5, 18)

    clock.set(sh(2026, 3, 3, 10))  # Tuesday
    await act(api, case_id, "request_suspension", "handler", DEPT, reason="等待产权单位答复")
    await act(api, case_id, "suspend", "dispatcher", reason="等待产权单位答复")
    frozen = stage(await sla(api, case_id), "handle")
    assert frozen["status"] == "paused"
    assert frozen["elapsed_fraction"] == pytest.approx(8.5 / 29.5, abs=1e-4)
    assert pending(api.ctx, case_id) == []

    clock.set(sh(2026, 3, 4, 18))  # a paused clock uses nothing up
    assert (
        stage(await sla(api, case_id), "handle")["elapsed_fraction"] == frozen["elapsed_fraction"]
    )

    clock.set(sh(2026, 3, 5, 10))
    await act(api, case_id, "resume", "dispatcher")
    handle = stage(await sla(api, case_id), "handle")
    assert handle["status"] == "running"
    assert handle["paused_seconds"] == 2 * 7.5 * HOUR
    assert handle["due_local"] == local_iso(2026, 3, 9, 18)  # Thursday → next Monday
    assert handle["elapsed_fraction"] == pytest.approx(8.5 / 29.5, abs=1e-4)
    kinds = [(kind, due) for kind, _, due in pending(api.ctx, case_id)]
    assert kinds[-1] == ("red", sh(2026, 3, 9, 18))

    trail = [(e.action, e.from_state, e.to_state) for e in events(api.ctx, case_id)]
    assert ("suspend", "in_progress", "suspended") in trail
    assert ("resume", "suspended", "in_progress") in trail


async def test_a_natural_clock_moves_by_natural_time(api, clock):
    case_id = await in_progress(api, handle="2h", urgency="urgent")
    clock.advance(minutes=30)
    await act(api, case_id, "suspend", "supervisor", reason="雨天暂停作业")
    clock.advance(hours=15)  # overnight counts for a natural clock's pause too
    await act(api, case_id, "resume", "handler", DEPT)
    handle = stage(await sla(api, case_id), "handle")
    assert handle["paused_seconds"] == 15 * HOUR
    assert handle["due_at"] == "2026-03-02T18:00:00Z"  # 11:00 local + 15 h, in UTC


async def test_an_approved_extension_moves_the_deadline(api, clock):
    case_id = await in_progress(api)
    await act(api, case_id, "request_extension", "handler", DEPT, duration="2wd", reason="需协调")
    assert stage(await sla(api, case_id), "handle")["due_local"] == local_iso(2026, 3, 5, 18)
    await act(api, case_id, "approve_extension", "dispatcher", note="同意")
    handle = stage(await sla(api, case_id), "handle")
    assert handle["due_local"] == local_iso(2026, 3, 9, 18)
    assert handle["extensions"] == ["2wd"]
    assert pending(api.ctx, case_id)[-1] == ("red", "handle", sh(2026, 3, 9, 18))
    approved = [e for e in events(api.ctx, case_id) if e.action == "approve_extension"]
    assert approved[0].data["duration"] == "2wd"

    await act(api, case_id, "request_extension", "handler", DEPT, duration="1wd", reason="再延")
    await act(api, case_id, "reject_extension", "supervisor", reason="不予延期")
    handle = stage(await sla(api, case_id), "handle")
    assert handle["due_local"] == local_iso(2026, 3, 9, 18) and handle["extensions"] == ["2wd"]


async def test_an_extension_after_the_breach_sets_a_new_red_timer(api, clock):
    case_id = await in_progress(api, handle="4wh", department=STREET)  # due Monday 15:00
    clock.set(sh(2026, 3, 2, 15))
    report = api.ctx.sweeper.sweep(clock.now())
    assert report.fired == 2  # the reminder and the escalation
    assert pending(api.ctx, case_id)[0][0] == "escalate"

    await act(api, case_id, "request_extension", "handler", STREET, duration="1wd", reason="需")
    await act(api, case_id, "approve_extension", "dispatcher")
    handle = stage(await sla(api, case_id), "handle")
    assert handle["due_local"] == local_iso(2026, 3, 3, 15)
    assert handle["light"] == "green"
    # The yellow moment moved into the future, so the reminder goes out again.
    assert [k for k, _, _ in pending(api.ctx, case_id)] == ["yellow", "red"]


async def test_resuming_a_breached_case_continues_the_ladder_after_the_grace(api, clock):
    case_id = await in_progress(api, handle="4wh", department=STREET)
    clock.set(sh(2026, 3, 2, 15))
    api.ctx.sweeper.sweep(clock.now())
    await act(api, case_id, "suspend", "dispatcher", reason="等待")
    assert pending(api.ctx, case_id) == []
    clock.set(sh(2026, 3, 2, 16))
    await act(api, case_id, "resume", "dispatcher")
    # Still past the deadline (moved by the hour paused): the next step after the grace.
    assert pending(api.ctx, case_id) == [("escalate", "handle", sh(2026, 3, 3, 16))]
