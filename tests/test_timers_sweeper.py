"""The sweeper: due timers fire once through the case service, stale ones are dropped, a
lease keeps claimed rows from a second claimer, failures retry and end as incidents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sla_support import act, auth, events, pending, sh, timers

from engine.db import new_session
from engine.errors import Forbidden
from engine.timers.leases import claim_due
from engine.timers.sweeper import SweepConfig, Sweeper
from engine.users.models import Principal, Role
from web.sweeps import PURGE_JOB, SWEEP_JOB, WAKE_JOB

DEPT = "HW-01"


async def in_progress(api, department: str = DEPT) -> int:
    case = await api.file()
    await act(api, case["id"], "dispatch", "dispatcher", department=department)
    await act(api, case["id"], "accept", "handler", department)
    return case["id"]  # handle: 1wd from Monday 09:00, due Tuesday 18:00


def actions(ctx, case_id: int) -> list[str]:
    return [e.action for e in events(ctx, case_id)]


async def test_yellow_reminds_and_red_escalates_each_once(api, clock):
    case_id = await in_progress(api)
    sweeper = api.ctx.sweeper
    assert sweeper.sweep(clock.now()).claimed == 0
    # 1wd from Monday 09:00 = 14.5 working hours; yellow at 80 % = 11.6 h: Tuesday 15:06.
    assert pending(api.ctx, case_id) == [
        ("yellow", "handle", sh(2026, 3, 3, 15, 6)),
        ("red", "handle", sh(2026, 3, 3, 18)),
    ]
    assert sweeper.next_due(clock.now()) == sh(2026, 3, 3, 15, 6)

    clock.set(sh(2026, 3, 3, 15, 6))
    report = sweeper.sweep(clock.now())
    assert (report.claimed, report.fired, report.dropped) == (1, 1, 0)
    assert sweeper.sweep(clock.now()).claimed == 0
    remind = events(api.ctx, case_id)[-1]
    assert remind.action == "remind" and remind.actor == "system"
    assert remind.data["stage"] == "handle" and "2026-03-03 18:00" in remind.data["note"]

    clock.set(sh(2026, 3, 3, 18))
    assert sweeper.sweep(clock.now()).fired == 1
    clock.advance(hours=1)
    assert sweeper.sweep(clock.now()).claimed == 0
    assert actions(api.ctx, case_id).count("escalate") == 1
    assert actions(api.ctx, case_id).count("remind") == 1
    fired = {t.kind: t for t in timers(api.ctx, case_id) if t.status == "fired"}
    assert set(fired) == {"yellow", "red"}
    assert fired["red"].fired_at == sh(2026, 3, 3, 18)


async def test_timers_of_a_finished_stage_are_dropped_not_fired(api, clock):
    case_id = await in_progress(api)
    await act(api, case_id, "resolve", "handler", DEPT, result="已清运")
    handle = [t for t in timers(api.ctx, case_id) if t.stage == "handle"]
    assert {t.status for t in handle} == {"dropped"}
    assert {t.outcome for t in handle} == {"stage ended"}
    clock.set(sh(2026, 3, 10, 9))  # long after every deadline: only verify's timers fire
    api.ctx.sweeper.sweep(clock.now())
    escalations = [e for e in events(api.ctx, case_id) if e.action == "escalate"]
    assert [e.data["stage"] for e in escalations] == ["verify"]


async def test_a_stale_generation_is_dropped_by_the_sweeper(api, clock):
    """Belt and braces: a timer left pending for an earlier run of the stage never fires."""
    case_id = await in_progress(api)
    await act(api, case_id, "resolve", "handler", DEPT, result="已清运")
    await act(api, case_id, "verify", "grid_worker", "01010101", passed=False)  # handle run 2
    with new_session(api.ctx.db) as session, session.begin():
        stale = next(
            t
            for t in timers(api.ctx, case_id)
            if (t.stage, t.generation, t.kind) == ("handle", 1, "yellow")
        )
        stale.status = "pending"
        session.add(stale)
    clock.set(sh(2026, 3, 3, 15, 6))
    report = api.ctx.sweeper.sweep(clock.now())
    assert report.dropped == 1 and report.fired == 1  # run 2's yellow fires, run 1's is dropped
    assert [t.outcome for t in timers(api.ctx, case_id) if t.id == stale.id] == ["stale generation"]
    assert actions(api.ctx, case_id).count("remind") == 1


async def test_a_leased_timer_waits_for_its_lease_then_fires_once(api, clock):
    case_id = await in_progress(api)
    clock.set(sh(2026, 3, 3, 18))
    with api.ctx.db.begin() as conn:  # another sweeper claims both timers, then dies
        claimed = claim_due(conn, clock.now(), clock.now() + timedelta(minutes=5), 10)
    assert len(claimed) == 2
    assert api.ctx.sweeper.sweep(clock.now()).claimed == 0
    clock.advance(minutes=5, seconds=1)
    assert api.ctx.sweeper.sweep(clock.now()).fired == 2
    assert actions(api.ctx, case_id).count("escalate") == 1


async def test_failures_back_off_then_become_an_incident(api, clock, monkeypatch):
    case_id = await in_progress(api)
    sweeper = Sweeper(api.ctx.cases, SweepConfig(max_attempts=3))

    def broken(*args, **kwargs):
        raise RuntimeError("webhook store unavailable")

    monkeypatch.setattr(api.ctx.cases, "act", broken)
    clock.set(sh(2026, 3, 3, 15, 6))
    assert sweeper.sweep(clock.now()).failed == 1
    assert sweeper.sweep(clock.now()).claimed == 0  # backing off: 30 s
    clock.advance(seconds=31)
    assert sweeper.sweep(clock.now()).failed == 1  # then 60 s
    clock.advance(seconds=61)
    report = sweeper.sweep(clock.now())
    assert report.failed == 1 and report.incidents == 1
    [timer] = [t for t in timers(api.ctx, case_id) if t.kind == "yellow" and t.stage == "handle"]
    assert timer.status == "incident" and timer.attempts == 3
    assert timer.last_error == "RuntimeError: webhook store unavailable"

    admin = auth(api.ctx, "admin")
    listed = (await api.client.get("/api/v1/admin/incidents", headers=admin)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == timer.id
    health = (await api.client.get("/healthz", headers=admin)).json()
    assert any("incident" in w for w in health["warnings"])
    denied = await api.client.get("/api/v1/admin/incidents", headers=auth(api.ctx, "supervisor"))
    assert denied.status_code == 403

    monkeypatch.undo()
    retried = await api.client.post(f"/api/v1/admin/incidents/{timer.id}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert sweeper.sweep(clock.now()).fired == 1
    again = await api.client.post(f"/api/v1/admin/incidents/{timer.id}/retry", headers=admin)
    assert again.status_code == 409
    assert actions(api.ctx, case_id).count("remind") == 1


async def test_dismissing_an_incident(api, clock, monkeypatch):
    await in_progress(api)
    sweeper = Sweeper(api.ctx.cases, SweepConfig(max_attempts=1))
    monkeypatch.setattr(api.ctx.cases, "act", lambda *a, **k: 1 / 0)
    clock.set(sh(2026, 3, 3, 15, 6))
    assert sweeper.sweep(clock.now()).incidents == 1
    admin = auth(api.ctx, "admin")
    [incident] = (await api.client.get("/api/v1/admin/incidents", headers=admin)).json()["items"]
    done = await api.client.post(f"/api/v1/admin/incidents/{incident['id']}/dismiss", headers=admin)
    assert done.json()["status"] == "dropped" and done.json()["outcome"].startswith("dismissed")
    assert (await api.client.get("/api/v1/admin/incidents", headers=admin)).json()["total"] == 0


async def test_only_the_system_may_fire_a_timer(api, clock):
    case_id = await in_progress(api)
    [yellow, _] = [t for t in timers(api.ctx, case_id) if t.status == "pending"]
    response = await api.client.post(
        f"/api/v1/cases/{case_id}/actions/escalate",
        json={"timer": str(yellow.id)},
        headers=auth(api.ctx, "supervisor"),
    )
    assert response.status_code == 403
    with pytest.raises(Forbidden):
        api.ctx.cases.act(
            Principal("s", Role.supervisor, "00"), case_id, "escalate", {"timer": "1"}
        )
    assert [t.status for t in timers(api.ctx, case_id) if t.id == yellow.id] == ["pending"]


async def test_a_backlog_drains_in_batches(api, clock):
    ids = [await in_progress(api) for _ in range(5)]
    sweeper = Sweeper(api.ctx.cases, SweepConfig(batch=2, max_batches=2))
    clock.set(sh(2026, 3, 3, 15, 6))
    assert sweeper.sweep(clock.now()).fired == 4
    assert sweeper.sweep(clock.now()).fired == 1
    assert all(actions(api.ctx, i).count("remind") == 1 for i in ids)


async def test_the_driver_ticks_at_the_clock_and_wakes_for_the_next_due(api, clock):
    case_id = await in_progress(api)
    driver = api.ctx.sweeps
    await api.ctx.start()
    try:
        scheduler = driver.scheduler
        assert scheduler is not None and scheduler.running
        assert {SWEEP_JOB, PURGE_JOB} <= {job.id for job in scheduler.get_jobs()}
        clock.set(sh(2026, 3, 3, 15, 5, 58))  # the reminder is due in 2 s, before the next tick
        driver.tick()
        assert scheduler.get_job(WAKE_JOB) is not None
    finally:
        await api.ctx.stop()
    assert driver.scheduler is None
    clock.advance(seconds=2)
    assert driver.tick().fired == 1
    assert "remind" in actions(api.ctx, case_id)
